import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import Long from 'long';
import {
  batchToRequest,
  decodeProtobufRequest,
  encodeProtobufRequest,
  requestToBatch,
  type ExportRequestMessage,
} from '../../src/otlp/convert.js';
import { decodeJsonRequest, encodeJsonRequest } from '../../src/otlp/json.js';
import { validRequest } from '../../src/fuzz/arbitraries.js';
import { Refusal } from '../../src/pipeline/errors.js';
import { isSharedAttribute, type KeyValue, sharedAttribute } from '../../src/pipeline/record.js';

/** A request that uses every field of the logs schema. */
export function fullRequest(): ExportRequestMessage {
  return {
    resourceLogs: [
      {
        resource: {
          attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }],
          droppedAttributesCount: 2,
          entityRefs: [{ schemaUrl: 'https://s', type: 'service', idKeys: ['service.name'], descriptionKeys: ['d'] }],
        },
        schemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
        scopeLogs: [
          {
            scope: { name: 'http', version: '2.1', attributes: [{ key: 'lib', value: { boolValue: true } }], droppedAttributesCount: 1 },
            schemaUrl: 'https://scope',
            logRecords: [
              {
                timeUnixNano: Long.fromString('1767225600123456789', true),
                observedTimeUnixNano: Long.fromString('1767225600999999999', true),
                severityNumber: 17,
                severityText: 'ERROR',
                body: { kvlistValue: { values: [{ key: 'msg', value: { stringValue: 'hi' } }, { key: 'nested', value: { arrayValue: { values: [{ intValue: Long.fromNumber(-5) }, { doubleValue: 1.5 }] } } }] } },
                attributes: [
                  { key: 's', value: { stringValue: 'x' } },
                  { key: 'b', value: { boolValue: false } },
                  { key: 'i', value: { intValue: Long.fromString('-9223372036854775808') } },
                  { key: 'd', value: { doubleValue: -0.25 } },
                  { key: 'a', value: { arrayValue: { values: [{ stringValue: 'p' }, { boolValue: true }] } } },
                  { key: 'k', value: { kvlistValue: { values: [{ key: 'deep', value: { stringValue: 'v' } }] } } },
                  { key: 'y', value: { bytesValue: Uint8Array.from([0, 1, 254, 255]) } },
                ],
                droppedAttributesCount: 3,
                flags: 1,
                traceId: Uint8Array.from({ length: 16 }, (_, i) => i + 1),
                spanId: Uint8Array.from({ length: 8 }, (_, i) => 0xa0 + i),
                eventName: 'http.access',
              },
            ],
          },
        ],
      },
    ],
  };
}

