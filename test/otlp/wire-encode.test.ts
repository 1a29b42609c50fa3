// The splice encoder against the object path: a batch decoded by the wire
// decoder and changed by processors must encode (encodeBatchProtobuf,
// encodeRecordRequest) to bytes that read back exactly as the object encoding of
// the same records, spliced where only attributes were appended and from the
// objects otherwise. Inputs come from Vigil's generator, from the OpenTelemetry
// SDK's serializer and from the realistic access-log workload; the full default
// processors (audit + anomaly) run on the wire path and on the object path side
// by side and must agree on every attribute, in order.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyValue, validRequest } from '../../src/fuzz/arbitraries.js';
import { officialRequest } from '../../src/fuzz/otel-arbitraries.js';
import { canonicalProtobuf, checkWireDecode, firstDifference, objectEncoding } from '../../src/fuzz/wire-differential.js';
import { batchToRequest, decodeProtobufRequest, encodeBatchProtobuf, encodeProtobufRequest, encodeRecordRequest, encodeRecordRequests, requestToBatch } from '../../src/otlp/convert.js';
import { ExportLogsServiceRequest } from '../../src/otlp/schema.js';
import { decodeProtobufBatch } from '../../src/otlp/wire-decode.js';
import { assertSameMeaning, setSpliceCheck } from '../../src/otlp/wire-encode.js';
import { spliceableAttributes } from '../../src/otlp/wire-frame.js';
import {
  appendAttribute,
  dropAttribute,
  type KeyValue,
  type LogBatch,
  Long,
  markRewritten,
  putAttribute,
  replaceAttribute,
  sharedAttribute,
  stringAttribute,
  numberAttribute,
} from '../../src/pipeline/record.js';
import { anomalyConfigSchema } from '../../src/processors/anomaly/config.js';
import { AnomalyProcessor } from '../../src/processors/anomaly/processor.js';
import { auditConfigSchema } from '../../src/processors/audit/config.js';
import { AuditProcessor, buildSettings } from '../../src/processors/audit/processor.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { Telemetry } from '../../src/telemetry/metrics.js';
import { accessLogRecord, rng } from '../helpers/harness/access-log.js';

const SEED = 20261204;

/** The encodings of a batch through the splice path, each as protobufjs reads it back. */
function expectSameAsObjects(batch: LogBatch): void {
  const expected = objectEncoding(batch);
  expect(canonicalProtobuf(encodeBatchProtobuf(batch)).equals(expected)).toBe(true);
  for (const rec of batch) expect(canonicalProtobuf(encodeRecordRequest(rec)).equals(objectEncoding([rec]))).toBe(true);
  // The worm's all-at-once form holds exactly each record's own request bytes, in order.
  const { bytes, ends } = encodeRecordRequests(batch);
  expect(ends.length).toBe(batch.length);
  expect(bytes.length).toBe(ends.at(-1) ?? 0);
  for (let i = 0; i < batch.length; i++) expect(Buffer.from(bytes.subarray(i === 0 ? 0 : ends[i - 1], ends[i])).equals(Buffer.from(encodeRecordRequest(batch[i])))).toBe(true);
}

const spliced = (batch: LogBatch) => batch.filter((r) => spliceableAttributes(r) !== undefined).length;

/** Scalar attributes of every kind the hand-written attribute writer handles, and some it leaves to protobufjs. */
const appended = fc.oneof(
  keyValue,
  fc.record({ key: fc.string(), value: fc.oneof(fc.string().map((s) => ({ stringValue: s })), fc.boolean().map((b) => ({ boolValue: b }))) }),
  fc.record({ key: fc.string({ unit: 'grapheme', maxLength: 40 }), value: fc.oneof(fc.maxSafeInteger().map((i) => ({ intValue: i })), fc.double().map((d) => ({ doubleValue: d }))) }),
  fc.constantFrom(sharedAttribute('audit.outcome', 'success'), sharedAttribute('ocsf.class_uid', 4002), sharedAttribute('s.neg', -7), sharedAttribute('s.dbl', 0.5), sharedAttribute('s.bool', true)),
  fc.string({ minLength: 100, maxLength: 400 }).map((s) => ({ key: 'long', value: { stringValue: s } })),
);

