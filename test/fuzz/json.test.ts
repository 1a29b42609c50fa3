// The OTLP/JSON decoder under fuzzing: mutated, random and OTLP-shaped input is
// decoded or refused with INVALID_ARGUMENT, every record is accepted or counted
// as rejected, and what is accepted the protobuf side can carry. Hostile values
// are handled with their neighbours unharmed.
import { describe, expect, it } from 'vitest';
import { decodeProtobufRequest, encodeProtobufRequest, requestToBatch } from '../../src/otlp/convert.js';
import { decodeJsonRequest, encodeJsonRequest } from '../../src/otlp/json.js';
import { checkJsonInput } from '../../src/fuzz/contracts.js';
import { hostileCases, NEIGHBOUR_AFTER, NEIGHBOUR_BEFORE } from '../../src/fuzz/hostile.js';
import { mutateJson } from '../../src/fuzz/json-mutate.js';
import { Refusal } from '../../src/pipeline/errors.js';
import type { LogBatch } from '../../src/pipeline/record.js';
import { fuzz } from './helpers.js';

describe('OTLP/JSON decoder fuzzing', () => {
  it('decodes or cleanly refuses mutated valid requests (1,500 cases)', () => {
    const r = fuzz('json.mutated', 1500);
    expect(r.outcomes.refused).toBeGreaterThan(100);
    expect(r.outcomes.accepted).toBeGreaterThan(100);
    expect(r.outcomes.partial).toBeGreaterThan(10); // records rejected alone, their neighbours accepted
  });

  it('decodes or cleanly refuses random text (400 cases)', () => {
    fuzz('json.random', 400);
  });

  it('decodes or cleanly refuses OTLP-shaped garbage (600 cases)', () => {
    fuzz('json.otlp-shaped', 600);
  });
});

