// OTLP/JSON: the protobuf JSON mapping with the OTLP exceptions — trace and span
// ids as hex (not base64), enums as integers, 64-bit integers as decimal strings
// (numbers accepted on input), field names in lowerCamelCase (the original
// snake_case accepted on input), unknown fields ignored.
import Long from 'long';
import type {
  AnyValue,
  EntityRef,
  InstrumentationScope,
  KeyValue,
  LogRecord,
  Resource,
} from '../pipeline/record.js';
import { anyValueKind, bytesToHex, type Immutable, int64Text, isSharedAttribute, isZero64 } from '../pipeline/record.js';
import type { ExportRequestMessage, ResourceLogsMessage, ScopeLogsMessage } from './convert.js';
import { Refusal } from '../pipeline/errors.js';
import { JsonWriter } from './json-writer.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

// ---- encoding ---------------------------------------------------------------

export { bytesToHex };

// Written straight to UTF-8 bytes (no intermediate object for JSON.stringify to
// walk, no long string to flatten), exactly as JSON.stringify would write the
// OTLP/JSON object (a property test holds it to that, and
// test/otlp/json-pin.test.ts pins the bytes); shared attributes (frozen, see
// `sharedAttribute`) are encoded once and their bytes reused.

/**
 * Per attribute name, its `{"key":<name>,"value":` and the same followed by
 * `{"stringValue":` (most values are strings: one copy instead of two pieces).
 * Names are a small vocabulary; the bounds keep a sender's made-up ones from
 * growing it.
 */
interface KeyHeads {
  value: Uint8Array;
  stringValue: Uint8Array;
}
const keyHeads = new Map<string, KeyHeads>();
const MAX_KEY_HEADS = 4096;
const MAX_CACHED_KEY_LENGTH = 256;
const sharedBytes = new WeakMap<Immutable<KeyValue>, Uint8Array>();

/**
 * The writer the encoding functions below share: encoding is synchronous, and
 * each takes its bytes out before returning. `fresh()` empties it first, so an
 * encoding that threw part-way (a malformed value) leaves nothing behind.
 */
const shared = new JsonWriter();

function fresh(): JsonWriter {
  shared.reset();
  return shared;
}

/** The cached heads of `key`, or undefined when it is not to be cached. */
function cachedKeyHeads(key: string): KeyHeads | undefined {
  let h = keyHeads.get(key);
  if (h === undefined) {
    if (keyHeads.size >= MAX_KEY_HEADS || key.length > MAX_CACHED_KEY_LENGTH) return undefined;
    const head = `{"key":${JSON.stringify(key)},"value":`;
    h = { value: Buffer.from(head, 'utf8'), stringValue: Buffer.from(`${head}{"stringValue":`, 'utf8') };
    keyHeads.set(key, h);
  }
  return h;
}

function writeKeyHead(w: JsonWriter, key: string | undefined): void {
  if (key === undefined) return w.ascii('{"value":');
  const h = cachedKeyHeads(key);
  if (h !== undefined) return w.bytes(h.value);
  w.ascii('{"key":');
  w.string(key);
  w.ascii(',"value":');
}

function writeDouble(w: JsonWriter, d: number): void {
  if (Number.isFinite(d)) w.ascii(JSON.stringify(d));
  else w.ascii(Number.isNaN(d) ? '"NaN"' : d > 0 ? '"Infinity"' : '"-Infinity"');
}