beforeEach(() => setSpliceCheck(false));
afterEach(() => setSpliceCheck(false));

describe('splice encoder = object encoder', () => {
  it('writes unchanged records from their bytes (Vigil generator and OpenTelemetry SDK serializer, 600 cases)', () => {
    fc.assert(
      fc.property(fc.oneof(validRequest().map((r) => encodeProtobufRequest(r)), officialRequest), (bytes) => {
        const batch = decodeProtobufBatch(bytes).records;
        expect(spliced(batch)).toBe(batch.length);
        expectSameAsObjects(batch);
      }),
      { numRuns: 600, seed: SEED },
    );
  });

  it('splices appended attributes of every kind, shared ones included (600 cases)', () => {
    fc.assert(
      fc.property(fc.oneof(validRequest().map((r) => encodeProtobufRequest(r)), officialRequest), fc.array(fc.array(appended, { maxLength: 6 }), { maxLength: 8 }), (bytes, adds) => {
        const batch = decodeProtobufBatch(bytes).records;
        batch.forEach((r, i) => {
          for (const kv of adds[i % Math.max(1, adds.length)] ?? []) appendAttribute(r.log.attributes, kv);
        });
        expect(spliced(batch)).toBe(batch.length);
        expectSameAsObjects(batch);
      }),
      { numRuns: 600, seed: SEED },
    );
  });

  it('takes the slow path for every other change, and still writes what the objects say', () => {
    const bytes = encodeProtobufRequest(validRequestSample());
    const changes: [string, (b: LogBatch) => void][] = [
      ['replaceAttribute', (b) => replaceAttribute(b[0].log.attributes, { key: b[0].log.attributes[0].key, value: { stringValue: 'replaced' } })],
      ['putAttribute over a sender attribute', (b) => putAttribute(b[0].log.attributes, { key: b[0].log.attributes[1].key, value: { boolValue: true } })],
      ['dropAttribute', (b) => dropAttribute(b[0].log.attributes, b[0].log.attributes[0].key)],
      ['an attribute replaced by hand', (b) => (b[0].log.attributes[0] = { key: 'x', value: { stringValue: 'y' } })],
      ['attributes truncated by hand', (b) => (b[0].log.attributes.length = 1)],
      ['body replaced', (b) => (b[0].log.body = { stringValue: 'new body' })],
      ['time changed', (b) => (b[0].log.timeUnixNano = Long.fromNumber(5, true))],
      ['severity, flags, ids, event name', (b) => Object.assign(b[0].log, { severityNumber: 3, flags: 1, spanId: new Uint8Array(8).fill(7), eventName: 'e' })],
      ['droppedAttributesCount', (b) => (b[0].log.droppedAttributesCount = 9)],
      ['a value changed in place, then marked', (b) => {
        b[0].log.attributes[0].value = { stringValue: 'in place' };
        markRewritten(b[0].log);
      }],
      ['a new LogRecord object', (b) => (b[0].log = { ...b[0].log })],
      ['a resource attribute added', (b) => b[0].resource.resource.attributes.push({ key: 'r', value: { intValue: 1 } })],
      ['a scope renamed', (b) => (b[0].scope.scope.name = 'renamed')],
    ];
    for (const [name, change] of changes) {
      const batch = decodeProtobufBatch(bytes).records;
      appendAttribute(batch[0].log.attributes, { key: 'appended', value: { stringValue: 'a' } });
      change(batch);
      const spliceable = spliceableAttributes(batch[0]) !== undefined;
      expect({ name, spliceable }).toEqual({ name, spliceable: name.startsWith('a resource') || name.startsWith('a scope') });
      expectSameAsObjects(batch);
    }
  });

  it('a batch encoded again in the same turn (the worm, then the exporter) reuses only records that did not change since', () => {
    const bytes = encodeProtobufRequest(validRequestSample());
    const changes: [string, (b: LogBatch) => void][] = [
      ['nothing', () => undefined],
      ['an appended attribute replaced', (b) => replaceAttribute(b[0].log.attributes, { key: 'appended', value: { stringValue: 'replaced' } })],
      ['an appended attribute replaced by hand', (b) => (b[0].log.attributes[b[0].log.attributes.length - 1] = { key: 'appended', value: { intValue: 7 } })],
      ['another attribute appended', (b) => appendAttribute(b[0].log.attributes, { key: 'more', value: { boolValue: true } })],
      ['an appended attribute dropped', (b) => dropAttribute(b[0].log.attributes, 'appended')],
      ['a sender attribute replaced', (b) => replaceAttribute(b[0].log.attributes, { key: b[0].log.attributes[0].key, value: { stringValue: 'replaced' } })],
      ['body replaced', (b) => (b[0].log.body = { stringValue: 'new body' })],
      ['a record swapped for a copy', (b) => (b[0] = { resource: b[0].resource, scope: b[0].scope, log: { ...b[0].log, attributes: [...b[0].log.attributes] } })],
      ['records reordered', (b) => b.reverse()],
    ];
    for (const [name, change] of changes) {
      const batch = decodeProtobufBatch(bytes).records;
      expect({ name, records: batch.length > 1 }).toEqual({ name, records: true });
      for (const r of batch) appendAttribute(r.log.attributes, { key: 'appended', value: { stringValue: 'a' } });
      encodeRecordRequests(batch);
      encodeBatchProtobuf(batch);
      change(batch);
      // Checked within the same turn, so any stale part left over from the first encodings would show.
      expect({ name, same: canonicalProtobuf(encodeBatchProtobuf(batch)).equals(objectEncoding(batch)) }).toEqual({ name, same: true });
      expectSameAsObjects(batch);
    }
  });

  it('the VIGIL_CHECK_SPLICE check catches a change no mark or check saw (a value changed in place, unmarked)', () => {
    const batch = decodeProtobufBatch(encodeProtobufRequest(validRequestSample())).records;
    (batch[0].log.attributes[0].value as { stringValue?: string }).stringValue = 'changed behind the encoder’s back';
    expect(spliceableAttributes(batch[0])).toBeDefined();
    expect(() => assertSameMeaning(encodeBatchProtobuf(batch), encodeProtobufRequest(batchToRequest(batch)))).toThrow(/VIGIL_CHECK_SPLICE/);
    setSpliceCheck(true);
    expect(() => encodeBatchProtobuf(batch)).toThrow(/splice/);
  });

  it('keeps the sender’s unknown fields and field order in spliced bytes (same meaning, different bytes)', () => {
    const record = Buffer.concat([Buffer.from([0xa0, 0x06, 0x01]), Buffer.from([0x1a, 0x01, 0x41, 0x10, 0x09])]);
    const len = (field: number, body: Uint8Array) => Buffer.concat([Buffer.from([field * 8 + 2, body.length]), body]);
    const bytes = len(1, len(2, len(2, record))); // unknown field 100, then severity_text before severity_number
    const batch = decodeProtobufBatch(bytes).records;
    appendAttribute(batch[0].log.attributes, { key: 'k', value: { stringValue: 'v' } });
    const out = Buffer.from(encodeBatchProtobuf(batch));
    expect(out.includes(record)).toBe(true);
    expect(out.equals(canonicalProtobuf(out))).toBe(false);
    expect(canonicalProtobuf(out).equals(objectEncoding(batch))).toBe(true);
  });
});

