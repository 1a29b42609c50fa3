// The wire decoder against protobufjs's (the object path), field by field, on
// valid requests from Vigil's generator and from the OpenTelemetry SDK's own
// serializer, on mutated and random bytes and on the hostile cases.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mutatedProtobuf, randomBytes, validRequest } from '../../src/fuzz/arbitraries.js';
import { hostileCases } from '../../src/fuzz/hostile.js';
import { officialRequest } from '../../src/fuzz/otel-arbitraries.js';
import { checkWireDecode, firstDifference } from '../../src/fuzz/wire-differential.js';
import { encodeVarint } from '../../src/fuzz/wire.js';
import { encodeProtobufRequest } from '../../src/otlp/convert.js';
import { decodeProtobufBatch } from '../../src/otlp/wire-decode.js';
import { FramedRecord } from '../../src/otlp/wire-frame.js';
import { Refusal } from '../../src/pipeline/errors.js';
import { Long } from '../../src/pipeline/record.js';

const SEED = 20261204;
const cat = (...parts: (Uint8Array | number[])[]) => Buffer.concat(parts.map((p) => Buffer.from(p)));
const len = (field: number, body: Uint8Array) => cat(encodeVarint(field * 8 + 2), encodeVarint(body.length), body);
const str = (field: number, s: string | Uint8Array) => len(field, typeof s === 'string' ? Buffer.from(s) : s);
const request = (...records: Uint8Array[]) => len(1, len(2, cat(...records.map((r) => len(2, r)))));

describe('wire decoder = protobufjs decoder', () => {
  it('agrees on valid requests (Vigil generator, 400 cases)', () => {
    fc.assert(fc.property(validRequest(), (req) => void checkWireDecode(encodeProtobufRequest(req))), { numRuns: 400, seed: SEED });
  });

  it('agrees on requests written by the OpenTelemetry SDK serializer, bad trace/span ids included (400 cases)', () => {
    const outcomes = new Set<string>();
    fc.assert(fc.property(officialRequest, (bytes) => void outcomes.add(checkWireDecode(bytes))), { numRuns: 400, seed: SEED });
    expect(outcomes).toEqual(new Set(['accepted', 'partial']));
  });

  it('agrees on mutated and random bytes: the same records, or both refuse with INVALID_ARGUMENT (1,500 cases)', () => {
    const outcomes = new Map<string, number>();
    fc.assert(
      fc.property(fc.oneof({ weight: 3, arbitrary: mutatedProtobuf }, randomBytes), (bytes) => {
        const o = checkWireDecode(bytes);
        outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
      }),
      { numRuns: 1500, seed: SEED },
    );
    expect(outcomes.get('refused')).toBeGreaterThan(100);
    expect(outcomes.get('accepted')).toBeGreaterThan(100);
  });

  it('agrees on every hostile case (deep nesting, invalid UTF-8, huge values, duplicate keys…)', () => {
    for (const c of hostileCases) if (c.kind === 'protobuf') checkWireDecode(c.build() as Uint8Array);
  });

  it('agrees on hand-written edge cases: unknown fields, field order, repeated scalars and messages, oneofs, negative varints, packed-looking bytes, empties', () => {
    const body = (s: string) => str(5, str(1, s));
    const kv = (k: string, v: Uint8Array) => len(6, cat(str(1, k), len(2, v)));
    const neg = cat([0x18], encodeVarint(-5n & ((1n << 64n) - 1n))); // AnyValue.int_value = -5: a 10-byte varint
    const cases: Uint8Array[] = [
      new Uint8Array(0), // an empty request
      request(new Uint8Array(0)), // an empty record
      request(cat(body('a'), [0xa0, 0x06, 0x01], body('b'))), // unknown varint field 100 between two bodies (merged: last string wins)
      request(cat(kv('x', str(1, 's')), [0x10, 0x09], kv('y', cat([0x10, 0x01], str(1, 't'), neg)))), // several oneof members: the last wins
      request(cat([0x1a, 0x01, 0x41, 0x1a, 0x01, 0x42])), // severity_text twice
      request(cat([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])), // severity_number as a negative 10-byte varint
      request(cat([0x0a, 0x02, 0x08, 0x01])), // time (fixed64) sent length-delimited: a wire-type mismatch, skipped
      request(cat([0x32, 0x04, 0x08, 0x01, 0x08, 0x02])), // attributes with varint fields inside (unknown in KeyValue)
      request(cat(str(9, new Uint8Array(7)))), // a 7-byte trace id: rejected (partial success)
      request(cat(str(3, Uint8Array.from([0xc3, 0x28])))), // invalid UTF-8 in severity_text: refused
      len(1, cat(len(1, str(1, kv('a', str(1, 'r')).subarray(2))), len(1, new Uint8Array(0)), len(2, len(2, body('x'))))), // resource sent twice: merged
      cat(len(1, len(2, cat(len(2, body('late')), len(1, str(1, 'scope-after-records')))))), // the scope after its records
      cat([0x0b, 0x08, 0x01, 0x0c], request(body('after a group'))), // a group at the top level: skipped
    ];
    const outcomes = cases.map((b) => checkWireDecode(b));
    expect(outcomes).toEqual(['accepted', 'accepted', 'accepted', 'accepted', 'accepted', 'accepted', 'accepted', 'accepted', 'partial', 'refused', 'accepted', 'accepted', 'accepted']);
  });

  it('agrees where the hand-written record decoder differs from protobufjs in how it works: oneof members, merges, cached keys', () => {
    const body = (v: Uint8Array) => len(5, v);
    const kv = (k: string | Uint8Array, v: Uint8Array) => len(6, cat(str(1, k), len(2, v)));
    const list = len(6, len(1, cat(str(1, 'm'), len(2, str(1, 'x')))));
    const cases: Uint8Array[] = [
      request(cat(body(str(1, 'first')), body(list))), // body twice: string, then a kvlist merged in (the string goes)
      request(cat(body(list), body(cat([0x10, 0x01])))), // kvlist, then bool
      request(cat(body(len(5, len(1, str(1, 'a')))), body(len(5, len(1, str(1, 'b')))))), // two arrays merged
      request(kv('k', cat([0x18, 0x05])), cat([0x32, 0x07, 0x0a, 0x01, 0x6b, 0x12, 0x02, 0x10, 0x01])), // KeyValue value twice (int then, in another KeyValue, bool)
      request(cat(len(6, cat(str(1, 'k'), len(2, cat([0x18, 0x05])), len(2, str(1, 's')))))), // one KeyValue, value sent twice: merged
      request(kv('', str(1, 'empty key')), kv('x'.repeat(65), str(1, 'long key')), kv('é', str(1, 'non-ASCII key'))),
      request(kv('ok', str(1, 'v')), kv(Uint8Array.from([0x6f, 0xff]), str(1, 'invalid UTF-8 key, same length as a cached one'))),
    ];
    expect(cases.map((b) => checkWireDecode(b))).toEqual(['accepted', 'accepted', 'accepted', 'accepted', 'accepted', 'accepted', 'refused']);
    // Thousands of distinct keys of one length: cache slots collide and are replaced; every key must still read right.
    const many = Array.from({ length: 3000 }, (_, i) => kv(`key.${String(i).padStart(5, '0')}`, str(1, String(i))));
    for (let round = 0; round < 2; round++) expect(checkWireDecode(request(...many.map((a) => cat(a))))).toBe('accepted');
    const records = decodeProtobufBatch(request(...many.map((a) => cat(a)))).records;
    expect(records.map((r) => r.log.attributes[0].key)).toEqual(Array.from({ length: 3000 }, (_, i) => `key.${String(i).padStart(5, '0')}`));
  });

  it('refuses nesting past protobufjs recursion limit, as protobufjs does', () => {
    let v: Uint8Array = str(1, 'bottom');
    for (let i = 0; i < 120; i++) v = len(6, len(1, cat(str(1, 'k'), len(2, v))));
    expect(checkWireDecode(request(cat(len(5, v))))).toBe('refused');
    expect(() => decodeProtobufBatch(request(cat(len(5, v))))).toThrow(/malformed protobuf ExportLogsServiceRequest: max depth exceeded/);
  });
});