/** An AnyValue as OTLP/JSON: exactly one of its fields, `{}` when empty. */
export function writeAnyValue(w: JsonWriter, v: Immutable<AnyValue> | null | undefined): void {
  switch (anyValueKind(v)) {
    case 'string':
      w.ascii('{"stringValue":');
      w.string(v!.stringValue!);
      return w.ascii('}');
    case 'bool':
      return w.ascii(v!.boolValue ? '{"boolValue":true}' : '{"boolValue":false}');
    case 'int':
      w.ascii('{"intValue":"');
      w.ascii(int64Text(v!.intValue, false));
      return w.ascii('"}');
    case 'double':
      w.ascii('{"doubleValue":');
      writeDouble(w, v!.doubleValue!);
      return w.ascii('}');
    case 'array': {
      const values = v!.arrayValue!.values ?? [];
      w.ascii('{"arrayValue":{"values":[');
      for (let i = 0; i < values.length; i++) {
        if (i > 0) w.ascii(',');
        writeAnyValue(w, values[i]);
      }
      return w.ascii(']}}');
    }
    case 'kvlist':
      w.ascii('{"kvlistValue":{"values":');
      writeKeyValues(w, v!.kvlistValue!.values ?? []);
      return w.ascii('}}');
    case 'bytes': {
      const b = v!.bytesValue!;
      w.ascii('{"bytesValue":"');
      w.ascii(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64'));
      return w.ascii('"}');
    }
    default:
      return w.ascii('{}');
  }
}

function writeKeyValue(w: JsonWriter, kv: Immutable<KeyValue>): void {
  // Looked up first: a hit skips isSharedAttribute's checks, and a miss is cheap (an object never used as a key has no hash yet).
  const b = sharedBytes.get(kv);
  if (b !== undefined) return w.bytes(b);
  if (!isSharedAttribute(kv)) {
    const key = kv.key;
    const v = kv.value;
    // A string value (what anyValueKind calls 'string'): the key's cached heads in one copy.
    if (typeof key === 'string' && v != null && typeof v.stringValue === 'string' && Object.hasOwn(v, 'stringValue')) {
      const h = cachedKeyHeads(key);
      if (h !== undefined) {
        w.bytes(h.stringValue);
        w.string(v.stringValue);
        return w.ascii('}}');
      }
    }
    writeKeyHead(w, key);
    writeAnyValue(w, v);
    return w.ascii('}');
  }
  const start = w.length;
  writeKeyHead(w, kv.key);
  writeAnyValue(w, kv.value);
  w.ascii('}');
  sharedBytes.set(kv, w.copySince(start));
}

/** A list of KeyValues as an OTLP/JSON array. */
export function writeKeyValues(w: JsonWriter, kvs: readonly Immutable<KeyValue>[]): void {
  w.ascii('[');
  for (let i = 0; i < kvs.length; i++) {
    if (i > 0) w.ascii(',');
    writeKeyValue(w, kvs[i]);
  }
  w.ascii(']');
}

/** A log record as OTLP/JSON (defaults omitted, fields in protobuf order). */
export function writeLogRecord(w: JsonWriter, l: Immutable<LogRecord>): void {
  w.ascii('{');
  if (!isZero64(l.timeUnixNano)) {
    w.ascii('"timeUnixNano":"');
    w.ascii(int64Text(l.timeUnixNano, true));
    w.ascii('",');
  }
  if (!isZero64(l.observedTimeUnixNano)) {
    w.ascii('"observedTimeUnixNano":"');
    w.ascii(int64Text(l.observedTimeUnixNano, true));
    w.ascii('",');
  }
  if (l.severityNumber) {
    w.ascii('"severityNumber":');
    w.ascii(JSON.stringify(l.severityNumber));
    w.ascii(',');
  }
  if (l.severityText) {
    w.ascii('"severityText":');
    w.string(l.severityText);
    w.ascii(',');
  }
  if (l.body != null) {
    w.ascii('"body":');
    writeAnyValue(w, l.body);
    w.ascii(',');
  }
  w.ascii('"attributes":');
  writeKeyValues(w, l.attributes ?? []);
  if (l.droppedAttributesCount) {
    w.ascii(',"droppedAttributesCount":');
    w.ascii(JSON.stringify(l.droppedAttributesCount));
  }
  if (l.flags) {
    w.ascii(',"flags":');
    w.ascii(JSON.stringify(l.flags));
  }
  if (l.traceId && l.traceId.length > 0) {
    w.ascii(',"traceId":"');
    w.ascii(bytesToHex(l.traceId));
    w.ascii('"');
  }
  if (l.spanId && l.spanId.length > 0) {
    w.ascii(',"spanId":"');
    w.ascii(bytesToHex(l.spanId));
    w.ascii('"');
  }
  if (l.eventName) {
    w.ascii(',"eventName":');
    w.string(l.eventName);
  }
  w.ascii('}');
}

/** A resource as OTLP/JSON. */
function writeResource(w: JsonWriter, r: Immutable<Resource>): void {
  w.ascii('{"attributes":');
  writeKeyValues(w, r.attributes ?? []);
  if (r.droppedAttributesCount) {
    w.ascii(',"droppedAttributesCount":');
    w.ascii(JSON.stringify(r.droppedAttributesCount));
  }
  if (r.entityRefs && r.entityRefs.length > 0) {
    const refs = r.entityRefs.map((e) => {
      const eo: JsonObject = {};
      if (e.schemaUrl) eo.schemaUrl = e.schemaUrl;
      if (e.type) eo.type = e.type;
      if (e.idKeys?.length) eo.idKeys = [...e.idKeys];
      if (e.descriptionKeys?.length) eo.descriptionKeys = [...e.descriptionKeys];
      return eo;
    });
    w.ascii(',"entityRefs":');
    w.text(JSON.stringify(refs));
  }
  w.ascii('}');
}

/** An instrumentation scope as OTLP/JSON (`{}` when it says nothing). */
function writeScope(w: JsonWriter, s: Immutable<InstrumentationScope>): void {
  let sep = '{';
  if (s.name) {
    w.ascii(`${sep}"name":`);
    w.string(s.name);
    sep = ',';
  }
  if (s.version) {
    w.ascii(`${sep}"version":`);
    w.string(s.version);
    sep = ',';
  }
  if (s.attributes && s.attributes.length > 0) {
    w.ascii(`${sep}"attributes":`);
    writeKeyValues(w, s.attributes);
    sep = ',';
  }
  if (s.droppedAttributesCount) {
    w.ascii(`${sep}"droppedAttributesCount":`);
    w.ascii(JSON.stringify(s.droppedAttributesCount));
    sep = ',';
  }
  w.ascii(sep === '{' ? '{}' : '}');
}

function writeSchemaUrlTail(w: JsonWriter, schemaUrl: string | null | undefined): void {
  w.ascii(']');
  if (schemaUrl) {
    w.ascii(',"schemaUrl":');
    w.string(schemaUrl);
  }
  w.ascii('}');
}

function writeResourceLogsHead(w: JsonWriter, resource: Immutable<Resource> | null | undefined): void {
  w.ascii('{"resource":');
  writeResource(w, resource ?? { attributes: [] });
  w.ascii(',"scopeLogs":[');
}

function writeScopeLogsHead(w: JsonWriter, scope: Immutable<InstrumentationScope> | null | undefined): void {
  w.ascii('{"scope":');
  writeScope(w, scope ?? {});
  w.ascii(',"logRecords":[');
}

export const REQUEST_HEAD = '{"resourceLogs":[';
export const REQUEST_TAIL = ']}';

/** A whole request as OTLP/JSON, appended to `w`. */
export function writeJsonRequest(w: JsonWriter, req: Immutable<ExportRequestMessage>): void {
  w.ascii(REQUEST_HEAD);
  const rls = req.resourceLogs ?? [];
  for (let i = 0; i < rls.length; i++) {
    const rl = rls[i];
    if (i > 0) w.ascii(',');
    writeResourceLogsHead(w, rl.resource);
    const sls = rl.scopeLogs ?? [];
    for (let j = 0; j < sls.length; j++) {
      const sl = sls[j];
      if (j > 0) w.ascii(',');
      writeScopeLogsHead(w, sl.scope);
      const logs = sl.logRecords ?? [];
      for (let k = 0; k < logs.length; k++) {
        if (k > 0) w.ascii(',');
        writeLogRecord(w, logs[k]);
      }
      writeSchemaUrlTail(w, sl.schemaUrl);
    }
    writeSchemaUrlTail(w, rl.schemaUrl);
  }
  w.ascii(REQUEST_TAIL);
}

/** A whole request as OTLP/JSON UTF-8 bytes, the form writers and senders need. */
export function encodeJsonRequestBytes(req: Immutable<ExportRequestMessage>): Buffer {
  writeJsonRequest(fresh(), req);
  return shared.take();
}

/** A whole request as one OTLP/JSON line (the request and a newline), as the file exporter and `vigil replay` write them. */
export function encodeJsonLine(req: Immutable<ExportRequestMessage>): Buffer {
  writeJsonRequest(fresh(), req);
  shared.ascii('\n');
  return shared.take();
}

/**
 * encodeJsonLine's bytes lent to `use` instead of copied out: they are the
 * shared writer's, valid only until `use` returns, and `use` must not encode
 * anything itself. For a caller that writes them at once (`vigil replay`'s
 * synchronous file writes): copying each batch's line into a fresh buffer cost
 * replay ~7 % of its CPU, mostly faulting in the new pages.
 */
export function withJsonLine<T>(req: Immutable<ExportRequestMessage>, use: (bytes: Uint8Array) => T): T {
  writeJsonRequest(fresh(), req);
  shared.ascii('\n');
  try {
    return use(shared.written());
  } finally {
    shared.reset();
  }
}

/** A whole request as OTLP/JSON text. */
export function encodeJsonRequest(req: Immutable<ExportRequestMessage>): string {
  writeJsonRequest(fresh(), req);
  return shared.takeText();
}

/** A log record as OTLP/JSON text. */
export function logRecordJsonText(l: Immutable<LogRecord>): string {
  writeLogRecord(fresh(), l);
  return shared.takeText();
}

/** The text around one ResourceLogs' scopeLogs: `{"resource":…,"scopeLogs":[` … `]<,"schemaUrl":…>}`. */
export function resourceLogsFrame(resource: Immutable<Resource> | null | undefined, schemaUrl: string | null | undefined): { head: string; tail: string } {
  writeResourceLogsHead(fresh(), resource);
  const head = shared.takeText();
  writeSchemaUrlTail(shared, schemaUrl);
  return { head, tail: shared.takeText() };
}

/** The text around one ScopeLogs' records: `{"scope":…,"logRecords":[` … `]<,"schemaUrl":…>}`. */
export function scopeLogsFrame(scope: Immutable<InstrumentationScope> | null | undefined, schemaUrl: string | null | undefined): { head: string; tail: string } {
  writeScopeLogsHead(fresh(), scope);
  const head = shared.takeText();
  writeSchemaUrlTail(shared, schemaUrl);
  return { head, tail: shared.takeText() };
}

/** A request as a plain JSON object (for tools that edit it before encoding, like the fuzzer). */
export function requestToJson(req: ExportRequestMessage): JsonObject {
  return JSON.parse(encodeJsonRequest(req)) as JsonObject;
}

// ---- decoding ---------------------------------------------------------------

/** A problem confined to one log record: that record is rejected (partial success), its neighbours go on. */
class RecordError extends Error {}

function field(o: JsonObject, camel: string, snake: string): Json | undefined {
  const v = o[camel];
  return v !== undefined ? v : o[snake];
}

function asObject(v: Json | undefined, what: string): JsonObject | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new TypeError(`${what} must be an object`);
  return v;
}

