// Hand-written decoders of LogRecord, KeyValue and AnyValue (with ArrayValue and
// KeyValueList), the messages every record is made of. They build exactly what
// protobufjs's generated decoders build (the same classes, own properties,
// defaults, merges, errors and depth limit; test/otlp/wire-decode.test.ts and
// the wire.decode fuzz target compare the two) and read primitives with
// protobufjs's own Reader, but they are cheaper where protobufjs is generic:
//   - an AnyValue member is set by deleting only the member set before, where
//     protobufjs's oneof setter deletes all six others on every value (a quarter
//     of protobufjs's decode time on access-log records);
//   - attribute keys, which repeat across records, are read once per distinct
//     byte string (a small cache) instead of decoded each time;
//   - a LogRecord's attributes and body (most of its objects) are only walked
//     when the request is received, which refuses what protobufjs refuses, and
//     decoded from the record's bytes when something first reads them
//     (decodeLogRecordLazy; record.ts "records decoded lazily"), so a pipeline
//     that only archives and forwards builds none of them.
import { isUtf8 } from 'node:buffer';
import protobuf from 'protobufjs';
import type { AnyValue, ArrayValue, KeyValue, KeyValueList, LogRecord, UndecodedParts } from '../pipeline/record.js';
import { attachUndecodedParts, undecodedParts } from '../pipeline/record.js';
import { root } from './schema.js';

type Reader = protobuf.Reader;
type Ctor<T> = new () => T;

const ctorOf = <T>(name: string): Ctor<T> => root.lookupType(name).ctor as unknown as Ctor<T>;
const LogRecordCtor = ctorOf<LogRecord>('opentelemetry.proto.logs.v1.LogRecord');
const KeyValueCtor = ctorOf<KeyValue>('opentelemetry.proto.common.v1.KeyValue');
const AnyValueCtor = ctorOf<AnyValue>('opentelemetry.proto.common.v1.AnyValue');
const ArrayValueCtor = ctorOf<ArrayValue>('opentelemetry.proto.common.v1.ArrayValue');
const KeyValueListCtor = ctorOf<KeyValueList>('opentelemetry.proto.common.v1.KeyValueList');

const readStrict = (protobuf.util as unknown as { utf8: { readStrict(b: Uint8Array, s: number, e: number): string } }).utf8.readStrict;

const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

function checkDepth(depth: number): void {
  if (depth > protobuf.Reader.recursionLimit) throw Error('max depth exceeded');
}

/** Limits the reader to the next `length` bytes, as a generated decoder does; returns the previous limit. */
function enter(r: Reader, length: number): number {
  const end = r.pos + length;
  if (end > r.len) throw RangeError('index out of range');
  const saved = r.len;
  r.len = end;
  return saved;
}

function leave(r: Reader, saved: number): void {
  if (r.pos !== r.len) throw RangeError('index out of range');
  r.len = saved;
}

// ---- encodings protobufjs reads leniently --------------------------------------------
//
// protobufjs 8 reads tags, lengths and strings as strictly as the protobuf
// specification, but not every varint: it skips an unknown varint of any length,
// and reads a 10-byte varint whose last byte holds more than the 64th bit (an int64,
// a bool, a 32-bit value), where the specification and other decoders (Go's, the
// Collector's) refuse both as overflows. Bytes holding one decode alike on both paths
// here, but spliced as they came the next reader of the export or of the archive entry
// would refuse them: a record holding one is encoded from its objects instead (its
// frame says `lenient`), and so is such a resource or scope. Groups (deprecated; their
// insides are skipped without these checks) count as lenient too. No OTLP encoder
// writes any of these.

let lenient = false;

/** Whether anything read since the last call was encoded in a way protobufjs reads leniently (see above); resets. */
export function takeLenient(): boolean {
  const l = lenient;
  lenient = false;
  return l;
}

/** Notes a varint of more than 10 bytes, or of 10 whose last byte holds more than the 64th bit. */
function checkVarint(r: Reader): void {
  const b = r.buf;
  const start = r.pos;
  const end = Math.min(r.len, start + 10);
  let p = start;
  while (p < end && b[p] >= 0x80) p++;
  if (p - start === 9 ? b[p] > 1 : p - start > 9) lenient = true;
}

