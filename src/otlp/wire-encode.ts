// LogBatch → protobuf ExportLogsServiceRequest by splicing: a record decoded
// from protobuf whose only change since is appended attributes is written as
// its original LogRecord bytes followed by the appended KeyValues (field 6),
// under rewritten length prefixes; an unchanged resource or scope is written
// from its original bytes. Every other record (rewritten, copied, built in
// memory, decoded from JSON) is encoded from its objects by protobufjs, as
// before. See wire-frame.ts for when a record counts as unchanged.
//
// What a splice writes means the same as what protobufjs writes from the
// objects: it decodes to the same objects. The bytes may differ: the sender's
// field order, non-minimal varints and unknown fields are kept as they came.
// `VIGIL_CHECK_SPLICE=1` compares the two on every call (tests, debugging).
import protobuf from 'protobufjs';
import type { Immutable, KeyValue, ReadonlyBatch, ReadonlyRecord, ResourceContext, ScopeContext } from '../pipeline/record.js';
import { isSharedAttribute } from '../pipeline/record.js';
import { ExportLogsServiceRequest, root } from './schema.js';
import { originalResourceBytes, originalScopeBytes, spliceableAttributes } from './wire-frame.js';

type Encode = (message: unknown) => protobuf.Writer;
const encoderOf = (name: string): Encode => {
  const type = root.lookupType(name);
  return (m) => type.encode(m as protobuf.Message);
};
const encodeResource = encoderOf('opentelemetry.proto.resource.v1.Resource');
const encodeScope = encoderOf('opentelemetry.proto.common.v1.InstrumentationScope');
const encodeLogRecord = encoderOf('opentelemetry.proto.logs.v1.LogRecord');
const encodeKeyValue = encoderOf('opentelemetry.proto.common.v1.KeyValue');

// ---- a growable byte sink --------------------------------------------------------

const varintSize = (n: number): number => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);

class Sink {
  pos = 0;