describe('encodings protobufjs reads leniently are never spliced', () => {
  // protobufjs skips an unknown varint of any length and reads a 10-byte varint whose last
  // byte overflows 64 bits; the protobuf specification (and Go's decoder, the Collector's)
  // refuses both. Spliced as they came, such bytes would be refused by the next reader of
  // the export or of the archive entry ("any OTLP protobuf decoder reads it").
  const cat = (...parts: (Uint8Array | number[])[]) => Buffer.concat(parts.map((p) => Buffer.from(p)));
  const len = (tag: number[], body: Uint8Array) => cat(tag, [body.length], body); // bodies below 128 bytes
  const body = (anyValue: Uint8Array) => len([0x2a], anyValue);
  const text = (s: string) => len([0x0a], Buffer.from(s));
  // A canonical resource and scope (as protobufjs writes them), so that spliced contexts equal the object path's.
  const resource = len([0x0a], len([0x0a], cat(text('service.name'), len([0x12], text('shop')))));
  const scope = len([0x0a], cat(text('http'), len([0x12], Buffer.from('1'))));
  const request = (record: Uint8Array, res = resource, sc = scope) => len([0x0a], cat(res, len([0x12], cat(sc, len([0x12], record)))));
  const OVERFLOW = [...Array(9).fill(0xff), 0x7f]; // a 10-byte varint past 64 bits: protobufjs reads it, the specification refuses it

  const cases: [string, Uint8Array][] = [
    ['an int64 whose 10th byte overflows 64 bits', request(body(cat([0x18], OVERFLOW)))],
    ['a bool whose 10th byte overflows', request(body(cat([0x10], OVERFLOW)))],
    ['a severity number whose 10th byte overflows', request(cat([0x10], OVERFLOW, body(text('x'))))],
    ['an attribute value holding one, in a kvlist', request(cat(len([0x32], cat(text('k'), len([0x12], len([0x32], len([0x0a], cat(text('n'), len([0x12], cat([0x18], OVERFLOW))))))))))],
    ['an unknown varint of 11 bytes', request(cat(body(text('x')), [0xa0, 0x06], Array(10).fill(0x80), [0x01]))],
    ['an unknown varint overflowing in 10 bytes, inside an attribute', request(cat(len([0x32], cat(text('k'), [0x18], OVERFLOW, len([0x12], text('v'))))))],
    ['a group (its insides skipped unchecked)', request(cat(body(text('x')), [0xa3, 0x06, 0x08, 0x01, 0xa4, 0x06]))],
  ];

  it.each(cases)('%s: the record is encoded from its objects', (_, bytes) => {
    expect(checkWireDecode(bytes)).toBe('accepted'); // both decoders read it alike
    const batch = decodeProtobufBatch(bytes).records;
    expect(spliceableAttributes(batch[0])).toBeUndefined();
    appendAttribute(batch[0].log.attributes, { key: 'k', value: { stringValue: 'v' } });
    const fromObjects = Buffer.from(encodeProtobufRequest(batchToRequest(batch)));
    expect(Buffer.from(encodeBatchProtobuf(batch)).equals(fromObjects)).toBe(true);
    expect(Buffer.from(encodeRecordRequest(batch[0])).equals(fromObjects)).toBe(true);
  });

  it('a resource or scope holding one is encoded from its objects; a plain record under it is still spliced', () => {
    const plain = body(text('plain'));
    const lenientResource = len([0x0a], len([0x0a], cat(text('service.name'), len([0x12], cat([0x10], OVERFLOW)))));
    const lenientScope = len([0x0a], cat(text('http'), [0x28], Array(10).fill(0x80), [0x01]));
    for (const bytes of [request(plain, lenientResource), request(plain, resource, lenientScope)]) {
      expect(checkWireDecode(bytes)).toBe('accepted');
      const batch = decodeProtobufBatch(bytes).records;
      expect(spliceableAttributes(batch[0])).toBeDefined();
      const fromObjects = Buffer.from(encodeProtobufRequest(batchToRequest(batch)));
      expect(Buffer.from(encodeBatchProtobuf(batch)).equals(fromObjects)).toBe(true);
    }
    // The control: all canonical, all spliced, the same bytes.
    const batch = decodeProtobufBatch(request(plain)).records;
    expect(spliceableAttributes(batch[0])).toBeDefined();
    expect(Buffer.from(encodeBatchProtobuf(batch)).equals(Buffer.from(encodeProtobufRequest(batchToRequest(batch))))).toBe(true);
  });
});

