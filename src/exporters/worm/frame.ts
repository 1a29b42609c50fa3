// Archive format v2 (docs/archive-format.md): length-framed binary entries.
//
//   segment content = "" | HEADER entry*
//   HEADER          = 89 56 4c 4f 47 0d 0a 02          ("\x89VLOG\r\n" + version 2)
//   entry           = length:u32be  hash:32  body
//   body            = kind:u8  seq:u64be  at:u64be  prev:32  payload
//
// `length` counts the body's bytes. kind 1 is a record, whose payload is the
// protobuf ExportLogsServiceRequest holding just that record with its resource
// and scope (encodeRecordRequest); kind 2 is a note, whose payload is the note
// as UTF-8 JSON. `at` is the append time in ms since the epoch.
// hash = SHA-256(0x00 || body), the RFC 6962 leaf hash, as in v1 the entry's
// Merkle leaf; `prev` is the previous entry's hash (32 zero bytes first).
// The header is written with the segment's first entry, so an empty segment
// (a heartbeat) is empty in both formats.
import { hash as oneShotHash } from 'node:crypto';

export const V2_HEADER = Buffer.from([0x89, 0x56, 0x4c, 0x4f, 0x47, 0x0d, 0x0a, 0x02]);
export const FRAME_PREFIX = 4 + 32;
/** kind + seq + at + prev. */
export const BODY_HEAD = 1 + 8 + 8 + 32;
/** No entry is this large (a record is at most the receiver's request limit); a longer length is corrupt framing. */
export const MAX_BODY = 256 * 1024 * 1024;
/** The largest record payload an entry can hold (v1 lines are held to it too): the worm refuses a larger record rather than write an entry no reader accepts. */
export const MAX_RECORD_PAYLOAD = MAX_BODY - BODY_HEAD;
export const KIND_RECORD = 1;
export const KIND_NOTE = 2;

const TWO_32 = 2 ** 32;

export interface EncodedFrame {
  frame: Buffer;
  /** The entry hash, 32 bytes (the Merkle leaf and the next entry's prev). */
  raw: Buffer;
}

/** One v2 entry around `payload`, chained to `prev` (32 bytes). */
export function encodeFrame(kind: typeof KIND_RECORD | typeof KIND_NOTE, seq: number, at: number, prev: Uint8Array, payload: Uint8Array): EncodedFrame {
  const frame = Buffer.allocUnsafe(frameSize(payload.length));
  return { frame, raw: writeFrame(frame, 0, kind, seq, at, prev, payload) };
}

/** Bytes of the entry around a payload of `payloadLength` bytes. */
export function frameSize(payloadLength: number): number {
  return FRAME_PREFIX + BODY_HEAD + payloadLength;
}

/**
 * Writes one v2 entry at `pos` of `out` (frameSize(payload.length) bytes there), so a
 * group of entries goes into one buffer without a copy per entry; returns the entry hash.
 */
export function writeFrame(out: Buffer, pos: number, kind: typeof KIND_RECORD | typeof KIND_NOTE, seq: number, at: number, prev: Uint8Array, payload: Uint8Array): Buffer {
  const length = BODY_HEAD + payload.length;
  out.writeUInt32BE(length, pos);
  const o = pos + FRAME_PREFIX;
  out[o] = kind;
  out.writeUInt32BE(Math.floor(seq / TWO_32), o + 1);
  out.writeUInt32BE(seq >>> 0, o + 5);
  out.writeUInt32BE(Math.floor(at / TWO_32), o + 9);
  out.writeUInt32BE(at >>> 0, o + 13);
  out.set(prev, o + 17);
  out.set(payload, o + BODY_HEAD);
  // The byte before the body is 0x00 while hashing (the leaf input is 0x00 ‖ body), then the hash's last byte.
  out[o - 1] = 0;
  const raw = oneShotHash('sha256', out.subarray(o - 1, o + length), 'buffer');
  raw.copy(out, pos + 4);
  return raw;
}

export function readU64(buf: Buffer, at: number): number {
  return buf.readUInt32BE(at) * TWO_32 + buf.readUInt32BE(at + 4);
}

/** The header bytes present at the start of `content` (a v2 segment), or false. */
export function startsWithHeader(content: Buffer): boolean {
  return content.length >= V2_HEADER.length && V2_HEADER.equals(content.subarray(0, V2_HEADER.length));
}

/** A v2 content shorter than the header that could be its torn beginning. */
export function isTornHeader(content: Buffer): boolean {
  return content.length > 0 && content.length < V2_HEADER.length && V2_HEADER.subarray(0, content.length).equals(content);
}

/**
 * Where the frame at `pos` ends, or why it cannot be read: 'short' when the
 * content ends inside it (a torn write), a reason when its length is impossible.
 */
export function frameEnd(content: Buffer, pos: number): number | 'short' | string {
  if (content.length - pos < 4) return 'short';
  const length = content.readUInt32BE(pos);
  if (length < BODY_HEAD || length > MAX_BODY) return `entry length ${length} is impossible (a body is ${BODY_HEAD}–${MAX_BODY} bytes)`;
  const end = pos + FRAME_PREFIX + length;
  return end > content.length ? 'short' : end;
}
