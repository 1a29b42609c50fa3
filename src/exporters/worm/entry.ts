// Archive format v1 (worm.encoding: json; v2 is frame.ts): one JSON line per entry.
//
//   {"hash":"<64 hex>","entry":{"seq":N,"at":"<ISO time>","prev":"<64 hex>","record":<OTLP JSON>}}\n
//
// `record` is the log record as an OTLP/JSON ExportLogsServiceRequest holding
// just that record, with its resource and scope (so one line stands alone, and
// `jq .entry.record` feeds any OTLP/JSON reader). A `note` takes the place of
// `record` for what the archive itself must say (a repaired crash).
//
// hash = SHA-256(0x00 || entry bytes): the RFC 6962 leaf hash of the bytes of
// the `entry` value exactly as written, i.e. the line from byte 83 (after
// `{"hash":"<64 hex>","entry":`) up to, not including, its final `}`. The same
// hash is the entry's Merkle leaf. `prev` is the previous entry's hash (64
// zeros for the very first), so each entry is chained to its predecessor and no
// entry can be changed, dropped, added or moved without breaking a hash or a link.
import { hash as oneShotHash } from 'node:crypto';
import type { ResourceContext, ScopeContext, VigilRecord } from '../../pipeline/record.js';
import { logRecordJsonText, REQUEST_HEAD, REQUEST_TAIL, resourceLogsFrame, scopeLogsFrame } from '../../otlp/json.js';

export const GENESIS_HASH = '0'.repeat(64);
const LINE_HEAD = '{"hash":"';
const ENTRY_HEAD = '","entry":';
/** Byte offset of the entry JSON within a line. */
export const ENTRY_OFFSET = LINE_HEAD.length + 64 + ENTRY_HEAD.length;
const NEWLINE = 0x0a;
const CLOSE_BRACE = 0x7d;

export function sha256(data: Uint8Array): Buffer {
  return oneShotHash('sha256', data, 'buffer');
}

export function sha256Hex(data: Uint8Array | string): string {
  return oneShotHash('sha256', data, 'hex');
}

/**
 * An entry's hash, SHA-256(0x00 || entry), computed without copying: the entry
 * always sits inside its line, so the byte before it (the `:` of `"entry":`) is
 * set to 0x00 for the one synchronous hash call and put back.
 */
export function entryHash(entry: Buffer): Buffer {
  if (entry.byteOffset === 0) return oneShotHash('sha256', Buffer.concat([LEAF_PREFIX, entry]), 'buffer');
  const framed = Buffer.from(entry.buffer, entry.byteOffset - 1, entry.length + 1);
  const saved = framed[0];
  framed[0] = 0;
  try {
    return oneShotHash('sha256', framed, 'buffer');
  } finally {
    framed[0] = saved;
  }
}

const LEAF_PREFIX = Buffer.of(0);

// ---- encoding ---------------------------------------------------------------

/**
 * Encodes records to their OTLP/JSON form, one request per record. Resource and
 * scope JSON is computed once per shared context (records of one Export call
 * share them), which keeps the per-record cost to the log record itself.
 */
export class RecordJsonEncoder {
  private readonly heads = new WeakMap<ResourceContext, WeakMap<ScopeContext, { head: string; tail: string }>>();

  encode(rec: VigilRecord): string {
    let byScope = this.heads.get(rec.resource);
    if (!byScope) this.heads.set(rec.resource, (byScope = new WeakMap()));
    let parts = byScope.get(rec.scope);
    if (!parts) {
      // The text encodeJsonRequest(batchToRequest([rec])) writes around the record.
      const r = resourceLogsFrame(rec.resource.resource, rec.resource.schemaUrl);
      const sc = scopeLogsFrame(rec.scope.scope, rec.scope.schemaUrl);
      parts = { head: REQUEST_HEAD + r.head + sc.head, tail: sc.tail + r.tail + REQUEST_TAIL };
      byScope.set(rec.scope, parts);
    }
    return parts.head + logRecordJsonText(rec.log) + parts.tail;
  }
}

/** What the archive says about itself, in the chain (signed like records). */
/** What the archive says about itself in its chain. */
export type Note = RecoveryNote | ShredNote | KeyRotationNote;

/** The signing key changed here, as the operator asked (`signing.rotate`, `vigil keys rotate`). */
export interface KeyRotationNote {
  kind: 'key rotation';
  /** The key that signed the manifests before this segment. */
  previous_key_id: string;
  key_id: string;
}

export interface RecoveryNote {
  kind: 'recovery';
  /** Bytes cut from a torn tail at start-up (0 when the tail was clean). */
  truncated_bytes: number;
  /** Complete-looking lines found in the cut bytes (never acknowledged, since their group's fsync did not finish). */
  truncated_lines?: number;
  /** When the previous run's last entry was written (ISO), if any. */
  last_entry_at?: string;
  /** False when the segment the previous run had open was missing at restart. */
  open_segment_found: boolean;
  detail?: string;
  /** Recovery: entries from this seq on were written after the last signed checkpoint of the open segment (nothing vouched for them before this seal). */
  unsigned_from_seq?: number;
  unsigned_entries?: number;
  /** Recovery: a signed checkpoint on disk covered entries the archive no longer holds (its tail was deleted). */
  behind_checkpoint?: { segment: number; entries: number; time: string };
}

/** `vigil keys shred`: the data keys of these segments were destroyed (their retention had ended). */
export interface ShredNote {
  kind: 'shred';
  /** Key-encryption keys destroyed (encryption.ts keyring ids). */
  keks: string[];
  /** Segments whose data keys they wrapped. */
  segments: number[];
  /** The cut-off asked for (ISO): retention of every shredded segment ended before it. */
  before: string;
  detail?: string;
}

