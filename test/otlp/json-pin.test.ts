// Pins the exact OTLP/JSON text the encoder writes for a varied, fixed workload.
// The hashes were recorded from the encoder before it was rewritten for speed
// (issue #12): archives, file-exporter output and replay output must not change
// by a byte. A deliberate change of encoding updates them, and says why.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import Long from 'long';
import type { ExportRequestMessage, ScopeLogsMessage } from '../../src/otlp/convert.js';
import { encodeJsonRequest, logRecordJsonText } from '../../src/otlp/json.js';
import type { AnyValue, KeyValue, LogRecord } from '../../src/pipeline/record.js';
import { sharedAttribute } from '../../src/pipeline/record.js';

/** Deterministic PRNG (mulberry32): the same workload on every run and machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Strings that need every kind of JSON escape, plus non-ASCII, astral and lone surrogates. */
const HOSTILE = [
  '',
  'plain ascii',
  'quote " backslash \\ slash /',
  'controls \u0000\u0001\u0007\b\t\n\v\f\r\u001b\u001f end',
  'del \u007f and latin-1 é ü ß ÿ',
  'line sep \u2028 para sep \u2029',
  'cjk 日本語 and emoji 😀👍🏽',
  'lone high \ud800 here',
  'lone low \udfff here',
  'reversed pair \udc00\ud800',
  '\ud83d',
  '<script>alert("x")</script>&amp;',
  'GET /a%20b?q=%22x%22 HTTP/1.1',
  'x'.repeat(300),
  '\\u0041 literal escape text',
];

const INT64_EDGES: (Long | number)[] = [
  Long.ZERO,
  Long.ONE,
  Long.NEG_ONE,
  Long.MAX_VALUE,
  Long.MIN_VALUE,
  Long.fromString('9007199254740993'),
  Long.fromString('-9007199254740993'),
  Long.fromNumber(2 ** 32),
  Long.fromNumber(-(2 ** 31) - 1),
  0,
  -1,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
  1234,
];

const UINT64_EDGES: Long[] = [
  Long.UZERO,
  Long.UONE,
  Long.MAX_UNSIGNED_VALUE,
  Long.fromString('9223372036854775808', true),
  Long.fromString('1767225600123456789', true),
  Long.fromNumber(2 ** 32, true),
];

const DOUBLES = [0, -0, 1.5, -0.25, 1e21, 1e-7, 5e-324, Number.MAX_VALUE, 0.1 + 0.2, NaN, Infinity, -Infinity, 123456789.125];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