describe('OTLP codecs', () => {
  it('protobuf and JSON encodings carry every field and agree with each other', () => {
    const req = fullRequest();
    const viaProto = decodeProtobufRequest(encodeProtobufRequest(req));
    const viaJson = decodeJsonRequest(encodeJsonRequest(req));
    expect(viaJson.rejected).toBe(0);
    // Both decodings re-encode to the same JSON as the original.
    expect(encodeJsonRequest(viaProto)).toBe(encodeJsonRequest(req));
    expect(encodeJsonRequest(viaJson.request)).toBe(encodeJsonRequest(req));
    // …and to the same protobuf bytes.
    expect(Buffer.from(encodeProtobufRequest(viaJson.request))).toEqual(Buffer.from(encodeProtobufRequest(req)));
    const json = JSON.parse(encodeJsonRequest(req));
    const rec = json.resourceLogs[0].scopeLogs[0].logRecords[0];
    expect(rec.timeUnixNano).toBe('1767225600123456789');
    expect(rec.traceId).toBe('0102030405060708090a0b0c0d0e0f10');
    expect(rec.spanId).toBe('a0a1a2a3a4a5a6a7');
    expect(rec.severityNumber).toBe(17);
    expect(rec.eventName).toBe('http.access');
    expect(rec.attributes.find((a: { key: string }) => a.key === 'y').value).toEqual({ bytesValue: 'AAH+/w==' });
  });

  it('OTLP/JSON text is exactly what JSON.stringify writes, shared attributes included', () => {
    // The log-record writer builds text directly; any drift from JSON.stringify
    // (escaping, numbers, key order) would change archive bytes and hashes.
    const shared = [sharedAttribute('s.str', 'a "quoted" \u2028 \ud800 value'), sharedAttribute('s.int', -3), sharedAttribute('s.dbl', 1e21), sharedAttribute('s.bool', false)];
    fc.assert(
      fc.property(validRequest(), (req) => {
        const text = encodeJsonRequest(req);
        expect(JSON.stringify(JSON.parse(text))).toBe(text);
        // A shared attribute writes the same text as an ordinary copy of it, every time (cached after the first).
        for (const rl of req.resourceLogs) for (const sl of rl.scopeLogs) for (const l of sl.logRecords) l.attributes.push(...shared);
        const withShared = encodeJsonRequest(req);
        expect(encodeJsonRequest(req)).toBe(withShared);
        for (const rl of req.resourceLogs)
          for (const sl of rl.scopeLogs)
            for (const l of sl.logRecords) l.attributes = l.attributes.map((kv) => (isSharedAttribute(kv) ? { key: kv.key, value: { ...kv.value } } : kv));
        expect(encodeJsonRequest(req)).toBe(withShared);
      }),
      { numRuns: 300, seed: 20261126 },
    );
  });

  it('only immutable scalar attributes count as shared (their encodings may be cached)', () => {
    const kv = sharedAttribute('audit.outcome', 'success');
    expect(Object.isFrozen(kv) && Object.isFrozen(kv.value)).toBe(true);
    expect(isSharedAttribute(kv)).toBe(true);
    expect(isSharedAttribute({ key: 'k', value: { stringValue: 'v' } })).toBe(false);
    expect(isSharedAttribute(Object.freeze({ key: 'k', value: { stringValue: 'v' } }) as KeyValue)).toBe(false);
    const list = Object.freeze({ arrayValue: { values: [{ stringValue: 'v' }] } });
    expect(isSharedAttribute(Object.freeze({ key: 'k', value: list }) as KeyValue)).toBe(false);
  });

  it('batch ⇄ request keeps grouping and order', () => {
    const req = fullRequest();
    const batch = requestToBatch(decodeProtobufRequest(encodeProtobufRequest(req))).records;
    expect(batch).toHaveLength(1);
    expect(encodeJsonRequest(batchToRequest(batch))).toBe(encodeJsonRequest(req));
  });

  it('accepts the JSON variants the OTLP spec allows: numbers for int64, snake_case names, enum names', () => {
    const text = JSON.stringify({
      resource_logs: [{ scope_logs: [{ log_records: [{ time_unix_nano: 1700000000000000000, severity_number: 'SEVERITY_NUMBER_WARN', body: { int_value: 7 }, trace_id: 'ABCDEF0123456789ABCDEF0123456789', unknownField: 1 }] }] }],
    });
    const { request, rejected } = decodeJsonRequest(text);
    expect(rejected).toBe(0);
    const rec = request.resourceLogs[0].scopeLogs[0].logRecords[0];
    expect(rec.severityNumber).toBe(13);
    expect(String(rec.timeUnixNano)).toBe('1700000000000000000');
    expect(Buffer.from(rec.traceId!).toString('hex')).toBe('abcdef0123456789abcdef0123456789');
  });

  it('rejects individually unusable records and keeps their neighbours (partial success)', () => {
    const text = JSON.stringify({
      resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'ok' } }, { traceId: 'xyz' }, { timeUnixNano: 'soon' }, { body: { stringValue: 'ok2' } }] }] }],
    });
    const d = decodeJsonRequest(text);
    expect(d.rejected).toBe(2);
    expect(d.rejectReason).toMatch(/traceId/);
    expect(d.request.resourceLogs[0].scopeLogs[0].logRecords.map((r) => r.body?.stringValue)).toEqual(['ok', 'ok2']);
    // The same for protobuf: a 7-byte trace id is unusable.
    const req = fullRequest();
    req.resourceLogs[0].scopeLogs[0].logRecords.push({ attributes: [], traceId: new Uint8Array(7) });
    const b = requestToBatch(decodeProtobufRequest(encodeProtobufRequest(req)));
    expect(b.rejected).toBe(1);
    expect(b.records).toHaveLength(1);
  });

  it('refuses malformed input with INVALID_ARGUMENT', () => {
    for (const bad of ['{', '[]', '{"resourceLogs": 5}', '{"resourceLogs":[{"scopeLogs":[{"scope":"x"}]}]}']) {
      expect(() => decodeJsonRequest(bad)).toThrow(Refusal);
      try {
        decodeJsonRequest(bad);
      } catch (e) {
        expect((e as Refusal).code).toBe('INVALID_ARGUMENT');
      }
    }
    expect(() => decodeProtobufRequest(Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f]))).toThrow(/malformed protobuf/);
  });
});
