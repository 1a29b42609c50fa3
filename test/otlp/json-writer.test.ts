import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonWriter } from '../../src/otlp/json-writer.js';
import { int64Decimal, Long } from '../../src/pipeline/record.js';

describe('JsonWriter', () => {
  it('writes a string literal as exactly the UTF-8 of JSON.stringify (escapes, non-ASCII, lone surrogates)', () => {
    const w = new JsonWriter();
    fc.assert(
      fc.property(fc.string({ unit: fc.oneof(fc.constantFrom('"', '\\', '\u0000', '\u001f', '\u007f', '\u2028', '\ud800', '\udfff', 'é'), fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))) }), (s) => {
        w.string(s);
        expect(w.take().equals(Buffer.from(JSON.stringify(s), 'utf8'))).toBe(true);
      }),
      { numRuns: 2000, seed: 20261204 },
    );
  });

  it('writes a 64-bit integer as its halves exactly as long.js (and int64Decimal) spell it', () => {
    const w = new JsonWriter();
    const edges = [0, 1, -1, 9, 10, 999999, 1000000, 0x1fffff, 0x200000, -0x200000, -0x200001, 0x7fffffff, -0x80000000, 967296, -967296];
    const half = fc.oneof(fc.integer({ min: -0x80000000, max: 0x7fffffff }), fc.constantFrom(...edges));
    fc.assert(
      fc.property(half, half, fc.boolean(), (low, high, unsigned) => {
        w.int64(low, high, unsigned);
        const expected = Long.fromBits(low, high, unsigned).toString();
        expect(w.takeText()).toBe(expected);
        expect(int64Decimal(low, high, unsigned)).toBe(expected);
      }),
      { numRuns: 20000, seed: 0x64 },
    );
    for (const t of ['1000000000000000000', '10000000000000000', '9007199254740993', '18446744073709551615', '1793491200003000000']) {
      const v = Long.fromString(t, true);
      w.int64(v.low, v.high, true);
      expect(w.takeText()).toBe(t);
    }
    for (const t of ['-9223372036854775808', '-1000000000000000000', '-9007199254740993', '-4294967296']) {
      const v = Long.fromString(t, false);
      w.int64(v.low, v.high, false);
      expect(w.takeText()).toBe(t);
    }
  });

  it('writes bytes as hex exactly as Buffer#toString(\'hex\') does, after other text', () => {
    const w = new JsonWriter();
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    w.ascii('x');
    w.hex(all);
    w.hex(new Uint8Array(0));
    expect(w.takeText()).toBe(`x${Buffer.from(all).toString('hex')}`);
  });

  it('grows past its first buffer and keeps everything written, in order', () => {
    const w = new JsonWriter();
    const pieces: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const s = i % 3 === 0 ? `v${i} "q" ü` : `plain-${i}`;
      pieces.push(JSON.stringify(s));
      w.string(s);
      w.ascii(',');
    }
    w.bytes(Buffer.from('€'));
    w.text('"日本"');
    const expected = `${pieces.join(',')},€"日本"`;
    expect(w.length).toBe(Buffer.byteLength(expected));
    expect(w.takeText()).toBe(expected);
    expect(w.length).toBe(0);
    w.ascii('x'.repeat(100));
    expect(w.copySince(90).toString()).toBe('x'.repeat(10));
    expect(w.take().toString()).toBe('x'.repeat(100));
  });
});

describe('withJsonLine', () => {
  it("lends encodeJsonLine's bytes, and leaves the shared writer empty after, also when the borrower throws", async () => {
    const { encodeJsonLine, withJsonLine } = await import('../../src/otlp/json.js');
    const { batchToRequest } = await import('../../src/otlp/convert.js');
    const { makeRecord } = await import('../helpers/records.js');
    const req = batchToRequest([makeRecord({ attrs: { 'user.id': 'alice', 'http.response.status_code': 200 } }), makeRecord({ body: { stringValue: 'é "x"' } })]);
    const expected = encodeJsonLine(req);
    const lent = withJsonLine(req, (bytes) => Buffer.from(bytes));
    expect(lent.equals(expected)).toBe(true);
    expect(() =>
      withJsonLine(req, () => {
        throw new Error('borrower failed');
      }),
    ).toThrow('borrower failed');
    // Nothing of the lent or abandoned lines is left in what is encoded next.
    expect(encodeJsonLine(req).equals(expected)).toBe(true);
  });
});