function asArray(v: Json | undefined, what: string): Json[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new TypeError(`${what} must be an array`);
  return v;
}

function asString(v: Json | undefined, what: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new TypeError(`${what} must be a string`);
  return wellFormed(v);
}

type WellFormedString = { isWellFormed(): boolean; toWellFormed(): string }; // ES2024, in Node ≥ 20

/**
 * A lone surrogate (`"\ud800"` is valid JSON) has no UTF-8 form: the protobuf
 * encoder would write bytes every protobuf decoder refuses, poisoning the
 * downstream export. Replace it with U+FFFD, as a UTF-8 decoder does with
 * invalid bytes.
 */
function wellFormed(s: string): string {
  const w = s as unknown as WellFormedString;
  return w.isWellFormed() ? s : w.toWellFormed();
}

/**
 * Protobuf messages may nest at most this deep (protobufjs's recursion limit,
 * protoc's default): deeper input is refused by the protobuf decoder and cannot
 * be encoded. OTLP/JSON must not accept what the protobuf side cannot carry, so
 * a record nested deeper is rejected (partial success) instead of poisoning the
 * exporters. Depths below count messages from the request (0).
 */
const MAX_MESSAGE_DEPTH = 100;

function nest(depth: number): void {
  if (depth > MAX_MESSAGE_DEPTH) throw new RecordError(`body or attributes nest deeper than the ${MAX_MESSAGE_DEPTH} protobuf message levels OTLP can carry`);
}

