// The one record type that flows through Vigil: an OTLP log record together with
// the resource and instrumentation scope it was sent under.
//
// The shapes mirror the OTLP protobuf messages exactly as protobufjs decodes and
// encodes them (camelCase fields, 64-bit integers as long.js `Long`), so a record
// decoded from the wire is used as-is and encoded once per destination without
// an intermediate copy. Oneof fields (AnyValue) carry exactly one own property.
//
// This is the one module that knows the AnyValue oneof and 64-bit integer
// representations: read a record through its accessors (`anyValueKind`,
// `int64Text`, the typed attribute getters, the times, severity and ids) and
// change its attributes through `appendAttribute` / `replaceAttribute` /
// `dropAttribute`, rather than walking the objects by hand; code that changes a
// record any other way calls `markRewritten` (see there).
import Long from 'long';

export { Long };

export interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: Long | number;
  doubleValue?: number;
  arrayValue?: ArrayValue;
  kvlistValue?: KeyValueList;
  bytesValue?: Uint8Array;
}

export interface ArrayValue {
  values: AnyValue[];
}

export interface KeyValueList {
  values: KeyValue[];
}

export interface KeyValue {
  key: string;
  value?: AnyValue | null;
}

export interface EntityRef {
  schemaUrl?: string;
  type?: string;
  idKeys?: string[];
  descriptionKeys?: string[];
}

export interface Resource {
  attributes: KeyValue[];
  droppedAttributesCount?: number;
  entityRefs?: EntityRef[];
}

export interface InstrumentationScope {
  name?: string;
  version?: string;
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
}

export interface LogRecord {
  timeUnixNano?: Long | number;
  observedTimeUnixNano?: Long | number;
  severityNumber?: number;
  severityText?: string;
  body?: AnyValue | null;
  attributes: KeyValue[];
  droppedAttributesCount?: number;
  flags?: number;
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  eventName?: string;
}

/** A resource as sent, shared by every record that came under it. */
export interface ResourceContext {
  resource: Resource;
  schemaUrl: string;
}

/** An instrumentation scope as sent, shared by every record that came under it. */
export interface ScopeContext {
  scope: InstrumentationScope;
  schemaUrl: string;
}

export interface VigilRecord {
  resource: ResourceContext;
  scope: ScopeContext;
  log: LogRecord;
}

/** Records travel in batches: one batch per Export call, in the order received. */
export type LogBatch = VigilRecord[];

/**
 * A value seen through a read-only lens, all the way down (arrays, maps, nested
 * AnyValues). Long is immutable already; byte arrays stay as they are (a
 * read-only byte view would cost a copy or a wrapper per field).
 */
export type Immutable<T> = T extends Long | Uint8Array | string | number | boolean | null | undefined
  ? T
  : T extends readonly (infer U)[]
    ? readonly Immutable<U>[]
    : { readonly [K in keyof T]: Immutable<T[K]> };

/** What a consumer that declared `mutatesData: false` (every exporter) is given: it may read the record, not change it. */
export type ReadonlyRecord = Immutable<VigilRecord>;
export type ReadonlyBatch = readonly ReadonlyRecord[];

// ---- the AnyValue oneof --------------------------------------------------------

export type AnyValueKind = 'string' | 'bool' | 'int' | 'double' | 'array' | 'kvlist' | 'bytes';

/**
 * Which member of the oneof an AnyValue holds, or undefined when empty. A value
 * with several members set (only a hand-built or hostile one can have them) is
 * read as its first in protobuf field order, the order every reader uses.
 */
export function anyValueKind(v: Immutable<AnyValue> | null | undefined): AnyValueKind | undefined {
  if (v == null) return undefined;
  if (Object.hasOwn(v, 'stringValue') && v.stringValue != null) return 'string';
  if (Object.hasOwn(v, 'boolValue') && v.boolValue != null) return 'bool';
  if (Object.hasOwn(v, 'intValue') && v.intValue != null) return 'int';
  if (Object.hasOwn(v, 'doubleValue') && v.doubleValue != null) return 'double';
  if (Object.hasOwn(v, 'arrayValue') && v.arrayValue != null) return 'array';
  if (Object.hasOwn(v, 'kvlistValue') && v.kvlistValue != null) return 'kvlist';
  if (Object.hasOwn(v, 'bytesValue') && v.bytesValue != null) return 'bytes';
  return undefined;
}

