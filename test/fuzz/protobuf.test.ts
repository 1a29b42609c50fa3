// The protobuf decoder under fuzzing: valid requests round-trip, mutated and
// random bytes are decoded or refused with INVALID_ARGUMENT (never anything
// else), and hostile values are handled with their neighbours unharmed.
import { describe, expect, it } from 'vitest';
import { decodeProtobufRequest, encodeProtobufRequest, requestToBatch } from '../../src/otlp/convert.js';
import { checkProtobufInput } from '../../src/fuzz/contracts.js';
import { hostileCases, NEIGHBOUR_AFTER, NEIGHBOUR_BEFORE } from '../../src/fuzz/hostile.js';
import { applyMutation } from '../../src/fuzz/mutate.js';
import { encodeVarint, readVarint, scanFields, WireType } from '../../src/fuzz/wire.js';
import { Refusal } from '../../src/pipeline/errors.js';
import type { AnyValue, LogBatch } from '../../src/pipeline/record.js';
import { fuzz } from './helpers.js';

describe('protobuf decoder fuzzing', () => {
  it('round-trips valid requests through both codecs and the batch form (600 cases)', () => {
    fuzz('otlp.roundtrip', 600);
  });

  it('decodes or cleanly refuses mutated valid requests (1,500 cases)', () => {
    const r = fuzz('protobuf.mutated', 1500);
    // Both answers occur: the mutations are neither all fatal nor all harmless.
    expect(r.outcomes.refused).toBeGreaterThan(100);
    expect(r.outcomes.accepted).toBeGreaterThan(100);
  });

  it('decodes or cleanly refuses random bytes (500 cases)', () => {
    fuzz('protobuf.random', 500);
  });
});

describe('wire-format mutations', () => {
  const req = encodeProtobufRequest({
    resourceLogs: [{ scopeLogs: [{ logRecords: [{ attributes: [{ key: 'k', value: { stringValue: 'v' } }], severityNumber: 9 }] }] }],
  });

  it('finds every field, nested messages included', () => {
    const fields = scanFields(req);
    expect(fields[0]).toMatchObject({ start: 0, fieldNo: 1, wireType: WireType.LEN, depth: 0, end: req.length });
    // request → ResourceLogs → ScopeLogs → LogRecord → KeyValue → AnyValue: the string 'v' sits five levels down.
    expect(Math.max(...fields.map((f) => f.depth))).toBeGreaterThanOrEqual(5);
    expect(fields.some((f) => f.fieldNo === 2 && f.wireType === WireType.VARINT)).toBe(true); // severity_number
  });

  it('corrupts a length field in place, keeping the rest intact', () => {
    const out = applyMutation(req, { op: 'length', field: 0, to: 'max_uint64' });
    expect(out.length).toBe(req.length - 1 + 10);
    expect(readVarint(out, 1)?.end).toBe(11);
    expect(() => decodeProtobufRequest(out)).toThrow(Refusal);
  });

  it('rewrites wire types and field numbers, inserts giant varints', () => {
    const wrong = applyMutation(req, { op: 'wire_type', field: 0, wireType: WireType.I32 });
    expect(wrong[0]).toBe((1 << 3) | WireType.I32);
    // An 11-byte varint in a field the request does not define: skipped, and not carried on (unknown fields are discarded).
    const overlong = applyMutation(req, { op: 'varint', field: 0, kind: 'overlong', fieldNo: 3 });
    expect(overlong.length).toBe(req.length + 1 + 12);
    expect(checkProtobufInput(overlong)).toBe('accepted');
    expect(Buffer.from(encodeProtobufRequest(decodeProtobufRequest(overlong)))).toEqual(Buffer.from(req));
    const unknown = applyMutation(req, { op: 'varint', field: 0, kind: 'giant_tag', fieldNo: 1 });
    expect(checkProtobufInput(unknown)).toBe('accepted');
    // A length beyond the input is refused.
    const giantLen = applyMutation(req, { op: 'varint', field: 0, kind: 'giant_len', fieldNo: 1 });
    expect(checkProtobufInput(giantLen)).toBe('refused');
    expect(encodeVarint(-1n)).toHaveLength(10);
  });

  it('refuses a truncated request with INVALID_ARGUMENT', () => {
    for (let at = 1; at < req.length; at++) {
      const out = applyMutation(req, { op: 'truncate', at });
      const outcome = checkProtobufInput(out);
      expect(['refused', 'accepted']).toContain(outcome);
    }
    let err: unknown;
    try {
      decodeProtobufRequest(req.subarray(0, req.length - 1));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Refusal);
    expect((err as Refusal).code).toBe('INVALID_ARGUMENT');
  });
});