function asUint32(v: Json | undefined, what: string): number {
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new TypeError(`${what} must be a uint32`);
  return n;
}

const INT_RE = /^-?\d{1,20}$/;

function asInt64(v: Json | undefined, unsigned: boolean, what: string): Long {
  if (v === undefined || v === null) return unsigned ? Long.UZERO : Long.ZERO;
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || (unsigned && v < 0)) throw new TypeError(`${what} must be an integer`);
    // Long.fromNumber saturates silently (1e30 would become 2^64 − 1): out of range is an error, as for strings.
    if (unsigned ? v >= 2 ** 64 : v < -(2 ** 63) || v >= 2 ** 63) throw new TypeError(`${what} is out of range`);
    return Long.fromNumber(v, unsigned);
  }
  if (typeof v === 'string' && INT_RE.test(v) && !(unsigned && v.startsWith('-'))) {
    const l = Long.fromString(v, unsigned, 10);
    // Long.fromString wraps silently on overflow: round-trip to detect it.
    if (l.toString() !== v.replace(/^(-?)0+(?=\d)/, '$1')) throw new TypeError(`${what} is out of range`);
    return l;
  }
  throw new TypeError(`${what} must be an integer or a decimal string`);
}

function hexToBytes(v: Json | undefined, len: number, what: string): Uint8Array | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || v.length !== len * 2 || !/^[0-9a-fA-F]*$/.test(v))
    throw new RecordError(`${what} must be ${len * 2} hex digits`);
  return Uint8Array.from(Buffer.from(v, 'hex'));
}