/** Reader.skipType, noting what protobufjs skips leniently: an overflowing varint, a group. */
function skipField(r: Reader, wire: number, depth: number, field: number): void {
  if (wire === VARINT) checkVarint(r);
  else if (wire === 3) lenient = true;
  r.skipType(wire, depth, field);
}

/**
 * Walks a Resource or InstrumentationScope protobufjs has decoded already (so it
 * is well-formed), noting a lenient encoding anywhere in it: its attributes
 * (field `attributesField`) are walked as KeyValues, its message of strings
 * (`stringsField`: a Resource's entity refs) one level in, any other field by its prefix.
 */
export function walkContext(bytes: Uint8Array, attributesField: number, stringsField: number, depth: number): void {
  const r = protobuf.Reader.create(bytes);
  while (r.pos < r.len) {
    const t = r.tag();
    const wire = t & 7;
    const field = t >>> 3;
    if (wire === LEN && field === attributesField) {
      decodeKeyValue(r, r.size(), depth + 1);
      continue;
    }
    if (wire === LEN && field === stringsField) {
      const saved = enter(r, r.size());
      while (r.pos < r.len) {
        const t2 = r.tag();
        skipField(r, t2 & 7, depth + 1, t2 >>> 3);
      }
      leave(r, saved);
      continue;
    }
    skipField(r, wire, depth, field);
  }
}

// ---- attribute keys ----------------------------------------------------------------

const KEY_CACHE_SIZE = 1024;
const MAX_CACHED_KEY = 64;
const keyBytes: (Uint8Array | undefined)[] = new Array(KEY_CACHE_SIZE).fill(undefined);
const keyTexts: string[] = new Array(KEY_CACHE_SIZE).fill('');

/** Reader.stringVerify for a KeyValue key, answered from the cache when the same bytes were read before. */
function readKey(r: Reader): string {
  const length = r.size();
  const start = r.pos;
  const end = start + length;
  if (end > r.len) throw RangeError(`index out of range: ${start} + ${length} > ${r.len}`);
  r.pos = end;
  return keyText(r.buf, start, end);
}

/** The text of the key in b[start, end), from the cache or decoded (strictly: throws on invalid UTF-8, as protobufjs does) and cached. */
function keyText(b: Uint8Array, start: number, end: number): string {
  const length = end - start;
  if (length === 0 || length > MAX_CACHED_KEY) return readStrict(b, start, end);
  const slot = (length * 31 + b[start] * 7 + b[end - 1] * 3 + b[start + (length >> 1)]) & (KEY_CACHE_SIZE - 1);
  const cached = keyBytes[slot];
  if (cached !== undefined && cached.length === length) {
    let i = 0;
    while (i < length && cached[i] === b[start + i]) i++;
    if (i === length) return keyTexts[slot];
  }
  const text = readStrict(b, start, end);
  keyBytes[slot] = Uint8Array.prototype.slice.call(b, start, end); // a copy: Buffer#slice would be a view holding the whole request
  keyTexts[slot] = text;
  return text;
}

// ---- the messages ------------------------------------------------------------------

const MEMBERS = ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'] as const;
type Member = (typeof MEMBERS)[number];

function ownMember(m: AnyValue): Member | undefined {
  for (const k of MEMBERS) if (Object.hasOwn(m, k)) return k;
  return undefined;
}

/** Records that member `k` is now set, deleting the one set before (protobufjs's oneof setter deletes every other member). */
function swap(o: Record<Member, unknown>, set: Member | undefined, k: Member): Member {
  if (set !== undefined && set !== k) delete o[set];
  return k;
}