function bytes(r: () => number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

function anyValue(r: () => number, depth: number): AnyValue {
  const kind = Math.floor(r() * (depth < 3 ? 9 : 7));
  switch (kind) {
    case 0:
      return { stringValue: pick(r, HOSTILE) };
    case 1:
      return { boolValue: r() < 0.5 };
    case 2:
      return { intValue: pick(r, INT64_EDGES) };
    case 3:
      return { doubleValue: pick(r, DOUBLES) };
    case 4:
      return { bytesValue: bytes(r, Math.floor(r() * 7)) };
    case 5:
      return {};
    case 6:
      return { stringValue: `v${Math.floor(r() * 1000)}` };
    case 7:
      return { arrayValue: { values: Array.from({ length: Math.floor(r() * 4) }, () => anyValue(r, depth + 1)) } };
    default:
      return { kvlistValue: { values: keyValues(r, Math.floor(r() * 4), depth + 1) } };
  }
}

const SHARED = [sharedAttribute('audit.outcome', 'success'), sharedAttribute('s.int', -3), sharedAttribute('s.dbl', 1e21), sharedAttribute('s.bool', false), sharedAttribute('s.hostile', 'a "q" \u2028 \ud800')];

function keyValues(r: () => number, n: number, depth: number): KeyValue[] {
  return Array.from({ length: n }, (): KeyValue => {
    const x = r();
    if (x < 0.1) return SHARED[Math.floor(r() * SHARED.length)];
    if (x < 0.13) return { key: pick(r, HOSTILE), value: null };
    if (x < 0.15) return { key: 'k.novalue' } as KeyValue;
    if (x < 0.16) return { value: { stringValue: 'no key' } } as KeyValue;
    return { key: x < 0.25 ? pick(r, HOSTILE) : `attr.${Math.floor(r() * 40)}`, value: anyValue(r, depth) };
  });
}

function logRecord(r: () => number): LogRecord {
  const l: LogRecord = {
    timeUnixNano: r() < 0.2 ? Long.UZERO : pick(r, UINT64_EDGES),
    observedTimeUnixNano: r() < 0.3 ? Long.UZERO : pick(r, UINT64_EDGES),
    attributes: keyValues(r, Math.floor(r() * 8), 0),
  };
  if (r() < 0.7) l.severityNumber = Math.floor(r() * 26);
  if (r() < 0.6) l.severityText = pick(r, ['INFO', 'ERROR', '', 'wärn "x"', ...HOSTILE]);
  const b = r();
  if (b < 0.7) l.body = anyValue(r, 0);
  else if (b < 0.8) l.body = null;
  if (r() < 0.3) l.droppedAttributesCount = Math.floor(r() * 2 ** 32);
  if (r() < 0.3) l.flags = r() < 0.5 ? 1 : 0xffffffff;
  if (r() < 0.4) l.traceId = bytes(r, 16);
  else if (r() < 0.2) l.traceId = new Uint8Array(0);
  if (r() < 0.4) l.spanId = bytes(r, 8);
  if (r() < 0.3) l.eventName = pick(r, ['http.access', ...HOSTILE]);
  return l;
}

function workload(): ExportRequestMessage[] {
  const r = prng(20261204);
  const requests: ExportRequestMessage[] = [{ resourceLogs: [] }];
  for (let q = 0; q < 60; q++) {
    requests.push({
      resourceLogs: Array.from({ length: 1 + Math.floor(r() * 3) }, () => ({
        resource:
          r() < 0.15
            ? null
            : {
                attributes: keyValues(r, Math.floor(r() * 5), 0),
                ...(r() < 0.3 ? { droppedAttributesCount: Math.floor(r() * 100) } : {}),
                ...(r() < 0.2
                  ? { entityRefs: [{ schemaUrl: pick(r, HOSTILE), type: 'service', idKeys: ['service.name', pick(r, HOSTILE)], descriptionKeys: r() < 0.5 ? [] : ['d'] }, { type: '' }] }
                  : {}),
              },
        schemaUrl: r() < 0.5 ? '' : pick(r, ['https://opentelemetry.io/schemas/1.30.0', ...HOSTILE]),
        scopeLogs: Array.from({ length: Math.floor(r() * 3) }, (): ScopeLogsMessage => ({
          scope:
            r() < 0.15
              ? null
              : {
                  ...(r() < 0.7 ? { name: pick(r, ['http', ...HOSTILE]) } : {}),
                  ...(r() < 0.5 ? { version: '2.1' } : {}),
                  ...(r() < 0.4 ? { attributes: keyValues(r, Math.floor(r() * 3), 0) } : {}),
                  ...(r() < 0.3 ? { droppedAttributesCount: 7 } : {}),
                },
          schemaUrl: r() < 0.5 ? '' : pick(r, ['https://scope', ...HOSTILE]),
          logRecords: Array.from({ length: Math.floor(r() * 12) }, () => logRecord(r)),
        })),
      })),
    } as ExportRequestMessage);
  }
  return requests;
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('OTLP/JSON encoding is pinned', () => {
  it('writes byte-identical text for a varied fixed workload (every AnyValue kind, int64 edges, escapes, lone surrogates, empty fields)', () => {
    const texts = workload().map((req) => encodeJsonRequest(req));
    // Twice: shared attributes' cached text must equal their first writing.
    const again = workload().map((req) => encodeJsonRequest(req));
    expect(again).toEqual(texts);
    const all = texts.join('\n');
    expect(all.length).toBeGreaterThan(50_000);
    // The workload reaches what it claims to.
    for (const t of ['"bytesValue":""', '"kvlistValue"', '"arrayValue"', '"doubleValue":"NaN"', '"intValue":"-9223372036854775808"', '"timeUnixNano":"18446744073709551615"', '\\ud800', '\\u0000', '"entityRefs"', '"schemaUrl"', '"droppedAttributesCount"', '"flags":4294967295', '"traceId"', '"spanId"', '"eventName"', '{"value":', '"body":{}', '"scope":{}', '😀', '\u2028']) {
      expect(all, t).toContain(t);
    }
    expect(sha256(Buffer.from(all, 'utf8'))).toBe('1acb51ad3039a85c8a7f2a792e89fe4418eb9ea9b226e79b402595eae1a2d971');
  });

  it('writes the same text for one record at a time (what archive entries and the debug exporter use)', () => {
    const records = workload().flatMap((req) => req.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)));
    expect(sha256(Buffer.from(records.map((l) => logRecordJsonText(l)).join('\n'), 'utf8'))).toBe('1c0cc3d71bccd656ccd95a043504260b703ffe88e126b443346d165791f1cba0');
  });

  it('an encoding that throws part-way leaves nothing behind for the next one', () => {
    const good = workload()[1];
    const expected = encodeJsonRequest(good);
    const broken = { resourceLogs: [{ scopeLogs: [{ logRecords: [{ attributes: [{ key: 'k', value: { bytesValue: {} as Uint8Array } }] }] }] }] } as unknown as ExportRequestMessage;
    expect(() => encodeJsonRequest(broken)).toThrow();
    expect(encodeJsonRequest(good)).toBe(expected);
    expect(() => logRecordJsonText(broken.resourceLogs[0].scopeLogs[0].logRecords[0])).toThrow();
    expect(encodeJsonRequest(good)).toBe(expected);
  });
});
