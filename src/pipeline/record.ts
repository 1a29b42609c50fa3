// The one record type that flows through Vigil: an OTLP log record together with
// the resource and instrumentation scope it was sent under.
//
// The shapes mirror the OTLP protobuf messages exactly as protobufjs decodes and
// encodes them (camelCase fields, 64-bit integers as long.js `Long`), so a record
// decoded from the wire is used as-is and encoded once per destination without
// an intermediate copy. Oneof fields (AnyValue) carry exactly one own property.
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

/** Sets (replacing in place, or appending) an attribute. */
export function setAttribute(attrs: KeyValue[], key: string, value: AnyValue): void {
  putAttribute(attrs, { key, value });
}

/** Puts a KeyValue in place of the first one with its key, or appends it. */
export function putAttribute(attrs: KeyValue[], kv: KeyValue): void {
  for (let i = 0; i < attrs.length; i++) {
    if (attrs[i].key === kv.key) {
      attrs[i] = kv;
      return;
    }
  }
  attrs.push(kv);
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
  // Split to keep precision: high*2^32 + low, divided by 1e6.
  return Math.floor((v.high >>> 0) * 4294.967296 + (v.low >>> 0) / 1e6);
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

/** The unsigned decimal string of a fixed64 nanosecond value (the OTLP JSON form). */
export function nanosToString(v: Long | number | null | undefined): string {
  if (v == null) return '0';
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? BigInt(Math.floor(v)).toString() : '0';
  return int64Decimal(v.low, v.high, true);
}

/** Event time of a record in ms: its timestamp, else its observed timestamp, else 0. */
export function eventTimeMillis(log: Immutable<LogRecord>): number {
  const t = nanosToMillis(log.timeUnixNano);
  return t > 0 ? t : nanosToMillis(log.observedTimeUnixNano);
}