  constructor(public buf: Buffer) {}

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  /** An unsigned varint below 2^53. */
  varint(n: number): void {
    const b = this.buf;
    while (n >= 0x80) {
      b[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    b[this.pos++] = n;
  }

  /** A length-delimited field whose bytes are at hand: tag, length, bytes. */
  lenField(tag: number, src: Uint8Array): void {
    this.byte(tag);
    this.varint(src.length);
    this.bytes(src);
  }

  bytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    if (n <= 48) {
      // Short runs (cached attributes) byte by byte: cheaper than a subarray view per copy.
      const b = this.buf;
      let p = this.pos;
      for (let i = start; i < end; i++) b[p++] = src[i];
    } else this.buf.set(start === 0 && end === src.length ? src : src.subarray(start, end), this.pos);
    this.pos += n;
  }

  /** A well-formed string of known UTF-8 length. */
  utf8(s: string, length: number): void {
    if (length === s.length && length < 32) {
      const b = this.buf;
      for (let i = 0; i < length; i++) b[this.pos++] = s.charCodeAt(i);
    } else {
      this.buf.write(s, this.pos, length, 'utf8');
      this.pos += length;
    }
  }
}

function utf8Length(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return s.length;
}

interface WellFormed {
  isWellFormed(): boolean;
}
const isWellFormed = (s: string) => (s as unknown as WellFormed).isWellFormed();

// ---- appended attributes ---------------------------------------------------------

const STRING = 1;
const BOOL = 2;
const INT = 3;
const DOUBLE = 4;

/** Which scalar a plain AnyValue holds when it holds exactly one that is cheap to write here; 0 for anything else. */
function plainScalarKind(v: unknown): number {
  if (v === null || typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) return 0;
  let kind = 0;
  for (const k in v) {
    if (kind !== 0) return 0;
    const x = (v as Record<string, unknown>)[k];
    if (k === 'stringValue' && typeof x === 'string' && isWellFormed(x)) kind = STRING;
    else if (k === 'boolValue' && typeof x === 'boolean') kind = BOOL;
    else if (k === 'intValue' && typeof x === 'number' && Number.isSafeInteger(x) && x >= 0) kind = INT;
    else if (k === 'doubleValue' && typeof x === 'number') kind = DOUBLE;
    else return 0;
  }
  return kind;
}

function uvarintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/**
 * Writes one appended attribute as LogRecord field 6. Plain KeyValues holding a
 * single string, bool, non-negative int or double are written here, byte for
 * byte as protobufjs writes them; anything else is written by protobufjs.
 */
function writeAttribute(sink: Sink, kv: Immutable<KeyValue>): void {
  const key = kv.key;
  const value = kv.value;
  const kind = Object.getPrototypeOf(kv) === Object.prototype && typeof key === 'string' && isWellFormed(key) ? plainScalarKind(value) : 0;
  if (kind === 0) {
    const bytes = encodeKeyValue(kv).finish();
    sink.ensure(6 + bytes.length);
    sink.lenField(0x32, bytes);
    return;
  }
  const v = value as { stringValue?: string; boolValue?: boolean; intValue?: number; doubleValue?: number };
  const keyLen = key === '' ? 0 : utf8Length(key);
  let strLen = 0;
  let anyLen: number;
  if (kind === STRING) {
    strLen = utf8Length(v.stringValue!);
    anyLen = 1 + varintSize(strLen) + strLen;
  } else if (kind === BOOL) anyLen = 2;
  else if (kind === INT) anyLen = 1 + uvarintSize(v.intValue!);
  else anyLen = 9;
  const kvLen = (keyLen === 0 ? 0 : 1 + varintSize(keyLen) + keyLen) + 1 + varintSize(anyLen) + anyLen;
  sink.ensure(1 + 5 + kvLen);
  sink.byte(0x32);
  sink.varint(kvLen);
  if (keyLen !== 0) {
    sink.byte(0x0a);
    sink.varint(keyLen);
    sink.utf8(key, keyLen);
  }
  sink.byte(0x12);
  sink.varint(anyLen);
  if (kind === STRING) {
    sink.byte(0x0a);
    sink.varint(strLen);
    sink.utf8(v.stringValue!, strLen);
  } else if (kind === BOOL) {
    sink.byte(0x10);
    sink.byte(v.boolValue ? 1 : 0);
  } else if (kind === INT) {
    sink.byte(0x18);
    sink.varint(v.intValue!);
  } else {
    sink.byte(0x21);
    sink.buf.writeDoubleLE(v.doubleValue!, sink.pos);
    sink.pos += 8;
  }
}

/** The field-6 bytes of each shared (frozen) attribute, written once. */
const sharedBytes = new WeakMap<object, Uint8Array>();

function appendAttribute(sink: Sink, kv: Immutable<KeyValue>): void {
  if (!isSharedAttribute(kv)) return writeAttribute(sink, kv);
  let bytes = sharedBytes.get(kv);
  if (bytes === undefined) {
    const one = new Sink(Buffer.allocUnsafe(256));
    writeAttribute(one, kv);
    bytes = Buffer.from(one.buf.subarray(0, one.pos));
    sharedBytes.set(kv, bytes);
  }
  sink.ensure(bytes.length);
  sink.bytes(bytes);
}

// ---- records, scopes, resources --------------------------------------------------

/** A record's LogRecord message: original bytes + appended attributes in the scratch sink, or protobufjs's encoding. */
interface RecordPart {
  buf: Uint8Array;
  start: number;
  end: number;
  tailStart: number;
  tailEnd: number;
  length: number;
}

function recordPart(rec: ReadonlyRecord, scratch: Sink, s = spliceableAttributes(rec)): RecordPart {
  if (s === undefined) {
    const bytes = encodeLogRecord(rec.log).finish();
    return { buf: bytes, start: 0, end: bytes.length, tailStart: 0, tailEnd: 0, length: bytes.length };
  }
  const { frame, list, from } = s;
  const tailStart = scratch.pos;
  for (let i = from; i < list.length; i++) appendAttribute(scratch, list[i]);
  const length = frame.end - frame.start + scratch.pos - tailStart;
  return { buf: frame.buf, start: frame.start, end: frame.end, tailStart, tailEnd: scratch.pos, length };
}

interface ScopeGroup {
  scope: Immutable<ScopeContext>;
  parts: RecordPart[];
  scopeBytes: Uint8Array;
  length: number;
}

interface ResourceGroup {
  resource: Immutable<ResourceContext>;
  scopes: ScopeGroup[];
  /** The scope groups by scope, once there are several. */
  byScope: Map<Immutable<ScopeContext>, ScopeGroup> | undefined;
  resourceBytes: Uint8Array;
  length: number;
}

const fieldSize = (length: number) => 1 + varintSize(length) + length;
const stringFieldSize = (s: string) => (s === '' ? 0 : fieldSize(utf8Length(s)));

const protobufUtf8 = (protobuf.util as unknown as { utf8: { write(s: string, buf: Uint8Array, offset: number): number } }).utf8;

function writeStringField(out: Sink, tag: number, s: string): void {
  if (s === '') return;
  const n = utf8Length(s);
  out.byte(tag);
  out.varint(n);
  if (isWellFormed(s)) out.utf8(s, n);
  else out.pos += protobufUtf8.write(s, out.buf, out.pos); // a lone surrogate as protobufjs writes it (3 bytes, as Buffer counts it), not as U+FFFD
}

const scratchSink = new Sink(Buffer.allocUnsafe(64 * 1024));

/**
 * The batch as a protobuf ExportLogsServiceRequest, records regrouped under
 * their resources and scopes in order (as batchToRequest does), unchanged
 * records and contexts spliced from their original bytes.
 */
export function encodeBatchSpliced(batch: ReadonlyBatch): Uint8Array {
  const { parts, tails } = partsOf(batch);
  const groups: ResourceGroup[] = [];
  const byResource = new Map<Immutable<ResourceContext>, ResourceGroup>();
  let last: ScopeGroup | undefined;
  let lastResource: Immutable<ResourceContext> | undefined;
  for (let i = 0; i < batch.length; i++) {
    const rec = batch[i];
    if (last === undefined || last.scope !== rec.scope || lastResource !== rec.resource) {
      let rg = byResource.get(rec.resource);
      if (rg === undefined) {
        rg = { resource: rec.resource, scopes: [], byScope: undefined, resourceBytes: resourceBytes(rec.resource), length: 0 };
        byResource.set(rec.resource, rg);
        groups.push(rg);
      }
      let sg = rg.byScope !== undefined ? rg.byScope.get(rec.scope) : rg.scopes.length === 1 && rg.scopes[0].scope === rec.scope ? rg.scopes[0] : undefined;
      if (sg === undefined) {
        sg = { scope: rec.scope, parts: [], scopeBytes: scopeBytes(rec.scope), length: 0 };
        if (rg.scopes.length === 1) rg.byScope = new Map([[rg.scopes[0].scope, rg.scopes[0]]]);
        rg.byScope?.set(rec.scope, sg);
        rg.scopes.push(sg);
      }
      last = sg;
      lastResource = rec.resource;
    }
    last.parts.push(parts[i]);
  }
  return encodeGroups(groups, tails);
}

/** One record as a one-record request: the batch path without its grouping. */
export function encodeRecordSpliced(rec: ReadonlyRecord): Uint8Array {
  const scratch = scratchSink;
  scratch.pos = 0;
  const rg = oneRecordGroup(rec, resourceBytes(rec.resource), scopeBytes(rec.scope), scratch);
  const out = new Sink(Buffer.allocUnsafe(sizeGroup(rg)));
  writeGroup(out, rg, scratch);
  return out.buf;
}

/**
 * Every record of the batch as its own one-record request, back to back in one
 * buffer (one allocation per batch instead of one per record): record i's
 * request is `bytes.subarray(ends[i - 1] ?? 0, ends[i])`, the same bytes
 * encodeRecordSpliced writes for it.
 */
export function encodeRecordsSpliced(batch: ReadonlyBatch): { bytes: Buffer; ends: number[] } {
  const { parts, tails } = partsOf(batch);
  const groups: ResourceGroup[] = new Array(batch.length);
  let total = 0;
  let lastResource: Immutable<ResourceContext> | undefined;
  let lastScope: Immutable<ScopeContext> | undefined;
  let rb: Uint8Array = EMPTY;
  let sb: Uint8Array = EMPTY;
  for (let i = 0; i < batch.length; i++) {
    const rec = batch[i];
    // Records of one request share their contexts: look their bytes up once per run of them.
    if (rec.resource !== lastResource) {
      lastResource = rec.resource;
      rb = resourceBytes(rec.resource);
    }
    if (rec.scope !== lastScope) {
      lastScope = rec.scope;
      sb = scopeBytes(rec.scope);
    }
    const sg: ScopeGroup = { scope: rec.scope, parts: [parts[i]], scopeBytes: sb, length: 0 };
    const rg: ResourceGroup = { resource: rec.resource, scopes: [sg], byScope: undefined, resourceBytes: rb, length: 0 };
    total += sizeGroup(rg);
    groups[i] = rg;
  }
  const out = new Sink(Buffer.allocUnsafe(total));
  const ends: number[] = new Array(batch.length);
  for (let i = 0; i < groups.length; i++) {
    writeGroup(out, groups[i], tails);
    ends[i] = out.pos;
  }
  if (out.pos !== total) throw new Error(`splice encoder wrote ${out.pos} bytes, expected ${total}`);
  return { bytes: out.buf, ends };
}

const EMPTY = new Uint8Array(0);

/**
 * The record parts of the batch encoded last in this synchronous turn. The
 * exporters of one fan-out are handed the same read-only batch one after the
 * other in one turn (the worm's entries, then the otlp exporter's request, or
 * the other way round), so each record's appended attributes are written once
 * for both. Kept only until the turn ends (cleared by a microtask), so nothing
 * holds the batch after it. A part is reused only for the same record, still
 * spliceable from the same frame, with the same appended KeyValue objects in
 * the same places; anything else (another batch, a rewritten record, a record
 * on the slow path) is encoded afresh.
 */
interface Turn {
  batch: ReadonlyBatch;
  records: ReadonlyRecord[];
  parts: RecordPart[];
  /** Per record: where its appended KeyValues start in `appended` (-1: not spliced, never reused), and how many. */
  from: number[];
  count: number[];
  appended: unknown[];
  tails: Sink;
}
let turn: Turn | undefined;
const turnSink = new Sink(Buffer.allocUnsafe(64 * 1024));
const endTurn = (): void => {
  turn = undefined;
};

function partsOf(batch: ReadonlyBatch): { parts: RecordPart[]; tails: Sink } {
  const t = turn;
  if (t !== undefined && t.batch === batch && t.records.length === batch.length) {
    // Same batch again: reuse what is unchanged, encode the rest after the tails already written.
    for (let i = 0; i < batch.length; i++) if (!reusable(t, i, batch[i])) remember(t, i, batch[i]);
    return t;
  }
  turnSink.pos = 0;
  const n = batch.length;
  const fresh: Turn = { batch, records: new Array(n), parts: new Array(n), from: new Array(n), count: new Array(n), appended: [], tails: turnSink };
  for (let i = 0; i < n; i++) remember(fresh, i, batch[i]);
  if (t === undefined) queueMicrotask(endTurn);
  turn = fresh;
  return fresh;
}

function remember(t: Turn, i: number, rec: ReadonlyRecord): void {
  const s = spliceableAttributes(rec);
  t.records[i] = rec;
  t.parts[i] = recordPart(rec, t.tails, s);
  if (s === undefined) {
    t.from[i] = -1;
    t.count[i] = 0;
    return;
  }
  const { list, from } = s;
  t.from[i] = t.appended.length;
  t.count[i] = list.length - from;
  for (let k = from; k < list.length; k++) t.appended.push(list[k]);
}

function reusable(t: Turn, i: number, rec: ReadonlyRecord): boolean {
  if (t.records[i] !== rec || t.from[i] < 0) return false;
  const s = spliceableAttributes(rec);
  if (s === undefined || t.parts[i].buf !== s.frame.buf || t.parts[i].start !== s.frame.start) return false;
  const { list, from } = s;
  const n = t.count[i];
  if (list.length - from !== n) return false;
  const at = t.from[i];
  for (let k = 0; k < n; k++) if (t.appended[at + k] !== list[from + k]) return false;
  return true;
}

function oneRecordGroup(rec: ReadonlyRecord, resourceBytes: Uint8Array, scopeBytes: Uint8Array, scratch: Sink): ResourceGroup {
  const sg: ScopeGroup = { scope: rec.scope, parts: [recordPart(rec, scratch)], scopeBytes, length: 0 };
  return { resource: rec.resource, scopes: [sg], byScope: undefined, resourceBytes, length: 0 };
}

/** Sizes the groups, then writes them into a buffer of exactly that size. */
function encodeGroups(groups: ResourceGroup[], scratch: Sink): Uint8Array {
  let total = 0;
  for (const rg of groups) total += sizeGroup(rg);
  const out = new Sink(Buffer.allocUnsafe(total));
  for (const rg of groups) writeGroup(out, rg, scratch);
  if (out.pos !== total) throw new Error(`splice encoder wrote ${out.pos} bytes, expected ${total}`);
  return out.buf;
}

/** Sets the group's (and its scopes') lengths; returns its size as a ResourceLogs field. */
function sizeGroup(rg: ResourceGroup): number {
  let rl = fieldSize(rg.resourceBytes.length) + stringFieldSize(rg.resource.schemaUrl);
  for (const sg of rg.scopes) {
    let sl = fieldSize(sg.scopeBytes.length) + stringFieldSize(sg.scope.schemaUrl);
    for (const p of sg.parts) sl += fieldSize(p.length);
    sg.length = sl;
    rl += fieldSize(sl);
  }
  rg.length = rl;
  return fieldSize(rl);
}

/** Writes a sized group as a ResourceLogs field (1) of the request. */
function writeGroup(out: Sink, rg: ResourceGroup, scratch: Sink): void {
  out.byte(0x0a);
  out.varint(rg.length);
  out.lenField(0x0a, rg.resourceBytes);
  for (const sg of rg.scopes) {
    out.byte(0x12);
    out.varint(sg.length);
    out.lenField(0x0a, sg.scopeBytes);
    for (const p of sg.parts) {
      out.byte(0x12);
      out.varint(p.length);
      out.bytes(p.buf, p.start, p.end);
      if (p.tailEnd > p.tailStart) out.bytes(scratch.buf, p.tailStart, p.tailEnd);
    }
    writeStringField(out, 0x1a, sg.scope.schemaUrl);
  }
  writeStringField(out, 0x1a, rg.resource.schemaUrl);
}

function resourceBytes(ctx: Immutable<ResourceContext>): Uint8Array {
  return originalResourceBytes(ctx) ?? encodeResource(ctx.resource).finish();
}

function scopeBytes(ctx: Immutable<ScopeContext>): Uint8Array {
  return originalScopeBytes(ctx) ?? encodeScope(ctx.scope).finish();
}

// ---- the debug check ----------------------------------------------------------------

let checkSplice = process.env.VIGIL_CHECK_SPLICE === '1';

/** Turns the splice check on or off (tests); `VIGIL_CHECK_SPLICE=1` turns it on for a process. */
export function setSpliceCheck(on: boolean): void {
  checkSplice = on;
}

export function spliceCheckEnabled(): boolean {
  return checkSplice;
}

/** A schema descriptor (Root.toJSON) with every string field turned into a bytes field. */
function stringsAsBytes(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stringsAsBytes);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = stringsAsBytes(v);
  if (out.type === 'string' && typeof out.id === 'number') out.type = 'bytes';
  return out;
}