describe('the VIGIL_CHECK_SPLICE check and strings that are not well-formed Unicode', () => {
  // A record built in memory may hold a lone surrogate (a string cut inside a pair). protobufjs
  // writes it as a surrogate's three bytes (ED A0 80 for U+D800), which is not UTF-8 and which the
  // strict decoder rightly refuses. The check compares what the two paths wrote, so it must not
  // depend on that decoder accepting them, and must still tell one such string from another.
  const inMemory = (): LogBatch => {
    const request = validRequestSample();
    request.resourceLogs[0].schemaUrl = 'https://schemas/\ud800';
    const batch = requestToBatch(request).records;
    batch[0].log.body = { stringValue: 'cut inside a pair: \ud83d' };
    appendAttribute(batch[1].log.attributes, { key: 'lone', value: { stringValue: '\udc00 low' } });
    appendAttribute(batch[2].log.attributes, { key: 'key \ud800', value: { boolValue: true } });
    return batch;
  };

  it('passes a record built in memory whose body, attribute or schema URL holds a lone surrogate: the same bytes both ways', () => {
    const batch = inMemory();
    const objects = Buffer.from(encodeProtobufRequest(batchToRequest(batch)));
    expect(objects.includes(Buffer.from([0xed, 0xa0, 0xbd]))).toBe(true); // U+D83D as protobufjs writes it
    setSpliceCheck(true);
    expect(Buffer.from(encodeBatchProtobuf(batch)).equals(objects)).toBe(true);
    for (const rec of batch) expect(Buffer.from(encodeRecordRequest(rec)).equals(Buffer.from(encodeProtobufRequest(batchToRequest([rec]))))).toBe(true);
    expect(encodeRecordRequests(batch).ends.length).toBe(3);
    // The receiver stays strict: what a sender sends with these bytes is refused.
    expect(() => decodeProtobufBatch(objects)).toThrow(/malformed protobuf/);
    expect(() => ExportLogsServiceRequest.decode(objects)).toThrow();
  });

  it('passes a spliced record whose appended attribute holds a lone surrogate (spliced bytes differ, meaning is the same)', () => {
    const record = Buffer.concat([Buffer.from([0x1a, 0x01, 0x41, 0x10, 0x09])]); // severity_text before severity_number
    const len = (field: number, body: Uint8Array) => Buffer.concat([Buffer.from([field * 8 + 2, body.length]), body]);
    const batch = decodeProtobufBatch(len(1, len(2, len(2, record)))).records;
    appendAttribute(batch[0].log.attributes, { key: 'cut', value: { stringValue: 'a\ud83d' } });
    expect(spliceableAttributes(batch[0])).toBeDefined();
    setSpliceCheck(true);
    const out = Buffer.from(encodeBatchProtobuf(batch));
    expect(out.includes(record)).toBe(true);
    expect(out.equals(Buffer.from(encodeProtobufRequest(batchToRequest(batch))))).toBe(false);
    expect(() => encodeRecordRequest(batch[0])).not.toThrow();
  });

  it('still finds a difference between two strings that are not UTF-8, or between one and U+FFFD', () => {
    const withBody = (text: string) => {
      const batch = requestToBatch(validRequestSample()).records;
      batch[0].log.body = { stringValue: text };
      return encodeProtobufRequest(batchToRequest(batch));
    };
    expect(() => assertSameMeaning(withBody('\ud800'), withBody('\ud800'))).not.toThrow();
    expect(() => assertSameMeaning(withBody('\ud800'), withBody('\udc00'))).toThrow(/VIGIL_CHECK_SPLICE/);
    expect(() => assertSameMeaning(withBody('\ud800'), withBody('\ufffd'))).toThrow(/VIGIL_CHECK_SPLICE/);
  });
});