export function decodeAnyValue(r: Reader, length: number, depth: number, into?: AnyValue | null): AnyValue {
  checkDepth(depth);
  const saved = enter(r, length);
  const m = into || new AnyValueCtor();
  const o = m as Record<Member, unknown>;
  // The member set so far: protobufjs's oneof setter deletes every other member on each set; deleting the one that is there is the same.
  let set: Member | undefined = into ? ownMember(m) : undefined;
  while (r.pos < r.len) {
    const t = r.tag();
    const wire = t & 7;
    const field = t >>> 3;
    switch (field) {
      case 1:
        if (wire !== LEN) break;
        o.stringValue = r.stringVerify();
        set = swap(o, set, 'stringValue');
        continue;
      case 2:
        if (wire !== VARINT) break;
        checkVarint(r);
        o.boolValue = r.bool();
        set = swap(o, set, 'boolValue');
        continue;
      case 3:
        if (wire !== VARINT) break;
        checkVarint(r);
        o.intValue = r.int64();
        set = swap(o, set, 'intValue');
        continue;
      case 4:
        if (wire !== FIXED64) break;
        o.doubleValue = r.double();
        set = swap(o, set, 'doubleValue');
        continue;
      case 5:
        if (wire !== LEN) break;
        o.arrayValue = decodeArrayValue(r, r.size(), depth + 1, m.arrayValue);
        set = swap(o, set, 'arrayValue');
        continue;
      case 6:
        if (wire !== LEN) break;
        o.kvlistValue = decodeKeyValueList(r, r.size(), depth + 1, m.kvlistValue);
        set = swap(o, set, 'kvlistValue');
        continue;
      case 7:
        if (wire !== LEN) break;
        o.bytesValue = r.bytes();
        set = swap(o, set, 'bytesValue');
        continue;
      default:
    }
    skipField(r, wire, depth, field);
  }
  leave(r, saved);
  return m;
}

function decodeArrayValue(r: Reader, length: number, depth: number, into?: ArrayValue | null): ArrayValue {
  return decodeValues(r, length, depth, into || new ArrayValueCtor(), decodeAnyValue);
}

function decodeKeyValueList(r: Reader, length: number, depth: number, into?: KeyValueList | null): KeyValueList {
  return decodeValues(r, length, depth, into || new KeyValueListCtor(), decodeKeyValue);
}

/** ArrayValue and KeyValueList alike: one repeated message field, `values` (1). */
function decodeValues<M extends { values?: T[] }, T>(r: Reader, length: number, depth: number, m: M, element: (r: Reader, length: number, depth: number) => T): M {
  checkDepth(depth);
  const saved = enter(r, length);
  while (r.pos < r.len) {
    const t = r.tag();
    const wire = t & 7;
    const field = t >>> 3;
    if (field === 1 && wire === LEN) {
      if (!(m.values && m.values.length)) m.values = [];
      m.values!.push(element(r, r.size(), depth + 1));
      continue;
    }
    skipField(r, wire, depth, field);
  }
  leave(r, saved);
  return m;
}

function decodeKeyValue(r: Reader, length: number, depth: number): KeyValue {
  checkDepth(depth);
  const saved = enter(r, length);
  const m = new KeyValueCtor();
  while (r.pos < r.len) {
    const t = r.tag();
    const wire = t & 7;
    const field = t >>> 3;
    if (wire === LEN) {
      if (field === 1) {
        const key = readKey(r);
        if (key.length) m.key = key;
        else delete (m as Partial<KeyValue>).key;
        continue;
      }
      if (field === 2) {
        m.value = decodeAnyValue(r, r.size(), depth + 1, m.value);
        continue;
      }
    }
    skipField(r, wire, depth, field);
  }
  leave(r, saved);
  return m;
}

/** LogRecord, as protobufjs's generated decoder reads it, on `r` at nesting `depth`, everything decoded at once (for consumers that read every record). */
export function decodeLogRecord(r: Reader, length: number, depth: number): LogRecord {
  checkDepth(depth);
  const saved = enter(r, length);
  const m = new LogRecordCtor();
  while (r.pos < r.len) {
    const t = r.tag();
    const wire = t & 7;
    const field = t >>> 3;
    if (wire === LEN && field === 5) m.body = decodeAnyValue(r, r.size(), depth + 1, m.body);
    else if (wire === LEN && field === 6) {
      if (!(m.attributes && m.attributes.length)) m.attributes = [];
      m.attributes.push(decodeKeyValue(r, r.size(), depth + 1));
    } else if (!readScalarField(r, m, field, wire)) skipField(r, wire, depth, field);
  }
  leave(r, saved);
  return m;
}