describe('frames', () => {
  it('each record knows its bytes; copies and hand-built records do not', () => {
    const bytes = encodeProtobufRequest({
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] },
          scopeLogs: [
            {
              scope: { name: 'http' },
              logRecords: [
                {
                  timeUnixNano: Long.fromString('1767225600123456789', true),
                  body: { stringValue: '10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET /a HTTP/1.1" 200 5' },
                  attributes: [{ key: 'k', value: { kvlistValue: { values: [{ key: 'deep', value: { intValue: -1 } }] } } }],
                  traceId: new Uint8Array(16).fill(1),
                },
              ],
            },
          ],
        },
      ],
    });
    const { records } = decodeProtobufBatch(bytes);
    const frame = FramedRecord.frameOf(records[0])!;
    expect(frame.end - frame.start).toBeGreaterThan(100);
    expect(frame.attrs).toEqual(records[0].log.attributes);
    expect(frame.attrs).not.toBe(records[0].log.attributes);
    expect(FramedRecord.frameOf({ ...records[0] })).toBeUndefined();
    expect(firstDifference(records[0].log, { ...records[0].log })).toMatch(/different classes/);
  });

  it('malformed input is INVALID_ARGUMENT with the reason', () => {
    let err: unknown;
    try {
      decodeProtobufBatch(Uint8Array.from([0x0a, 0x05, 0x12]));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Refusal);
    expect((err as Refusal).code).toBe('INVALID_ARGUMENT');
    expect((err as Refusal).message).toMatch(/^malformed protobuf ExportLogsServiceRequest: .*index out of range/);
  });
});