function validRequestSample() {
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] },
        schemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
        scopeLogs: [
          {
            scope: { name: 'http', version: '1' },
            logRecords: [0, 1, 2].map((k) => ({
              timeUnixNano: Long.fromNumber(1_767_225_600_000_000_000 + k, true),
              body: { stringValue: `line ${k}` },
              attributes: [
                { key: 'a', value: { stringValue: 'x' } },
                { key: 'b', value: { kvlistValue: { values: [{ key: 'deep', value: { intValue: Long.fromNumber(-3) } }] } } },
              ],
              traceId: new Uint8Array(16).fill(k + 1),
            })),
          },
        ],
      },
    ],
  };
}

// ---- the default processors on both paths ----------------------------------------------

const NOW = Date.UTC(2026, 11, 4, 12);

function processors(auditConfig: object = {}) {
  const telemetry = new Telemetry({ processMetrics: false });
  const settings = buildSettings(auditConfigSchema.parse(auditConfig), 'audit', { env: { VIGIL_KEY: 'correct-horse-battery-staple-0123456789' } });
  const audit = new AuditProcessor('audit', settings, telemetry, () => NOW);
  const anomaly = new AnomalyProcessor('anomaly', anomalyConfigSchema.parse({}), silentLogger(), telemetry);
  return async (batch: LogBatch) => anomaly.process(audit.process(batch));
}