function bodyOf(rec: LogBatch[number]): AnyValue | null | undefined {
  return rec.log.body;
}

const decoded = new Map<Uint8Array, { records: LogBatch; rejected: number } | Refusal>();

/** Decodes a hostile protobuf case (once): the accepted records, or the refusal. */
function decode(bytes: Uint8Array): { records: LogBatch; rejected: number } | Refusal {
  if (!decoded.has(bytes)) decoded.set(bytes, decodeOnce(bytes));
  return decoded.get(bytes)!;
}

function decodeOnce(bytes: Uint8Array): { records: LogBatch; rejected: number } | Refusal {
  try {
    const b = requestToBatch(decodeProtobufRequest(bytes));
    return { records: b.records, rejected: b.rejected };
  } catch (err) {
    if (err instanceof Refusal) return err;
    throw err;
  }
}

describe('hostile values over protobuf', () => {
  const expected: Record<string, 'accepted' | 'refused'> = {
    'a 10 MiB attribute value': 'accepted',
    'a 1,000-deep kvlist body': 'refused', // beyond the 100-message recursion limit: the whole request
    'a 20-deep kvlist body (within limits)': 'accepted',
    '100,000 attributes': 'accepted',
    'NUL bytes in keys, values, body and severity text': 'accepted',
    'invalid UTF-8 in an attribute value': 'refused', // proto3 strings must be UTF-8: the whole request
    'invalid UTF-8 in a key': 'refused',
    'NaN and ±Infinity doubles': 'accepted',
    'absurd timestamps (0, 1 ns, 2^64 − 1 ns)': 'accepted',
    'a negative int64 timestamp written as a ten-byte varint where fixed64 belongs': 'accepted', // wrong wire type: skipped as unknown
    'duplicate attribute keys': 'accepted',
    'out-of-range severity numbers': 'accepted',
    'a negative severity number': 'accepted',
  };
  const cases = hostileCases.filter((c) => c.kind === 'protobuf');
  const built = new Map<string, Uint8Array>();
  const bytesOf = (name: string) => {
    if (!built.has(name)) built.set(name, cases.find((c) => c.name === name)!.build() as Uint8Array);
    return built.get(name)!;
  };

  it('covers every hostile protobuf case', () => {
    expect(cases.map((c) => c.name).sort()).toEqual(Object.keys(expected).sort());
  });

  for (const c of cases) {
    it(`${c.name}: ${expected[c.name]}, neighbours unharmed`, () => {
      const bytes = bytesOf(c.name);
      expect(checkProtobufInput(bytes)).toBe(expected[c.name]);
      const d = decode(bytes);
      if (d instanceof Refusal) {
        expect(d.code).toBe('INVALID_ARGUMENT');
        expect(d.message).toMatch(/malformed protobuf/);
        return;
      }
      expect(d.records).toHaveLength(3);
      expect(bodyOf(d.records[0])).toEqual({ stringValue: NEIGHBOUR_BEFORE });
      expect(bodyOf(d.records[2])).toEqual({ stringValue: NEIGHBOUR_AFTER });
    });
  }

  it('keeps hostile values exactly', () => {
    const find = (name: string) => {
      const d = decode(bytesOf(name));
      if (d instanceof Refusal) throw d;
      return d.records[1].log;
    };
    const big = find('a 10 MiB attribute value');
    expect(big.attributes[0].value?.stringValue).toHaveLength(10 * 1024 * 1024);
    expect(find('100,000 attributes').attributes).toHaveLength(100_000);
    const nul = find('NUL bytes in keys, values, body and severity text');
    expect(nul.severityText).toBe('IN\0FO');
    expect(nul.attributes[0]).toMatchObject({ key: 'k\0', value: { stringValue: '\0\0' } });
    const dbl = find('NaN and ±Infinity doubles');
    expect(dbl.body?.doubleValue).toBeNaN();
    expect(dbl.attributes.map((a) => a.value?.doubleValue)).toEqual([Infinity, -Infinity, -0]);
    expect(find('absurd timestamps (0, 1 ns, 2^64 − 1 ns)').timeUnixNano?.toString()).toBe('18446744073709551615');
    expect(find('duplicate attribute keys').attributes.map((a) => a.value?.stringValue)).toEqual(['first', 'second']);
    expect(find('out-of-range severity numbers').severityNumber).toBe(99);
  });
});