/**
 * Reads LogRecord field `field` into `m` as protobufjs's generated decoder does,
 * when it is one of the record's scalar fields (not body, not attributes) sent
 * with its wire type; false otherwise (the caller skips it as unknown).
 */
function readScalarField(r: Reader, m: LogRecord, field: number, wire: number): boolean {
  const o = m as unknown as Record<string, unknown>;
  let v: unknown;
  switch (field) {
    case 1:
    case 11: {
      if (wire !== FIXED64) return false;
      const time = r.fixed64() as unknown as { low: number; high: number };
      const name = field === 1 ? 'timeUnixNano' : 'observedTimeUnixNano';
      if (time.low || time.high) o[name] = time;
      else delete o[name];
      return true;
    }
    case 2:
      if (wire !== VARINT) return false;
      checkVarint(r);
      if ((v = r.int32())) m.severityNumber = v as number;
      else delete m.severityNumber;
      return true;
    case 3:
      if (wire !== LEN) return false;
      if ((v = r.stringVerify()) && (v as string).length) m.severityText = v as string;
      else delete m.severityText;
      return true;
    case 7:
      if (wire !== VARINT) return false;
      checkVarint(r);
      if ((v = r.uint32())) m.droppedAttributesCount = v as number;
      else delete m.droppedAttributesCount;
      return true;
    case 8:
      if (wire !== FIXED32) return false;
      if ((v = r.fixed32())) m.flags = v as number;
      else delete m.flags;
      return true;
    case 9:
    case 10: {
      if (wire !== LEN) return false;
      const id = r.bytes();
      const name = field === 9 ? 'traceId' : 'spanId';
      if (id.length) o[name] = id;
      else delete o[name];
      return true;
    }
    case 12:
      if (wire !== LEN) return false;
      if ((v = r.stringVerify()) && (v as string).length) m.eventName = v as string;
      else delete m.eventName;
      return true;
    default:
      return false;
  }
}

// ---- validation without objects ---------------------------------------------------
//
// A record's attributes and body are decoded only when first read (below), but a
// malformed request must still be refused as a whole before it is acknowledged.
// These walks read exactly what the decoders above read, with the same Reader
// calls where those build nothing (and a check of the same bytes where they would
// build a string, a Long or a byte view), so they refuse exactly what the
// decoders refuse (truncation, bad varints and wire types, invalid UTF-8, the
// depth limit) and note the same lenient encodings, building no objects.

/** Reader.stringVerify without the string: the same refusals for a length past the end or bytes that are not UTF-8. */
function skipStringVerify(r: Reader): void {
  const length = r.size();
  const start = r.pos;
  const end = start + length;
  if (end > r.len) throw RangeError(`index out of range: ${start} + ${length} > ${r.len}`);
  r.pos = end;
  const b = r.buf;
  let i = start;
  // ASCII (most of what is sent) four bytes at a time; from the first other byte on, Node's validator.
  while (i + 4 <= end && ((b[i] | b[i + 1] | b[i + 2] | b[i + 3]) & 0x80) === 0) i += 4;
  while (i < end && b[i] < 0x80) i++;
  if (i < end && !isUtf8(b.subarray(i, end))) throw Error('invalid utf-8');
}

function walkAnyValue(r: Reader, length: number, depth: number): void {
  checkDepth(depth);
  const saved = enter(r, length);
  while (r.pos < r.len) {
    const t = r.tag();
    const wire = t & 7;
    const field = t >>> 3;
    switch (field) {
      case 1:
        if (wire !== LEN) break;
        skipStringVerify(r);
        continue;
      case 2:
      case 3:
        if (wire !== VARINT) break;
        checkVarint(r);
        r.bool(); // a varint of at most 10 bytes, as Reader.int64 reads it, without the Long
        continue;
      case 4:
        if (wire !== FIXED64) break;
        r.double();
        continue;
      case 5:
        if (wire !== LEN) break;
        walkValues(r, r.size(), depth + 1, walkAnyValue);
        continue;
      case 6:
        if (wire !== LEN) break;
        walkValues(r, r.size(), depth + 1, walkKeyValue);
        continue;
      case 7:
        if (wire !== LEN) break;
        r.skip(r.size());
        continue;
      default:
    }
    skipField(r, wire, depth, field);
  }
  leave(r, saved);
}

