// Hostile values, each sent as the middle record of three, in both encodings:
// a 10 MiB attribute, a 1,000-deep kvlist, 100,000 attributes, NUL bytes,
// invalid UTF-8, NaN/Infinity doubles, absurd and negative timestamps,
// duplicate keys, out-of-range enums. The protobuf requests are written byte by
// byte (no encoder would produce some of them); the JSON ones as text.
import { encodeVarint, WireType } from './wire.js';

export interface HostileCase {
  name: string;
  kind: 'protobuf' | 'json';
  /** Built on demand: some are large. */
  build(): Uint8Array | string;
}

export const NEIGHBOUR_BEFORE = 'neighbour-before';
export const NEIGHBOUR_AFTER = 'neighbour-after';

// ---- a minimal protobuf writer ---------------------------------------------------

function concat(parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}
const tag = (fieldNo: number, wt: number) => encodeVarint(fieldNo * 8 + wt);
const len = (fieldNo: number, body: Uint8Array) => concat([tag(fieldNo, WireType.LEN), encodeVarint(body.length), body]);
const str = (fieldNo: number, s: string | Uint8Array) => len(fieldNo, typeof s === 'string' ? Buffer.from(s, 'utf8') : s);
const varint = (fieldNo: number, v: number | bigint) => concat([tag(fieldNo, WireType.VARINT), encodeVarint(v)]);
function fixed64(fieldNo: number, v: bigint): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, v));
  return concat([tag(fieldNo, WireType.I64), b]);
}
function double(fieldNo: number, d: number): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(d);
  return concat([tag(fieldNo, WireType.I64), b]);
}

// AnyValue: string 1, bool 2, int 3, double 4, array 5, kvlist 6, bytes 7. KeyValue: key 1, value 2.
const anyString = (s: string | Uint8Array) => str(1, s);
const keyValue = (key: string | Uint8Array, anyValue: Uint8Array) => concat([str(1, key), len(2, anyValue)]);
const kvlist = (kvs: Uint8Array[]) => len(6, concat(kvs.map((kv) => len(1, kv))));

/** AnyValue bytes of a kvlist nested `depth` levels deep, built inside out without recursion. */
function deepKvlist(depth: number): Uint8Array {
  let v = anyString('bottom');
  for (let i = 0; i < depth; i++) v = kvlist([keyValue('k', v)]);
  return v;
}

// LogRecord: time 1 (fixed64), severity_number 2, severity_text 3, body 5, attributes 6, flags 8, observed_time 11, event_name 12.
function logRecord(parts: { body?: Uint8Array; attributes?: Uint8Array[]; fields?: Uint8Array[] }): Uint8Array {
  return concat([
    ...(parts.fields ?? []),
    ...(parts.body ? [len(5, parts.body)] : []),
    ...(parts.attributes ?? []).map((kv) => len(6, kv)),
  ]);
}

/** An ExportLogsServiceRequest of one resource and scope holding the neighbours and the hostile record between them. */
function protobufRequest(hostile: Uint8Array): Uint8Array {
  const records = [logRecord({ body: anyString(NEIGHBOUR_BEFORE) }), hostile, logRecord({ body: anyString(NEIGHBOUR_AFTER) })];
  const scopeLogs = concat([len(1, str(1, 'hostile-scope')), ...records.map((r) => len(2, r))]);
  const resourceLogs = concat([len(1, len(1, keyValue('service.name', anyString('fuzz')))), len(2, scopeLogs)]);
  return len(1, resourceLogs);
}

// ---- JSON ---------------------------------------------------------------------------

function jsonRequest(hostileRecord: string): string {
  const n = (body: string) => `{"body":{"stringValue":"${body}"},"attributes":[]}`;
  return `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"fuzz"}}]},"scopeLogs":[{"scope":{"name":"hostile-scope"},"logRecords":[${n(NEIGHBOUR_BEFORE)},${hostileRecord},${n(NEIGHBOUR_AFTER)}]}]}]}`;
}

function jsonDeepKvlist(depth: number): string {
  return `${'{"kvlistValue":{"values":[{"key":"k","value":'.repeat(depth)}{"stringValue":"bottom"}${'}]}}'.repeat(depth)}`;
}

const MIB = 1024 * 1024;

// ---- the cases ---------------------------------------------------------------------------

