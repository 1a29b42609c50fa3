// int64Decimal replaces long.js's toString on the hot path (record ids, OTLP JSON
// timestamps and integers): both feed hashes, so the text must be identical.
import fc from 'fast-check';
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { int64Decimal } from '../../src/pipeline/record.js';

describe('int64Decimal', () => {
  it('matches long.js for any 64-bit value, signed and unsigned', () => {
    const edges = [0, 1, -1, 0x1fffff, 0x200000, -0x200000, -0x200001, 0x7fffffff, -0x80000000];
    const half = fc.oneof(fc.integer({ min: -0x80000000, max: 0x7fffffff }), fc.constantFrom(...edges));
    fc.assert(
      fc.property(half, half, fc.boolean(), (low, high, unsigned) => {
        expect(int64Decimal(low, high, unsigned)).toBe(Long.fromBits(low, high, unsigned).toString());
      }),
      { numRuns: 5000, seed: 0x5eed },
    );
  });

  it('matches long.js on timestamps around now and at the ends of the range', () => {
    for (const v of [Long.UZERO, Long.MAX_UNSIGNED_VALUE, Long.MAX_VALUE, Long.MIN_VALUE, Long.fromString('1764143374123456789', true)]) {
      expect(int64Decimal(v.low, v.high, v.unsigned)).toBe(v.toString());
    }
  });
});