function walkValues(r: Reader, length: number, depth: number, element: (r: Reader, length: number, depth: number) => void): void {
  checkDepth(depth);
  const saved = enter(r, length);
  while (r.pos < r.len) {
    const t = r.tag();
    const wire = t & 7;
    const field = t >>> 3;
    if (field === 1 && wire === LEN) {
      element(r, r.size(), depth + 1);
      continue;
    }
    skipField(r, wire, depth, field);
  }
  leave(r, saved);
}

function walkKeyValue(r: Reader, length: number, depth: number): void {
  checkDepth(depth);
  const saved = enter(r, length);
  while (r.pos < r.len) {
    const t = r.tag();
    const wire = t & 7;
    const field = t >>> 3;
    if (wire === LEN) {
      if (field === 1) {
        readKey(r); // a key read before (the usual case) is answered from the cache, building nothing
        continue;
      }
      if (field === 2) {
        walkAnyValue(r, r.size(), depth + 1);
        continue;
      }
    }
    skipField(r, wire, depth, field);
  }
  leave(r, saved);
}

// ---- LogRecords with undecoded attributes and body -----------------------------------

/** A lazily decoded LogRecord's parts (record.ts UndecodedParts), one shape for all. */
class LogParts implements UndecodedParts {
  attributes: KeyValue[] | undefined = undefined;
  original: readonly KeyValue[] = EMPTY_ATTRIBUTES;
  body: AnyValue | null = null;
  originalBody: AnyValue | null = null;
  appended: KeyValue[] | undefined = undefined;

  constructor(
    readonly buf: Uint8Array,
    readonly start: number,
    readonly end: number,
    readonly depth: number,
    readonly bodyField: boolean,
  ) {}
}

const EMPTY_ATTRIBUTES: readonly KeyValue[] = Object.freeze([]);
const EMPTY_BYTES = new Uint8Array(0);

// One reader for each kind of buffer (protobufjs reads bytes fields of a Buffer as Buffers, of a
// Uint8Array as Uint8Arrays), reused: decodeParts runs once per record and never inside itself.
const bufferReader = protobuf.Reader.create(Buffer.alloc(0));
const arrayReader = protobuf.Reader.create(new Uint8Array(0));

function readerOver(buf: Uint8Array, start: number, end: number): Reader {
  const r = Buffer.isBuffer(buf) ? bufferReader : arrayReader;
  r.buf = buf;
  r.pos = start;
  r.len = end;
  return r;
}

/** Decodes the record's attributes and body from its bytes, once (they were validated when the request was received). */
function decodeParts(p: UndecodedParts): KeyValue[] {
  const wasLenient = lenient;
  const r = readerOver(p.buf, p.start, p.end);
  const attrs: KeyValue[] = [];
  let body: AnyValue | null = null;
  const depth = p.depth;
  while (r.pos < r.len) {
    const t = r.tag();
    const wire = t & 7;
    const field = t >>> 3;
    if (wire === LEN && field === 5) body = decodeAnyValue(r, r.size(), depth + 1, body);
    else if (wire === LEN && field === 6) attrs.push(decodeKeyValue(r, r.size(), depth + 1));
    else r.skipType(wire, depth, field);
  }
  lenient = wasLenient;
  r.buf = EMPTY_BYTES; // holds no request
  p.original = attrs.length === 0 ? EMPTY_ATTRIBUTES : attrs.slice();
  p.originalBody = body;
  p.body = body;
  if (p.appended !== undefined) {
    for (const kv of p.appended) attrs.push(kv);
    p.appended = undefined;
  }
  p.attributes = attrs;
  return attrs;
}

function partsOf(log: object): UndecodedParts {
  return undecodedParts(log as LogRecord)!;
}