export const hostileCases: HostileCase[] = [
  {
    name: 'a 10 MiB attribute value',
    kind: 'protobuf',
    build: () => protobufRequest(logRecord({ attributes: [keyValue('big', anyString('x'.repeat(10 * MIB)))] })),
  },
  {
    name: 'a 10 MiB attribute value',
    kind: 'json',
    build: () => jsonRequest(`{"attributes":[{"key":"big","value":{"stringValue":"${'x'.repeat(10 * MIB)}"}}]}`),
  },
  { name: 'a 1,000-deep kvlist body', kind: 'protobuf', build: () => protobufRequest(logRecord({ body: deepKvlist(1000) })) },
  { name: 'a 1,000-deep kvlist body', kind: 'json', build: () => jsonRequest(`{"body":${jsonDeepKvlist(1000)}}`) },
  { name: 'a 20-deep kvlist body (within limits)', kind: 'protobuf', build: () => protobufRequest(logRecord({ body: deepKvlist(20) })) },
  { name: 'a 20-deep kvlist body (within limits)', kind: 'json', build: () => jsonRequest(`{"body":${jsonDeepKvlist(20)}}`) },
  {
    name: '100,000 attributes',
    kind: 'protobuf',
    build: () => protobufRequest(logRecord({ attributes: Array.from({ length: 100_000 }, (_, i) => keyValue(`k${i}`, anyString(`v${i}`))) })),
  },
  {
    name: '100,000 attributes',
    kind: 'json',
    build: () =>
      jsonRequest(`{"attributes":[${Array.from({ length: 100_000 }, (_, i) => `{"key":"k${i}","value":{"stringValue":"v${i}"}}`).join(',')}]}`),
  },
  {
    name: 'NUL bytes in keys, values, body and severity text',
    kind: 'protobuf',
    build: () => protobufRequest(logRecord({ fields: [str(3, 'IN\0FO')], body: anyString('a\0b'), attributes: [keyValue('k\0', anyString('\0\0'))] })),
  },
  {
    name: 'NUL bytes in keys, values, body and severity text',
    kind: 'json',
    build: () => jsonRequest('{"severityText":"IN\\u0000FO","body":{"stringValue":"a\\u0000b"},"attributes":[{"key":"k\\u0000","value":{"stringValue":"\\u0000\\u0000"}}]}'),
  },
  {
    name: 'invalid UTF-8 in an attribute value',
    kind: 'protobuf',
    build: () => protobufRequest(logRecord({ attributes: [keyValue('k', anyString(Uint8Array.of(0x61, 0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80)))] })),
  },
  {
    name: 'invalid UTF-8 in a key',
    kind: 'protobuf',
    build: () => protobufRequest(logRecord({ attributes: [keyValue(Uint8Array.of(0xc0, 0xaf), anyString('v'))] })),
  },
  {
    name: 'lone surrogates (JSON\'s invalid UTF-8) in a key, a value and the body',
    kind: 'json',
    build: () => jsonRequest('{"body":{"stringValue":"a\\ud800b"},"attributes":[{"key":"\\udfff","value":{"stringValue":"x\\udc00\\ud800"}}]}'),
  },
  {
    name: 'NaN and ±Infinity doubles',
    kind: 'protobuf',
    build: () =>
      protobufRequest(
        logRecord({
          body: double(4, NaN),
          attributes: [keyValue('inf', double(4, Infinity)), keyValue('-inf', double(4, -Infinity)), keyValue('-0', double(4, -0))],
        }),
      ),
  },
  {
    name: 'NaN and ±Infinity doubles',
    kind: 'json',
    build: () =>
      jsonRequest(
        '{"body":{"doubleValue":"NaN"},"attributes":[{"key":"inf","value":{"doubleValue":"Infinity"}},{"key":"-inf","value":{"doubleValue":"-Infinity"}},{"key":"big","value":{"doubleValue":1e999}}]}',
      ),
  },
  {
    name: 'absurd timestamps (0, 1 ns, 2^64 − 1 ns)',
    kind: 'protobuf',
    build: () => protobufRequest(logRecord({ fields: [fixed64(1, (1n << 64n) - 1n), fixed64(11, 1n)], body: anyString('t') })),
  },
  {
    name: 'absurd timestamps (0, 1 ns, 2^64 − 1 ns)',
    kind: 'json',
    build: () => jsonRequest('{"timeUnixNano":"18446744073709551615","observedTimeUnixNano":1,"body":{"stringValue":"t"}}'),
  },
  { name: 'a negative timestamp', kind: 'json', build: () => jsonRequest('{"timeUnixNano":"-1","body":{"stringValue":"t"}}') },
  { name: 'a timestamp beyond 64 bits', kind: 'json', build: () => jsonRequest('{"timeUnixNano":"18446744073709551616"}') },
  { name: 'a timestamp as a huge JSON number', kind: 'json', build: () => jsonRequest('{"timeUnixNano":1e30}') },
  {
    name: 'a negative int64 timestamp written as a ten-byte varint where fixed64 belongs',
    kind: 'protobuf',
    build: () => protobufRequest(logRecord({ fields: [varint(1, -1n)] })),
  },
  {
    name: 'duplicate attribute keys',
    kind: 'protobuf',
    build: () => protobufRequest(logRecord({ attributes: [keyValue('dup', anyString('first')), keyValue('dup', anyString('second'))] })),
  },
  {
    name: 'duplicate attribute keys and duplicate JSON object keys',
    kind: 'json',
    build: () =>
      jsonRequest('{"body":{"stringValue":"first"},"body":{"stringValue":"second"},"attributes":[{"key":"dup","value":{"stringValue":"a"}},{"key":"dup","value":{"stringValue":"b"}}]}'),
  },
  {
    name: 'out-of-range severity numbers',
    kind: 'protobuf',
    build: () => protobufRequest(logRecord({ fields: [varint(2, 99), str(3, 'WAY-UP')] })),
  },
  { name: 'a negative severity number', kind: 'protobuf', build: () => protobufRequest(logRecord({ fields: [varint(2, -5n)] })) },
  { name: 'an out-of-range severity number', kind: 'json', build: () => jsonRequest('{"severityNumber":99}') },
];