function accessLogRequests(count: number, records: number): Uint8Array[] {
  return Array.from({ length: count }, (_, k) => {
    const r = rng(k + 1);
    const start = Date.UTC(2026, 10, 1) + k * 60_000;
    return encodeProtobufRequest({
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] },
          scopeLogs: [{ scope: { name: 'access-log' }, logRecords: Array.from({ length: records }, (_, i) => accessLogRecord(r, start + i * 10)) }],
        },
      ],
    });
  });
}

describe('the default pipeline on the wire path and on the object path', () => {
  it('gives the same attributes in the same order, the same audit.record_id and anomaly.score, and the same encodings', async () => {
    const wirePath = processors();
    const objectPath = processors();
    const sender = sharedAttribute('audit.record_id', 'spoofed'); // a sender-supplied audit.* attribute: dropped, record rewritten
    const requests = accessLogRequests(12, 64).map((b, k) => {
      if (k % 4 !== 3) return b;
      const req = decodeProtobufRequest(b);
      req.resourceLogs[0].scopeLogs[0].logRecords[0].attributes.push(sender, { key: 'anomaly.score', value: { doubleValue: 0.99 } });
      return encodeProtobufRequest(req);
    });
    let compared = 0;
    let splicedRecords = 0;
    for (const bytes of requests) {
      const a = await wirePath(decodeProtobufBatch(bytes).records);
      const b = await objectPath(requestToBatch(decodeProtobufRequest(bytes)).records);
      expect(a.length).toBe(b.length);
      splicedRecords += spliced(a);
      for (let i = 0; i < a.length; i++) {
        const d = firstDifference(a[i].log.attributes.map((kv) => ({ ...kv })), b[i].log.attributes.map((kv) => ({ ...kv })));
        expect(d).toBeUndefined();
        expect(stringAttribute(a[i].log.attributes, 'audit.record_id')).toMatch(/^[0-9a-f]{32}$/);
        expect(stringAttribute(a[i].log.attributes, 'audit.record_id')).toBe(stringAttribute(b[i].log.attributes, 'audit.record_id'));
        expect(numberAttribute(a[i].log.attributes, 'anomaly.score')).toBeTypeOf('number');
        expect(numberAttribute(a[i].log.attributes, 'anomaly.score')).toBe(numberAttribute(b[i].log.attributes, 'anomaly.score'));
        compared++;
      }
      const objectBytes = canonicalProtobuf(encodeProtobufRequest(batchToRequest(b)));
      expect(canonicalProtobuf(encodeBatchProtobuf(a)).equals(objectBytes)).toBe(true);
      for (let i = 0; i < a.length; i++) expect(canonicalProtobuf(encodeRecordRequest(a[i])).equals(canonicalProtobuf(encodeProtobufRequest(batchToRequest([b[i]]))))).toBe(true);
    }
    expect(compared).toBe(12 * 64);
    // Almost every record was spliced; the three with spoofed audit.* / anomaly.* attributes were not.
    expect(splicedRecords).toBe(12 * 64 - 3);
  });

  it('with pseudonymisation (body included) and tight limits, every changed record leaves the splice path and encodes right', async () => {
    const config = { pseudonymisation: { key_env: 'VIGIL_KEY', body: 'replace' }, limits: { max_value_length: 64, max_attributes: 16 } };
    const wirePath = processors(config);
    const objectPath = processors(config);
    for (const bytes of accessLogRequests(4, 64)) {
      const a = await wirePath(decodeProtobufBatch(bytes).records);
      const b = await objectPath(requestToBatch(decodeProtobufRequest(bytes)).records);
      // Every access-log record carries a user and an address (pseudonymised), some a long user agent (cut): none may splice.
      expect(spliced(a)).toBe(0);
      expect(a.some((r) => r.log.attributes.some((kv) => kv.key === 'audit.limits_applied'))).toBe(true);
      expect(a.map((r) => r.log.attributes.map((kv) => kv.key))).toEqual(b.map((r) => r.log.attributes.map((kv) => kv.key)));
      expect(canonicalProtobuf(encodeBatchProtobuf(a)).equals(canonicalProtobuf(encodeProtobufRequest(batchToRequest(b))))).toBe(true);
    }
  });
});
