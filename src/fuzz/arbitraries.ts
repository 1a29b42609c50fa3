// fast-check generators of OTLP requests (valid ones, and mutations of them),
// of OTLP/JSON-shaped garbage, and of config structures. Every generator is
// bounded in size and depth, so no case can take long or use much memory.
import fc from 'fast-check';
import Long from 'long';
import type { ExportRequestMessage, ResourceLogsMessage, ScopeLogsMessage } from '../otlp/convert.js';
import { encodeProtobufRequest } from '../otlp/convert.js';
import { requestToJson } from '../otlp/json.js';
import type { AnyValue, EntityRef, InstrumentationScope, KeyValue, LogRecord, Resource } from '../pipeline/record.js';
import type { JsonMutation, TextMutation } from './json-mutate.js';
import { mutateJson, serialise } from './json-mutate.js';
import type { LengthCorruption, Mutation, VarintKind } from './mutate.js';
import { applyMutations } from './mutate.js';

// ---- scalars -------------------------------------------------------------------

/**
 * Any Unicode scalar value (NUL, controls and astral planes included; no lone
 * surrogates). Built by hand: fast-check's `unit: 'binary'` takes seconds to set up.
 */
const codePoint = fc
  .oneof(fc.integer({ min: 0, max: 0xd7ff }), fc.integer({ min: 0xe000, max: 0x10ffff }))
  .map((cp) => String.fromCodePoint(cp));

/** Well-formed strings: ASCII, any code point (NUL and astral included), graphemes, and names OTLP uses. */
export const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 16 }) },
  { weight: 2, arbitrary: fc.string({ unit: codePoint, maxLength: 16 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '\u0000', 'a\u0000b', 'service.name', 'http.request.method', '\uFFFD', '\u{1F600}', '\u202E') },
);

/** Strings a well-behaved client cannot send: lone surrogates, which have no UTF-8 encoding. */
export const illFormedText = fc
  .tuple(fc.string({ maxLength: 6 }), fc.integer({ min: 0xd800, max: 0xdfff }), fc.string({ maxLength: 6 }))
  .map(([a, s, b]) => `${a}${String.fromCharCode(s)}${b}`);

const int64 = fc.bigInt(-(1n << 63n), (1n << 63n) - 1n).map((b) => Long.fromString(b.toString(), false));
const uint64 = fc.bigInt(0n, (1n << 64n) - 1n).map((b) => Long.fromString(b.toString(), true));
/** Timestamps: unset, around now, or anywhere in the 64-bit range. */
const timestamp = fc.oneof(
  fc.constant(Long.UZERO),
  fc.bigInt(1_600_000_000_000_000_000n, 1_900_000_000_000_000_000n).map((b) => Long.fromString(b.toString(), true)),
  uint64,
);
const uint32 = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff }));
const bytesOf = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });

// ---- valid requests --------------------------------------------------------------

const fresh = <T>(f: () => T) => fc.constant(null).map(f);

const { anyValue, keyValue } = fc.letrec<{ anyValue: AnyValue; keyValue: KeyValue }>((tie) => ({
  anyValue: fc.oneof(
    { depthSize: 'small', maxDepth: 3, withCrossShrink: true },
    text.map((s) => ({ stringValue: s })),
    fc.boolean().map((b) => ({ boolValue: b })),
    int64.map((i) => ({ intValue: i })),
    fc.double().map((d) => ({ doubleValue: d })), // NaN, ±Infinity and −0 included
    fc.uint8Array({ maxLength: 12 }).map((b) => ({ bytesValue: b })),
    fc.array(tie('anyValue'), { maxLength: 3 }).map((values) => ({ arrayValue: { values } })),
    fc.array(tie('keyValue'), { maxLength: 3 }).map((values) => ({ kvlistValue: { values } })),
    fresh(() => ({})), // an AnyValue with nothing set
  ),
  keyValue: fc.record({ key: text, value: tie('anyValue') }),
}));
export { anyValue, keyValue };

const attributes = fc.array(keyValue, { maxLength: 3 });