const SEVERITY_NAMES = new Map<string, number>(
  ['UNSPECIFIED', 'TRACE', 'TRACE2', 'TRACE3', 'TRACE4', 'DEBUG', 'DEBUG2', 'DEBUG3', 'DEBUG4', 'INFO', 'INFO2', 'INFO3', 'INFO4',
    'WARN', 'WARN2', 'WARN3', 'WARN4', 'ERROR', 'ERROR2', 'ERROR3', 'ERROR4', 'FATAL', 'FATAL2', 'FATAL3', 'FATAL4'].map((n, i) => [
    `SEVERITY_NUMBER_${n}`,
    i,
  ]),
);

/**
 * SeverityNumber is an open protobuf enum: values beyond the 0–24 OTLP defines
 * are kept, as the protobuf decoder (and the Collector) keep them, so a record
 * reads back the same from the JSON it was written as.
 */
function asSeverity(v: Json | undefined): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'string' && SEVERITY_NAMES.has(v)) return SEVERITY_NAMES.get(v)!;
  const n = typeof v === 'string' && /^-?\d{1,10}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) {
    throw new RecordError('severityNumber must be an integer (0 to 24) or a SEVERITY_NUMBER_* name');
  }
  return n;
}

function asDouble(v: Json | undefined): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  throw new TypeError('doubleValue must be a number');
}