/**
 * The request type for the check alone, its strings read as bytes: two encodings are compared by
 * what they wrote, never by what a UTF-8 decoder makes of it. A record built in memory may hold a
 * lone surrogate, which protobufjs (on both paths) writes as bytes that are not UTF-8; the strict
 * decoder refuses them, as the receivers must, and a lenient one would read both U+D800 and U+FFFD
 * as U+FFFD. The receivers keep the strict schema.
 */
let opaqueRequest: protobuf.Type | undefined;

/** A protobuf request as protobufjs writes what it means (decoded and encoded again), strings as their bytes. */
function canonical(bytes: Uint8Array): Buffer {
  opaqueRequest ??= protobuf.Root.fromJSON(stringsAsBytes(root.toJSON()) as protobuf.INamespace).lookupType(ExportLogsServiceRequest.fullName);
  return Buffer.from(opaqueRequest.encode(opaqueRequest.decode(bytes)).finish());
}

/** Throws when a spliced encoding does not mean what the objects' encoding means: a bug that would corrupt archives and exports. */
export function assertSameMeaning(spliced: Uint8Array, fromObjects: Uint8Array): void {
  if (!canonical(spliced).equals(canonical(fromObjects))) {
    throw new Error('otlp wire encoder: a spliced encoding differs from the encoding of the same records (VIGIL_CHECK_SPLICE found a splice bug; unset it to carry on, and report it)');
  }
}