describe('JSON mutations', () => {
  const tree = { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'x' } }] }] }] };

  it('replaces, deletes, renames, duplicates keys and nests, leaving the input alone', () => {
    expect(mutateJson(tree, [{ op: 'replace', node: 1, value: 7 }])).toBe('{"resourceLogs":7}');
    expect(mutateJson(tree, [{ op: 'delete', node: 1 }])).toBe('{}');
    expect(mutateJson(tree, [{ op: 'rename', node: 1, key: 'resource_logs' }])).toMatch(/^\{"resource_logs":/);
    expect(mutateJson(tree, [{ op: 'duplicate_key', node: 0, value: null }])).toMatch(/^\{"resourceLogs":\[.*\],"resourceLogs":null\}$/);
    expect(mutateJson(tree, [{ op: 'nest', node: 1, depth: 2, inArray: true }])).toMatch(/^\{"resourceLogs":\[\[\[\{/);
    expect(mutateJson(tree, [], [{ op: 'truncate', at: 5 }])).toBe('{"res');
    expect(tree.resourceLogs[0].scopeLogs[0].logRecords[0].body.stringValue).toBe('x');
  });
});

describe('OTLP/JSON decoder limits (found by fuzzing)', () => {
  const request = (record: string, resourceAttrs = '[]') =>
    `{"resourceLogs":[{"resource":{"attributes":${resourceAttrs}},"scopeLogs":[{"logRecords":[{"body":{"stringValue":"n"}},${record}]}]}]}`;
  const kvlist = (depth: number) => `${'{"kvlistValue":{"values":[{"key":"k","value":'.repeat(depth)}{"intValue":"1"}${'}]}}'.repeat(depth)}`;
  const array = (depth: number) => `${'{"arrayValue":{"values":['.repeat(depth)}{"intValue":"1"}${']}}'.repeat(depth)}`;

  /** The deepest nesting the decoder accepts; that record must then survive protobuf. */
  function deepestAccepted(build: (depth: number) => string): number {
    let depth = 0;
    for (;;) {
      const d = decodeJsonRequest(request(build(depth + 1)));
      if (d.rejected > 0) break;
      depth++;
      expect(depth).toBeLessThan(100);
    }
    const accepted = decodeJsonRequest(request(build(depth)));
    const back = decodeProtobufRequest(encodeProtobufRequest(accepted.request));
    expect(encodeJsonRequest(back)).toBe(encodeJsonRequest(accepted.request));
    const rejected = decodeJsonRequest(request(build(depth + 1)));
    expect(rejected.rejectReason).toMatch(/nest deeper than the 100 protobuf message levels/);
    expect(requestToBatch(rejected.request).records).toHaveLength(1); // the neighbour is kept
    return depth;
  }

  it('rejects (alone) a record nested deeper than protobuf can carry, at exactly the protobuf limit', () => {
    expect(deepestAccepted((d) => `{"body":${kvlist(d)}}`)).toBe(32);
    expect(deepestAccepted((d) => `{"body":${array(d)}}`)).toBe(48);
    expect(deepestAccepted((d) => `{"attributes":[{"key":"a","value":${kvlist(d)}}]}`)).toBe(31);
  });

  it('refuses a request whose resource attributes nest too deep, as a whole', () => {
    expect(() => decodeJsonRequest(request('{}', `[{"key":"a","value":${kvlist(40)}}]`))).toThrow(/malformed OTLP\/JSON: body or attributes nest deeper/);
  });

  it('replaces lone surrogates with U+FFFD, so the protobuf encoding stays valid UTF-8', () => {
    const d = decodeJsonRequest(request('{"body":{"stringValue":"a\\ud800b"},"attributes":[{"key":"\\udfff","value":{"stringValue":"ok \\ud83d\\ude00"}}]}'));
    const rec = d.request.resourceLogs[0].scopeLogs[0].logRecords[1];
    expect(rec.body).toEqual({ stringValue: 'a\uFFFDb' });
    expect(rec.attributes[0]).toEqual({ key: '\uFFFD', value: { stringValue: 'ok 😀' } }); // a proper pair is kept
    expect(() => decodeProtobufRequest(encodeProtobufRequest(d.request))).not.toThrow();
  });

  it('keeps out-of-range severity numbers as protobuf does, and refuses out-of-range integers instead of saturating', () => {
    const sev = decodeJsonRequest(request('{"severityNumber":99},{"severityNumber":"-5"}'));
    expect(sev.rejected).toBe(0);
    expect(sev.request.resourceLogs[0].scopeLogs[0].logRecords.slice(1).map((r) => r.severityNumber)).toEqual([99, -5]);
    const big = decodeJsonRequest(request('{"timeUnixNano":1e30},{"attributes":[{"key":"i","value":{"intValue":9223372036854775808}}]}'));
    expect(big.rejected).toBe(2);
    expect(big.rejectReason).toMatch(/timeUnixNano is out of range/);
  });
});

describe('hostile values over OTLP/JSON', () => {
  const expected: Record<string, 'accepted' | 'partial'> = {
    'a 10 MiB attribute value': 'accepted',
    'a 1,000-deep kvlist body': 'partial', // that record rejected, its neighbours accepted
    'a 20-deep kvlist body (within limits)': 'accepted',
    '100,000 attributes': 'accepted',
    'NUL bytes in keys, values, body and severity text': 'accepted',
    "lone surrogates (JSON's invalid UTF-8) in a key, a value and the body": 'accepted',
    'NaN and ±Infinity doubles': 'accepted',
    'absurd timestamps (0, 1 ns, 2^64 − 1 ns)': 'accepted',
    'a negative timestamp': 'partial',
    'a timestamp beyond 64 bits': 'partial',
    'a timestamp as a huge JSON number': 'partial',
    'duplicate attribute keys and duplicate JSON object keys': 'accepted',
    'an out-of-range severity number': 'accepted',
  };
  const cases = hostileCases.filter((c) => c.kind === 'json');
  const built = new Map<string, string>();
  const textOf = (name: string) => {
    if (!built.has(name)) built.set(name, cases.find((c) => c.name === name)!.build() as string);
    return built.get(name)!;
  };
  const recordsOf = (name: string): LogBatch => requestToBatch(decodeJsonRequest(textOf(name)).request).records;

  it('covers every hostile JSON case', () => {
    expect(cases.map((c) => c.name).sort()).toEqual(Object.keys(expected).sort());
  });

  for (const c of cases) {
    it(`${c.name}: ${expected[c.name]}, neighbours unharmed`, () => {
      expect(checkJsonInput(textOf(c.name))).toBe(expected[c.name]);
      const records = recordsOf(c.name);
      expect(records[0].log.body).toEqual({ stringValue: NEIGHBOUR_BEFORE });
      expect(records[records.length - 1].log.body).toEqual({ stringValue: NEIGHBOUR_AFTER });
      expect(records).toHaveLength(expected[c.name] === 'partial' ? 2 : 3);
    });
  }

  it('keeps hostile values exactly', () => {
    const one = (name: string) => recordsOf(name)[1].log;
    expect(one('a 10 MiB attribute value').attributes[0].value?.stringValue).toHaveLength(10 * 1024 * 1024);
    expect(one('100,000 attributes').attributes).toHaveLength(100_000);
    expect(one('NUL bytes in keys, values, body and severity text').attributes[0]).toEqual({ key: 'k\0', value: { stringValue: '\0\0' } });
    const dbl = one('NaN and ±Infinity doubles');
    expect(dbl.body?.doubleValue).toBeNaN();
    expect(dbl.attributes.map((a) => a.value?.doubleValue)).toEqual([Infinity, -Infinity, Infinity]);
    const dup = one('duplicate attribute keys and duplicate JSON object keys');
    expect(dup.body).toEqual({ stringValue: 'second' }); // JSON.parse: the last duplicate wins
    expect(dup.attributes.map((a) => a.value?.stringValue)).toEqual(['a', 'b']);
    expect(one('absurd timestamps (0, 1 ns, 2^64 − 1 ns)').timeUnixNano?.toString()).toBe('18446744073709551615');
  });

  it('answers a malformed request with INVALID_ARGUMENT naming the problem', () => {
    for (const text of ['', '{', '[]', '{"resourceLogs":{}}', '{"resourceLogs":[{"scopeLogs":[{"scope":7}]}]}']) {
      let err: unknown;
      try {
        decodeJsonRequest(text);
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(Refusal);
      expect((err as Refusal).code).toBe('INVALID_ARGUMENT');
      expect((err as Refusal).message).toMatch(/malformed (JSON|OTLP\/JSON)/);
    }
  });
});