// ---- attribute access --------------------------------------------------------

export type Scalar = string | number | boolean;

/** The attribute's AnyValue (read-only when the attributes are), or undefined when the key is absent. */
export function findAttribute<KV extends Immutable<KeyValue>>(attrs: readonly KV[], key: string): NonNullable<KV['value']> | undefined {
  for (let i = 0; i < attrs.length; i++) {
    if (attrs[i].key === key) return (attrs[i].value ?? undefined) as NonNullable<KV['value']> | undefined;
  }
  return undefined;
}

/** The scalar held by an AnyValue (ints as numbers), or undefined for arrays, maps, bytes and empty values. */
export function scalarOf(v: Immutable<AnyValue> | undefined | null): Scalar | undefined {
  if (v == null) return undefined;
  if (v.stringValue !== undefined && Object.hasOwn(v, 'stringValue')) return v.stringValue;
  if (Object.hasOwn(v, 'intValue') && v.intValue != null) return toNumber(v.intValue);
  if (Object.hasOwn(v, 'doubleValue') && v.doubleValue != null) return v.doubleValue;
  if (Object.hasOwn(v, 'boolValue') && v.boolValue != null) return v.boolValue;
  return undefined;
}

export function getAttribute(attrs: readonly Immutable<KeyValue>[], key: string): Scalar | undefined {
  return scalarOf(findAttribute(attrs, key));
}

export function getStringAttribute(attrs: readonly Immutable<KeyValue>[], key: string): string | undefined {
  const v = scalarOf(findAttribute(attrs, key));
  return v === undefined ? undefined : String(v);
}

/** Wraps a JS value as an AnyValue: integers become intValue, other numbers doubleValue. */
export function anyValue(value: Scalar | readonly Scalar[]): AnyValue {
  if (Array.isArray(value)) return { arrayValue: { values: value.map((v) => anyValue(v)) } };
  switch (typeof value) {
    case 'string':
      return { stringValue: value };
    case 'boolean':
      return { boolValue: value };
    default:
      return Number.isSafeInteger(value) ? { intValue: value as number } : { doubleValue: value as number };
  }
}

/**
 * A shared attribute: one frozen KeyValue (with a frozen scalar value) handed to
 * every record that carries the same low-cardinality key and value (audit.outcome,
 * ocsf.*, a batch's audit.ingested_at…). Being immutable, its encodings can be
 * computed once and reused by every encoder (see `isSharedAttribute`).
 */
export function sharedAttribute(key: string, value: string | number | boolean): KeyValue {
  const v: AnyValue =
    typeof value === 'string'
      ? { stringValue: value }
      : typeof value === 'boolean'
        ? { boolValue: value }
        : Number.isSafeInteger(value)
          ? { intValue: value }
          : { doubleValue: value };
  return Object.freeze({ key, value: Object.freeze(v) });
}

/** Whether a KeyValue cannot change (frozen, with a frozen scalar value), so an encoding of it may be cached. */
export function isSharedAttribute(kv: Immutable<KeyValue>): boolean {
  const v = kv.value;
  return Object.isFrozen(kv) && v != null && Object.isFrozen(v) && v.arrayValue === undefined && v.kvlistValue === undefined && v.bytesValue === undefined;
}

/** The attribute's text when it holds a string, else undefined (no coercion: see getStringAttribute for that). */
export function stringAttribute(attrs: readonly Immutable<KeyValue>[], key: string): string | undefined {
  const v = findAttribute(attrs, key);
  return anyValueKind(v) === 'string' ? v!.stringValue : undefined;
}