export const logRecord: fc.Arbitrary<LogRecord> = fc.record(
  {
    timeUnixNano: timestamp,
    observedTimeUnixNano: timestamp,
    severityNumber: fc.integer({ min: 0, max: 24 }),
    severityText: text,
    body: anyValue,
    attributes,
    droppedAttributesCount: uint32,
    flags: uint32,
    traceId: fc.oneof(bytesOf(16), bytesOf(0)),
    spanId: fc.oneof(bytesOf(8), bytesOf(0)),
    eventName: text,
  },
  { requiredKeys: ['attributes'] },
);

const entityRef: fc.Arbitrary<EntityRef> = fc.record(
  { schemaUrl: text, type: text, idKeys: fc.array(text, { maxLength: 2 }), descriptionKeys: fc.array(text, { maxLength: 2 }) },
  { requiredKeys: [] },
);

const resource: fc.Arbitrary<Resource> = fc.record(
  { attributes, droppedAttributesCount: uint32, entityRefs: fc.array(entityRef, { maxLength: 2 }) },
  { requiredKeys: ['attributes'] },
);

const scope: fc.Arbitrary<InstrumentationScope> = fc.record(
  { name: text, version: text, attributes, droppedAttributesCount: uint32 },
  { requiredKeys: [] },
);

/**
 * Valid ExportLogsServiceRequests. With `nonEmpty`, every resource and scope
 * carries at least one record (so regrouping a batch gives the same request).
 */
export function validRequest(opts: { nonEmpty?: boolean } = {}): fc.Arbitrary<ExportRequestMessage> {
  const min = opts.nonEmpty ? 1 : 0;
  const scopeLogs: fc.Arbitrary<ScopeLogsMessage> = fc.record(
    { scope, logRecords: fc.array(logRecord, { minLength: min, maxLength: 3 }), schemaUrl: text },
    { requiredKeys: ['logRecords'] },
  );
  const resourceLogs: fc.Arbitrary<ResourceLogsMessage> = fc.record(
    { resource, scopeLogs: fc.array(scopeLogs, { minLength: min, maxLength: 2 }), schemaUrl: text },
    { requiredKeys: ['scopeLogs'] },
  );
  return fc.record({ resourceLogs: fc.array(resourceLogs, { minLength: min, maxLength: 2 }) });
}

// ---- protobuf mutations ------------------------------------------------------------

const lengthCorruption = fc.constantFrom<LengthCorruption>('plus_one', 'minus_one', 'zero', 'max_int32', 'max_uint32', 'max_uint64', 'negative', 'padded');
const varintKind = fc.constantFrom<VarintKind>('max_uint64', 'overlong', 'unterminated', 'padded', 'giant_tag', 'giant_len');
const position = fc.nat({ max: 1 << 20 });

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: position }),
  fc.record({ op: fc.constant('set' as const), at: position, byte: fc.constantFrom(0x00, 0x7f, 0x80, 0xff, 0x0a, 0x12, 0x08) }),
  fc.record({ op: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ op: fc.constant('delete' as const), at: position, len: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ op: fc.constant('duplicate' as const), at: position, len: fc.integer({ min: 1, max: 64 }) }),
  { weight: 2, arbitrary: fc.record({ op: fc.constant('length' as const), field: position, to: lengthCorruption }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('wire_type' as const), field: position, wireType: fc.nat({ max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('varint' as const), field: position, kind: varintKind, fieldNo: fc.integer({ min: 1, max: 20 }) }) },
  fc.record({ op: fc.constant('field_number' as const), field: position, fieldNo: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20 }), fc.constant(0x1fffffff)) }),
);

/** A valid request's protobuf bytes with one to three mutations applied. */
export const mutatedProtobuf: fc.Arbitrary<Uint8Array> = fc
  .tuple(validRequest(), fc.array(mutation, { minLength: 1, maxLength: 3 }))
  .map(([req, ms]) => applyMutations(encodeProtobufRequest(req), ms));