/** `depth`: the protobuf message depth of this AnyValue. */
function decodeAnyValue(v: Json | undefined, depth: number): AnyValue | null {
  const o = asObject(v, 'AnyValue');
  if (!o) return null;
  nest(depth);
  let x: Json | undefined;
  if ((x = field(o, 'stringValue', 'string_value')) !== undefined) return { stringValue: asString(x, 'stringValue') };
  if ((x = field(o, 'boolValue', 'bool_value')) !== undefined) {
    if (typeof x !== 'boolean') throw new TypeError('boolValue must be a boolean');
    return { boolValue: x };
  }
  if ((x = field(o, 'intValue', 'int_value')) !== undefined) return { intValue: asInt64(x, false, 'intValue') };
  if ((x = field(o, 'doubleValue', 'double_value')) !== undefined) return { doubleValue: asDouble(x) };
  if ((x = field(o, 'arrayValue', 'array_value')) !== undefined) {
    const a = asObject(x, 'arrayValue') ?? {};
    nest(depth + 1);
    return { arrayValue: { values: asArray(a.values, 'arrayValue.values').map((e) => decodeAnyValue(e, depth + 2) ?? {}) } };
  }
  if ((x = field(o, 'kvlistValue', 'kvlist_value')) !== undefined) {
    const kv = asObject(x, 'kvlistValue') ?? {};
    nest(depth + 1);
    return { kvlistValue: { values: decodeKeyValues(kv.values, depth + 1) } };
  }
  if ((x = field(o, 'bytesValue', 'bytes_value')) !== undefined) {
    const s = asString(x, 'bytesValue');
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(s)) throw new TypeError('bytesValue must be base64');
    return { bytesValue: Uint8Array.from(Buffer.from(s, 'base64')) };
  }
  return {};
}

/** `parentDepth`: the protobuf message depth of the message holding these KeyValues. */
function decodeKeyValues(v: Json | undefined, parentDepth: number): KeyValue[] {
  return asArray(v, 'attributes').map((e) => {
    const o = asObject(e, 'KeyValue') ?? {};
    nest(parentDepth + 1);
    return { key: asString(o.key, 'key'), value: decodeAnyValue(o.value, parentDepth + 2) };
  });
}

function decodeResource(v: Json | undefined): Resource {
  const o = asObject(v, 'resource') ?? {};
  const r: Resource = {
    attributes: decodeKeyValues(o.attributes, 2),
    droppedAttributesCount: asUint32(field(o, 'droppedAttributesCount', 'dropped_attributes_count'), 'droppedAttributesCount'),
  };
  const refs = asArray(field(o, 'entityRefs', 'entity_refs'), 'entityRefs');
  if (refs.length > 0) {
    r.entityRefs = refs.map((e): EntityRef => {
      const eo = asObject(e, 'entityRef') ?? {};
      return {
        schemaUrl: asString(field(eo, 'schemaUrl', 'schema_url'), 'schemaUrl'),
        type: asString(eo.type, 'type'),
        idKeys: asArray(field(eo, 'idKeys', 'id_keys'), 'idKeys').map((k) => asString(k, 'idKeys')),
        descriptionKeys: asArray(field(eo, 'descriptionKeys', 'description_keys'), 'descriptionKeys').map((k) =>
          asString(k, 'descriptionKeys'),
        ),
      };
    });
  }
  return r;
}

function decodeScope(v: Json | undefined): InstrumentationScope {
  const o = asObject(v, 'scope') ?? {};
  return {
    name: asString(o.name, 'scope.name'),
    version: asString(o.version, 'scope.version'),
    attributes: decodeKeyValues(o.attributes, 3),
    droppedAttributesCount: asUint32(field(o, 'droppedAttributesCount', 'dropped_attributes_count'), 'droppedAttributesCount'),
  };
}