/** The attribute's integer when it holds one that fits a JS number exactly, else undefined. */
export function intAttribute(attrs: readonly Immutable<KeyValue>[], key: string): number | undefined {
  const v = findAttribute(attrs, key);
  if (anyValueKind(v) !== 'int') return undefined;
  const n = toNumber(v!.intValue);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The attribute's number when it holds an int (exactly representable) or a double, else undefined. */
export function numberAttribute(attrs: readonly Immutable<KeyValue>[], key: string): number | undefined {
  const v = findAttribute(attrs, key);
  const kind = anyValueKind(v);
  return kind === 'double' ? v!.doubleValue : kind === 'int' ? intAttribute(attrs, key) : undefined;
}

/** The attribute's boolean when it holds one, else undefined. */
export function boolAttribute(attrs: readonly Immutable<KeyValue>[], key: string): boolean | undefined {
  const v = findAttribute(attrs, key);
  return anyValueKind(v) === 'bool' ? v!.boolValue : undefined;
}

// ---- rewritten marks -------------------------------------------------------------
//
// A record decoded from protobuf is encoded again by splicing its original bytes
// with its appended attributes (src/otlp/wire-encode.ts), which is only right if
// nothing else changed. Every change other than an append marks the record (its
// LogRecord, or its attribute list) as rewritten, and a rewritten record is
// encoded from its objects instead. The marks live beside the objects, not on
// them, so they change no record's shape.
const rewritten = new WeakSet<object>();

/**
 * Marks a record as changed beyond appended attributes (a field replaced, an
 * attribute replaced or dropped, a value changed in place): its encoders must
 * not reuse the bytes it arrived as. Pass its LogRecord or its attribute list.
 */
export function markRewritten(target: LogRecord | KeyValue[]): void {
  rewritten.add(target);
}

/** Whether `markRewritten` was called on the record or on its current attribute list. */
export function isRewritten(log: Immutable<LogRecord>): boolean {
  if (rewritten.has(log)) return true;
  const parts = undecodedParts(log);
  // An attribute list nobody has read yet is one nobody could have marked.
  const attrs = parts === undefined ? log.attributes : parts.attributes;
  return attrs !== undefined && rewritten.has(attrs);
}

/**
 * Adds an attribute after the others, whether or not its key is already there
 * (the caller knows it is not: appending skips the scan). A KeyValue made by
 * `sharedAttribute` is appended as is, to be shared by every record. Given the
 * LogRecord rather than its list, an append to a record whose attributes are
 * still undecoded (see UndecodedParts) is kept beside the bytes, without
 * decoding them; reading the attributes later shows it after the originals.
 */
export function appendAttribute(target: KeyValue[] | LogRecord, kv: KeyValue): void {
  if (Array.isArray(target)) {
    target.push(kv);
    return;
  }
  const parts = undecodedParts(target);
  if (parts !== undefined && parts.attributes === undefined) (parts.appended ??= []).push(kv);
  else target.attributes.push(kv);
}

// ---- records decoded lazily ------------------------------------------------------
//
// A LogRecord decoded from protobuf by the wire decoder (src/otlp/wire-record.ts)
// arrives with its scalar fields set and its attributes and body undecoded: they
// are own accessor properties (enumerable, in the places a decoder would have put
// them) that decode the record's bytes on first read, once, into the very objects
// an eager decode builds, and from then on read and write those. What the
// accessors work on lives beside the record, out of sight of Object.keys,
// reflection and copies (a private field stamped onto the protobufjs object).

/** A LogRecord's bytes and the state of its attributes and body, for a record decoded lazily. */
export interface UndecodedParts {
  /** The request the record arrived in; the LogRecord message is buf[start, end). */
  readonly buf: Uint8Array;
  readonly start: number;
  readonly end: number;
  /** The message's nesting depth in the request (for the decoder's recursion limit). */
  readonly depth: number;
  /** Whether the record has a body field (a `body` accessor; without one, `body` is the prototype's null until assigned). */
  readonly bodyField: boolean;
  /** The attribute list, once decoded (undefined: not yet read). */
  attributes: KeyValue[] | undefined;
  /** The decoded attributes as they came (the first entries of `attributes` while only appends happened). */
  original: readonly KeyValue[];
  /** The body, once decoded (null when the record has none). */
  body: AnyValue | null;
  /** The body as decoded. */
  originalBody: AnyValue | null;
  /** Attributes appended (appendAttribute) while the originals were undecoded, in order. */
  appended: KeyValue[] | undefined;
}

/** Returns the object it is given, so that a subclass's private field can be stamped onto any object. */
class Adopt {
  constructor(o: object) {
    return o as Adopt;
  }
}

class WithParts extends Adopt {
  readonly #parts: UndecodedParts;

  constructor(log: LogRecord, parts: UndecodedParts) {
    super(log);
    this.#parts = parts;
  }

  static of(log: object): UndecodedParts | undefined {
    return #parts in log ? (log as WithParts).#parts : undefined;
  }
}

/** Attaches a lazily decoded LogRecord's parts to it (the wire decoder, once per record). */
export function attachUndecodedParts(log: LogRecord, parts: UndecodedParts): void {
  new WithParts(log, parts);
}

/** The parts of a LogRecord decoded lazily, whether or not read since; undefined for any other record. */
export function undecodedParts(log: Immutable<LogRecord>): UndecodedParts | undefined {
  return WithParts.of(log);
}

/** Whether the record's attributes and body are still the bytes they arrived as (nothing has read them). */
export function attributesUndecoded(log: Immutable<LogRecord>): boolean {
  const parts = WithParts.of(log);
  return parts !== undefined && parts.attributes === undefined;
}

/** Replaces the first attribute with the KeyValue's key, in its position; false (nothing changed) when the key is absent. */
export function replaceAttribute(attrs: KeyValue[], kv: KeyValue): boolean {
  for (let i = 0; i < attrs.length; i++) {
    if (attrs[i].key === kv.key) {
      attrs[i] = kv;
      rewritten.add(attrs);
      return true;
    }
  }
  return false;
}

/** Removes every attribute with the key, keeping the order of the rest; returns how many were removed. */
export function dropAttribute(attrs: KeyValue[], key: string): number {
  let kept = 0;
  for (let i = 0; i < attrs.length; i++) if (attrs[i].key !== key) attrs[kept++] = attrs[i];
  const dropped = attrs.length - kept;
  if (dropped > 0) {
    attrs.length = kept;
    rewritten.add(attrs);
  }
  return dropped;
}

/** Sets (replacing in place, or appending) an attribute. */
export function setAttribute(attrs: KeyValue[], key: string, value: AnyValue): void {
  putAttribute(attrs, { key, value });
}

/** Puts a KeyValue in place of the first one with its key, or appends it. */
export function putAttribute(attrs: KeyValue[], kv: KeyValue): void {
  if (!replaceAttribute(attrs, kv)) appendAttribute(attrs, kv);
}

// ---- 64-bit integers -----------------------------------------------------------

export function toNumber(v: Long | number | string | null | undefined): number {
  if (v == null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  return v.toNumber();
}

/** Nanoseconds since the epoch (a fixed64 field) to milliseconds; 0 stays 0 (unset). */
export function nanosToMillis(v: Long | number | null | undefined): number {
  if (v == null) return 0;
  if (typeof v === 'number') return Math.floor(v / 1e6);
  // Exactly, in doubles: high·2^32 + low = high·4294·10^6 + (high·967296 + low), and
  // the second part stays below 2^53. (Scaling high by 4294.967296, which no double
  // holds exactly, read a third of whole-millisecond times as 1 ms earlier.)
  const hi = v.high >>> 0;
  return hi * 4294 + Math.floor((hi * 967296 + (v.low >>> 0)) / 1e6);
}

/** Milliseconds (may be fractional) to an unsigned 64-bit nanosecond count. */
export function millisToNanos(ms: number): Long {
  if (!(ms > 0) || !Number.isFinite(ms)) return Long.UZERO;
  const whole = Math.floor(ms);
  const fracNanos = Math.round((ms - whole) * 1e6);
  return Long.fromNumber(whole, true).multiply(1_000_000).add(fracNanos);
}

/**
 * The decimal string of a 64-bit integer given as its two 32-bit halves: the same
 * text as `Long.fromBits(low, high, unsigned).toString()`, several times faster
 * (a plain double when the value fits in 53 bits, else BigInt): it runs a few
 * times per record on the hot path (record ids, OTLP JSON timestamps).
 */
export function int64Decimal(low: number, high: number, unsigned: boolean): string {
  const lo = low >>> 0;
  const hi = unsigned ? high >>> 0 : high | 0;
  if (hi < 0x200000 && hi >= -0x200000) return String(hi * 4294967296 + lo);
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

/**
 * The decimal text of a 64-bit integer field, however it is held: a Long (as
 * decoded from protobuf), a JS number (as built in memory; truncated, with
 * non-finite numbers and, for an unsigned field, negative ones read as 0), or a
 * decimal string (kept as is; empty = 0). OTLP/JSON and the record id both
 * write 64-bit integers this way.
 */
export function int64Text(v: Long | number | string | null | undefined, unsigned: boolean): string {
  if (v == null) return '0';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return '0';
    const t = Math.trunc(v);
    if (unsigned && t < 0) return '0';
    return Number.isSafeInteger(t) ? String(t) : BigInt(t).toString();
  }
  if (typeof v === 'string') return v === '' ? '0' : v;
  return int64Decimal(v.low, v.high, unsigned);
}

/** Whether a 64-bit integer field holds zero (or nothing): the default, left out by encoders. */
export function isZero64(v: Long | number | null | undefined): boolean {
  if (v == null) return true;
  return typeof v === 'number' ? v === 0 : v.isZero();
}

/** The unsigned decimal string of a fixed64 nanosecond value (the OTLP JSON form). */
export function nanosToString(v: Long | number | null | undefined): string {
  return int64Text(v, true);
}

// ---- times, severity, ids ----------------------------------------------------------

/** The record's timestamp in ms (0 when unset). */
export function timeMillis(log: Immutable<LogRecord>): number {
  return nanosToMillis(log.timeUnixNano);
}

/** When the record was observed, in ms (0 when unset). */
export function observedTimeMillis(log: Immutable<LogRecord>): number {
  return nanosToMillis(log.observedTimeUnixNano);
}

/** The severity as sent: its number (0 = unspecified) and its text ('' when none). */
export function severityOf(log: Immutable<LogRecord>): { number: number; text: string } {
  return { number: log.severityNumber ?? 0, text: log.severityText ?? '' };
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Bytes as lowercase hex (the OTLP/JSON form of trace and span ids). */
export function bytesToHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i]];
  return s;
}

/** The trace id as hex, '' when unset. */
export function traceIdHex(log: Immutable<LogRecord>): string {
  return log.traceId && log.traceId.length > 0 ? bytesToHex(log.traceId) : '';
}

/** The span id as hex, '' when unset. */
export function spanIdHex(log: Immutable<LogRecord>): string {
  return log.spanId && log.spanId.length > 0 ? bytesToHex(log.spanId) : '';
}

/** The body's text when it is a string, else undefined (maps, arrays and other kinds have no text of their own). */
export function bodyText(log: Immutable<LogRecord>): string | undefined {
  return anyValueKind(log.body) === 'string' ? log.body!.stringValue : undefined;
}

/** Event time of a record in ms: its timestamp, else its observed timestamp, else 0. */
export function eventTimeMillis(log: Immutable<LogRecord>): number {
  const t = nanosToMillis(log.timeUnixNano);
  return t > 0 ? t : nanosToMillis(log.observedTimeUnixNano);
}