export interface EncodedEntry {
  /** The whole line, newline included. */
  line: Buffer;
  hash: string;
  /** The hash as 32 bytes (the Merkle leaf). */
  raw: Buffer;
}

let lastAt = NaN;
let lastIso = '';

/** ISO time of `at`, remembered: records of a group are written within the same milliseconds. */
function isoTime(at: number): string {
  if (at !== lastAt) {
    lastIso = new Date(at).toISOString();
    lastAt = at;
  }
  return lastIso;
}

/**
 * Builds one line around `payload`, the UTF-8 bytes of `"record":{…}` or
 * `"note":{…}`. Payloads are bytes from the moment they are encoded: the JSON
 * text is assembled from many small strings, and holding that rope for every
 * record of a batch waiting for its group commit would take several times the
 * memory of the bytes.
 */
export function encodeEntry(seq: number, at: number, prev: string, payload: Buffer): EncodedEntry {
  const head = `{"seq":${seq},"at":"${isoTime(at)}","prev":"${prev}",`; // ASCII: one byte per character
  const length = head.length + payload.length + 1;
  const line = Buffer.allocUnsafe(ENTRY_OFFSET + length + 2);
  line.write(head, ENTRY_OFFSET, 'latin1');
  payload.copy(line, ENTRY_OFFSET + head.length);
  line[ENTRY_OFFSET + length - 1] = CLOSE_BRACE;
  // The byte before the entry is 0x00 while hashing (the RFC 6962 leaf input is 0x00 ‖ entry), then the line's own.
  line[ENTRY_OFFSET - 1] = 0;
  const raw = oneShotHash('sha256', line.subarray(ENTRY_OFFSET - 1, ENTRY_OFFSET + length), 'buffer');
  const hash = raw.toString('hex');
  line.write(LINE_HEAD, 0, 'latin1');
  line.write(hash, LINE_HEAD.length, 'latin1');
  line.write(ENTRY_HEAD, LINE_HEAD.length + 64, 'latin1');
  line[line.length - 2] = CLOSE_BRACE;
  line[line.length - 1] = NEWLINE;
  return { line, hash, raw };
}

export function recordPayload(recordJson: string): Buffer {
  return Buffer.from(`"record":${recordJson}`);
}

export function notePayload(note: Note): Buffer {
  return Buffer.from(`"note":${JSON.stringify(note)}`);
}

// ---- decoding ---------------------------------------------------------------

/** A line split into its parts without parsing the record (fast path for verify). */
export interface LineView {
  /** The hash the line states. */
  hash: string;
  /** The entry bytes the hash covers. */
  entry: Buffer;
  seq: number;
  at: string;
  prev: string;
  kind: 'record' | 'note';
  /** Offset within `entry` where the record / note JSON starts (it ends before the entry's final byte). */
  payloadOffset: number;
}

const ENTRY_HEADER_RE = /^\{"seq":(\d{1,15}),"at":"([0-9T:.Z-]{20,30})","prev":"([0-9a-f]{64})","(record|note)":/;

/** Splits a line (without its newline); returns a reason string when it is not a well-formed entry line. */
export function viewLine(line: Buffer): LineView | string {
  if (line.length < ENTRY_OFFSET + 2) return 'line too short to be an entry';
  if (line.toString('latin1', 0, LINE_HEAD.length) !== LINE_HEAD || line.toString('latin1', LINE_HEAD.length + 64, ENTRY_OFFSET) !== ENTRY_HEAD) {
    return 'line does not start with {"hash":"…","entry":';
  }
  if (line[line.length - 1] !== CLOSE_BRACE) return 'line does not end with }';
  const hash = line.toString('latin1', LINE_HEAD.length, LINE_HEAD.length + 64);
  if (!/^[0-9a-f]{64}$/.test(hash)) return 'stated hash is not 64 lowercase hex digits';
  const entry = line.subarray(ENTRY_OFFSET, line.length - 1);
  const m = ENTRY_HEADER_RE.exec(entry.toString('latin1', 0, Math.min(entry.length, 160)));
  if (!m) return 'entry does not start with {"seq":…,"at":…,"prev":…,"record"|"note":';
  return { hash, entry, seq: Number(m[1]), at: m[2], prev: m[3], kind: m[4] as 'record' | 'note', payloadOffset: m[0].length };
}

/** The parsed entry (for query, prove and notes): the record as OTLP JSON, or the note. */
export interface ParsedEntry {
  seq: number;
  at: string;
  prev: string;
  record?: Record<string, unknown>;
  note?: Note;
}

export function parseEntry(entry: Buffer): ParsedEntry {
  return JSON.parse(entry.toString('utf8')) as ParsedEntry;
}

/** The record's OTLP JSON exactly as archived (the bytes the hash covers), as text. */
export function payloadText(v: LineView): string {
  return v.entry.toString('utf8', v.payloadOffset, v.entry.length - 1);
}

/**
 * Iterates the lines of a buffer. The last element has `complete: false` when
 * the buffer does not end with a newline (a torn tail).
 */
export function* splitLines(buf: Buffer): Generator<{ line: Buffer; start: number; complete: boolean }> {
  let start = 0;
  while (start < buf.length) {
    const nl = buf.indexOf(NEWLINE, start);
    if (nl < 0) {
      yield { line: buf.subarray(start), start, complete: false };
      return;
    }
    yield { line: buf.subarray(start, nl), start, complete: true };
    start = nl + 1;
  }
}