function decodeLogRecord(v: Json): LogRecord {
  const o = asObject(v, 'logRecord') ?? {};
  const rec: LogRecord = {
    timeUnixNano: asInt64(field(o, 'timeUnixNano', 'time_unix_nano'), true, 'timeUnixNano'),
    observedTimeUnixNano: asInt64(field(o, 'observedTimeUnixNano', 'observed_time_unix_nano'), true, 'observedTimeUnixNano'),
    severityNumber: asSeverity(field(o, 'severityNumber', 'severity_number')),
    severityText: asString(field(o, 'severityText', 'severity_text'), 'severityText'),
    body: decodeAnyValue(o.body, 4),
    attributes: decodeKeyValues(o.attributes, 3),
    droppedAttributesCount: asUint32(field(o, 'droppedAttributesCount', 'dropped_attributes_count'), 'droppedAttributesCount'),
    flags: asUint32(o.flags, 'flags'),
    eventName: asString(field(o, 'eventName', 'event_name'), 'eventName'),
  };
  const traceId = hexToBytes(field(o, 'traceId', 'trace_id'), 16, 'traceId');
  const spanId = hexToBytes(field(o, 'spanId', 'span_id'), 8, 'spanId');
  if (traceId) rec.traceId = traceId;
  if (spanId) rec.spanId = spanId;
  return rec;
}

export interface DecodedJsonRequest {
  request: ExportRequestMessage;
  rejected: number;
  rejectReason?: string;
}

/**
 * Decodes an OTLP/JSON ExportLogsServiceRequest. A structural error anywhere but
 * inside one log record refuses the request (INVALID_ARGUMENT); a record whose
 * own fields are unusable is dropped and counted for partial success.
 */
export function decodeJsonRequest(text: string): DecodedJsonRequest {
  let parsed: Json;
  try {
    parsed = JSON.parse(text) as Json;
  } catch (err) {
    throw Refusal.invalid(`malformed JSON: ${(err as Error).message}`);
  }
  let rejected = 0;
  let rejectReason: string | undefined;
  try {
    const top = asObject(parsed, 'request');
    if (!top) throw new TypeError('request must be a JSON object');
    const resourceLogs: ResourceLogsMessage[] = asArray(field(top, 'resourceLogs', 'resource_logs'), 'resourceLogs').map((rlv) => {
      const rl = asObject(rlv, 'resourceLogs[]') ?? {};
      const scopeLogs: ScopeLogsMessage[] = asArray(field(rl, 'scopeLogs', 'scope_logs'), 'scopeLogs').map((slv) => {
        const sl = asObject(slv, 'scopeLogs[]') ?? {};
        const logRecords: LogRecord[] = [];
        for (const lv of asArray(field(sl, 'logRecords', 'log_records'), 'logRecords')) {
          try {
            logRecords.push(decodeLogRecord(lv));
          } catch (err) {
            if (!(err instanceof RecordError || err instanceof TypeError)) throw err;
            rejected++;
            rejectReason ??= err.message;
          }
        }
        return { scope: decodeScope(sl.scope), logRecords, schemaUrl: asString(field(sl, 'schemaUrl', 'schema_url'), 'schemaUrl') };
      });
      return { resource: decodeResource(rl.resource), scopeLogs, schemaUrl: asString(field(rl, 'schemaUrl', 'schema_url'), 'schemaUrl') };
    });
    const out: DecodedJsonRequest = { request: { resourceLogs }, rejected };
    if (rejectReason !== undefined) out.rejectReason = rejectReason;
    return out;
  } catch (err) {
    if (err instanceof Refusal) throw err;
    if (err instanceof RangeError) throw Refusal.invalid('malformed OTLP/JSON: nesting too deep');
    throw Refusal.invalid(`malformed OTLP/JSON: ${(err as Error).message}`);
  }
}