/** Bytes that look a little like protobuf: runs of tags, varints and lengths, plus plain random bytes. */
export const randomBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 256 }),
  fc
    .array(
      fc.oneof(
        fc.constantFrom(0x0a, 0x12, 0x1a, 0x22, 0x2a, 0x08, 0x09, 0x11, 0x15, 0x00, 0xff, 0x80, 0x7f),
        fc.nat({ max: 255 }),
      ),
      { maxLength: 256 },
    )
    .map((xs) => Uint8Array.from(xs)),
);

// ---- OTLP/JSON -------------------------------------------------------------------------

/** Values a hostile client might put anywhere in a JSON request. */
export const hostileJsonValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  fc.constantFrom(
    null, true, false, 0, -1, -0, 1.5, 1e308, -1e308, 2 ** 53, 2 ** 64, -(2 ** 63), 4294967296,
    '', '0', '-1', '1.5', '1e3', 'NaN', 'Infinity', '-Infinity', ' 12', '0x10', '18446744073709551615', '18446744073709551616',
    '-9223372036854775808', '-9223372036854775809', '00000000000000000000000001', 'SEVERITY_NUMBER_WARN', 'SEVERITY_NUMBER_NOPE',
    '\u0000', 'AAH+/w==', '-_-_', '====', '0102030405060708090a0b0c0d0e0f10', 'zz02030405060708090a0b0c0d0e0f10',
    [], {}, [[]], { values: null }, { values: {} }, { stringValue: 1 }, { intValue: '1', stringValue: 'x' },
  ),
  illFormedText,
  fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }), // integers beyond double precision, as JSON numbers
);

const OTLP_KEYS = [
  'resourceLogs', 'resource_logs', 'resource', 'scopeLogs', 'scope_logs', 'scope', 'logRecords', 'log_records', 'schemaUrl',
  'attributes', 'droppedAttributesCount', 'entityRefs', 'idKeys', 'type', 'name', 'version', 'timeUnixNano', 'time_unix_nano',
  'observedTimeUnixNano', 'severityNumber', 'severityText', 'body', 'flags', 'traceId', 'spanId', 'eventName', 'key', 'value',
  'stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue', 'values', '__proto__', 'constructor',
];

/** Objects built from OTLP field names with arbitrary values: reaches deep into the decoder without being valid. */
export const otlpShapedJson: fc.Arbitrary<unknown> = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', maxDepth: 6 },
    hostileJsonValue,
    fc.array(tie('node'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...OTLP_KEYS), tie('node'), { maxKeys: 4 }),
  ),
})).node;

export const jsonMutation: fc.Arbitrary<JsonMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('replace' as const), node: position, value: hostileJsonValue }) },
  fc.record({ op: fc.constant('delete' as const), node: position }),
  fc.record({ op: fc.constant('rename' as const), node: position, key: fc.oneof(fc.constantFrom(...OTLP_KEYS), fc.string({ maxLength: 8 })) }),
  fc.record({ op: fc.constant('duplicate_key' as const), node: position, value: hostileJsonValue }),
  fc.record({ op: fc.constant('nest' as const), node: position, depth: fc.integer({ min: 1, max: 40 }), inArray: fc.boolean() }),
);

export const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at: position }),
  fc.record({ op: fc.constant('insert' as const), at: position, text: fc.oneof(fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '\\', '\\u', 'null', '-', 'e9', '\u0000'), fc.string({ maxLength: 4 })) }),
  fc.record({ op: fc.constant('delete' as const), at: position, len: fc.integer({ min: 1, max: 8 }) }),
);

/** A valid request's OTLP/JSON text after structural and (sometimes) textual mutations. */
export const mutatedJson: fc.Arbitrary<string> = fc
  .tuple(validRequest(), fc.array(jsonMutation, { minLength: 1, maxLength: 3 }), fc.array(textMutation, { maxLength: 1 }))
  .map(([req, ms, ts]) => mutateJson(requestToJson(req), ms, ts));

export const randomJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 64 }),
  fc.string({ unit: codePoint, maxLength: 64 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  otlpShapedJson.map(serialise),
);
