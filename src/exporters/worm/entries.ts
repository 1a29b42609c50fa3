// Reading a segment's entries whatever their format: v1 JSON lines (entry.ts)
// or v2 length-framed binary entries (frame.ts). A segment holds one format;
// its content says which (v2 begins with the v2 header, v1 with `{`), so the
// readers (verify, query, prove, export, recovery) share one walk and one view.
import { decodeProtobufRequest, encodeProtobufRequest, type ExportRequestMessage } from '../../otlp/convert.js';
import { decodeJsonRequest, encodeJsonRequest } from '../../otlp/json.js';
import { type Note, splitLines, viewLine } from './entry.js';
import type { SegmentFormat } from './layout.js';
import { BODY_HEAD, FRAME_PREFIX, KIND_NOTE, KIND_RECORD, V2_HEADER, frameEnd, isTornHeader, readU64, startsWithHeader } from './frame.js';

/** The entry format of a segment's (decompressed, decrypted) content. */
export function contentFormat(content: Buffer): SegmentFormat {
  return startsWithHeader(content) || isTornHeader(content) ? 2 : 1;
}

/** One entry's bytes as stored: a line without its newline (v1) or a whole frame (v2). */
export interface EntryUnit {
  format: SegmentFormat;
  bytes: Buffer;
  /** Offsets of the unit in the content; `end` includes a v1 line's newline. */
  start: number;
  end: number;
  /** False when the content ends inside it (a torn write). */
  complete: boolean;
  /** v2: the framing is broken here, so nothing after `start` can be read as entries. */
  broken?: string;
}

/** The entries of a segment's content, in order; a torn tail comes last with `complete: false`. */
export function* splitEntries(content: Buffer): Generator<EntryUnit> {
  if (contentFormat(content) === 1) {
    for (const { line, start, complete } of splitLines(content)) {
      yield { format: 1, bytes: line, start, end: complete ? start + line.length + 1 : content.length, complete };
    }
    return;
  }
  if (!startsWithHeader(content)) {
    yield { format: 2, bytes: content, start: 0, end: content.length, complete: false };
    return;
  }
  let pos = V2_HEADER.length;
  while (pos < content.length) {
    const end = frameEnd(content, pos);
    if (end === 'short') {
      yield { format: 2, bytes: content.subarray(pos), start: pos, end: content.length, complete: false };
      return;
    }
    if (typeof end === 'string') {
      yield { format: 2, bytes: content.subarray(pos), start: pos, end: content.length, complete: true, broken: end };
      return;
    }
    yield { format: 2, bytes: content.subarray(pos, end), start: pos, end, complete: true };
    pos = end;
  }
}

/** An entry split into its fields without decoding its payload. */
export interface EntryView {
  format: SegmentFormat;
  /** The hash the entry states (hex). */
  hash: string;
  /** The bytes the hash covers: hash = SHA-256(0x00 || entry). */
  entry: Buffer;
  seq: number;
  /** Append time (ISO, as v1 writes it). */
  at: string;
  /** The previous entry's hash (hex). */
  prev: string;
  kind: 'record' | 'note';
  /** The record (v1: OTLP JSON text; v2: protobuf request) or the note (JSON text). */
  payload: Buffer;
}

const MAX_TIME = 8.64e15;

/** Splits one unit into its fields; returns a reason string when it is not a well-formed entry. */
export function viewEntry(u: EntryUnit): EntryView | string {
  if (u.format === 1) {
    const v = viewLine(u.bytes);
    if (typeof v === 'string') return v;
    return { format: 1, hash: v.hash, entry: v.entry, seq: v.seq, at: v.at, prev: v.prev, kind: v.kind, payload: v.entry.subarray(v.payloadOffset, v.entry.length - 1) };
  }
  if (u.broken) return u.broken;
  const f = u.bytes;
  if (f.length < FRAME_PREFIX + BODY_HEAD || f.readUInt32BE(0) !== f.length - FRAME_PREFIX) return 'entry frame is incomplete';
  const body = f.subarray(FRAME_PREFIX);
  const kindByte = body[0];
  if (kindByte !== KIND_RECORD && kindByte !== KIND_NOTE) return `entry kind ${kindByte} is neither a record (1) nor a note (2)`;
  if (body.readUInt32BE(1) >= 1 << 21 || body.readUInt32BE(9) >= 1 << 21) return 'seq or append time beyond 2^53';
  const seq = readU64(body, 1);
  const atMs = readU64(body, 9);
  if (atMs > MAX_TIME) return `append time ${atMs} ms is not a date`;
  return {
    format: 2,
    hash: f.toString('hex', 4, FRAME_PREFIX),
    entry: body,
    seq,
    at: new Date(atMs).toISOString(),
    prev: body.toString('hex', 17, BODY_HEAD),
    kind: kindByte === KIND_RECORD ? 'record' : 'note',
    payload: body.subarray(BODY_HEAD),
  };
}

/** A note entry's note. Throws SyntaxError on a payload that is not JSON. */
export function noteOf(v: EntryView): Note {
  return JSON.parse(v.payload.toString('utf8')) as Note;
}

/** A record entry's record as OTLP JSON text (v1: byte for byte as archived; v2: rendered from its protobuf). */
export function recordJsonText(v: EntryView): string {
  return v.format === 1 ? v.payload.toString('utf8') : encodeJsonRequest(decodeProtobufRequest(v.payload));
}

/** A record entry's record as a decoded request. */
export function recordRequest(v: EntryView): ExportRequestMessage {
  return v.format === 1 ? decodeJsonRequest(v.payload.toString('utf8')).request : decodeProtobufRequest(v.payload);
}

/** A record entry's record as protobuf ExportLogsServiceRequest bytes (v2: as archived; v1: encoded from its JSON). */
export function recordProtobuf(v: EntryView): Uint8Array {
  return v.format === 2 ? v.payload : encodeProtobufRequest(recordRequest(v));
}