// Shared accessor functions (one AccessorPair per property, so every lazy record has one hidden class).
function getAttributes(this: LogRecord): KeyValue[] {
  const p = partsOf(this);
  return p.attributes ?? decodeParts(p);
}
function setAttributes(this: LogRecord, v: KeyValue[]): void {
  const p = partsOf(this);
  if (p.attributes === undefined) decodeParts(p);
  p.attributes = v;
}
function getBody(this: LogRecord): AnyValue | null {
  const p = partsOf(this);
  if (p.attributes === undefined) decodeParts(p);
  return p.body;
}
function setBody(this: LogRecord, v: AnyValue | null): void {
  const p = partsOf(this);
  if (p.attributes === undefined) decodeParts(p);
  p.body = v;
}
const ATTRIBUTES: PropertyDescriptor = { get: getAttributes, set: setAttributes, enumerable: true, configurable: true };
const BODY: PropertyDescriptor = { get: getBody, set: setBody, enumerable: true, configurable: true };
/**
 * Makes LogRecords with protobufjs's LogRecord prototype, so they are its instances, but without its
 * constructor's `attributes` data property; a constructor (not Object.create) so that V8 sizes their
 * in-object fields from use, as it does for protobufjs's.
 */
const LazyLogRecord = function LazyLogRecord() {} as unknown as new () => LogRecord;
LazyLogRecord.prototype = LogRecordCtor.prototype;

/**
 * LogRecord as decodeLogRecord reads it, with its attributes and body walked
 * (validated) but not decoded: they are decoded from the record's bytes when
 * first read. The record has the same prototype, own keys in the same order and,
 * once read, the same values as decodeLogRecord's.
 */
export function decodeLogRecordLazy(r: Reader, length: number, depth: number): LogRecord {
  checkDepth(depth);
  const start = r.pos;
  const saved = enter(r, length);
  const m = new LazyLogRecord();
  Object.defineProperty(m, 'attributes', ATTRIBUTES); // first, as protobufjs's constructor sets it
  let hasBody = false;
  while (r.pos < r.len) {
    const t = r.tag();
    const wire = t & 7;
    const field = t >>> 3;
    if (wire === LEN && field === 5) {
      walkAnyValue(r, r.size(), depth + 1);
      if (!hasBody) Object.defineProperty(m, 'body', BODY); // where the eager decoder adds it
      hasBody = true;
    } else if (wire === LEN && field === 6) walkKeyValue(r, r.size(), depth + 1);
    else if (!readScalarField(r, m, field, wire)) skipField(r, wire, depth, field);
  }
  leave(r, saved);
  attachUndecodedParts(m, new LogParts(r.buf, start, r.pos, depth, hasBody));
  return m;
}

// ---- records decoded again from bytes already received ---------------------------------

/**
 * The LogRecord in buf[start, end) (bytes received, and so validated, before:
 * wire-decode.ts), decoded again: lazily, as decodeLogRecordLazy would decode
 * it but without walking its attributes and body again, or (`eager`) at once,
 * as decodeLogRecord would. A fresh record over the same bytes: what a
 * copy-on-write copy (wire-copy.ts) is made of.
 */
export function redecodeLogRecord(buf: Uint8Array, start: number, end: number, depth: number, eager: boolean): LogRecord {
  const wasLenient = lenient;
  const r = readerOver(buf, start, end);
  let m: LogRecord;
  if (eager) m = decodeLogRecord(r, end - start, depth);
  else {
    m = new LazyLogRecord();
    Object.defineProperty(m, 'attributes', ATTRIBUTES);
    let hasBody = false;
    while (r.pos < r.len) {
      const t = r.tag();
      const wire = t & 7;
      const field = t >>> 3;
      if (wire === LEN && (field === 5 || field === 6)) {
        r.skip(r.size());
        if (field === 5 && !hasBody) Object.defineProperty(m, 'body', BODY);
        if (field === 5) hasBody = true;
      } else if (!readScalarField(r, m, field, wire)) r.skipType(wire, depth, field);
    }
    attachUndecodedParts(m, new LogParts(buf, start, end, depth, hasBody));
  }
  lenient = wasLenient;
  r.buf = EMPTY_BYTES; // holds no request
  return m;
}
