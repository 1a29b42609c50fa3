import { describe, expect, it } from 'vitest';
import { hashString } from '../../../src/processors/anomaly/hash.js';
import { HLL_WORDS, hllAdd, hllClear, hllEstimate } from '../../../src/processors/anomaly/hll.js';
import { KeyTable } from '../../../src/processors/anomaly/key-table.js';

describe('HyperLogLog (64 registers)', () => {
  it('is close to exact for small counts and within ~3 standard errors for large ones', () => {
    const words = new Uint32Array(2 * HLL_WORDS);
    for (const n of [1, 2, 5, 10, 30]) {
      hllClear(words, 0);
      for (let i = 0; i < n; i++) hllAdd(words, 0, hashString(`user-${n}-${i}`));
      expect(Math.abs(hllEstimate(words, 0) - n)).toBeLessThanOrEqual(Math.max(1, n * 0.15));
    }
    hllClear(words, 0);
    for (let i = 0; i < 10_000; i++) hllAdd(words, 0, hashString(`u${i}`));
    expect(Math.abs(hllEstimate(words, 0) - 10_000) / 10_000).toBeLessThan(0.4);
  });

  it('repeats do not count and the union of two sketches counts each value once', () => {
    const words = new Uint32Array(2 * HLL_WORDS);
    for (let r = 0; r < 50; r++) for (let i = 0; i < 4; i++) hllAdd(words, 0, hashString(`a${i}`));
    expect(Math.round(hllEstimate(words, 0))).toBe(4);
    for (let i = 2; i < 8; i++) hllAdd(words, HLL_WORDS, hashString(`a${i}`));
    expect(Math.abs(hllEstimate(words, 0, HLL_WORDS) - 8)).toBeLessThan(1);
  });
});

describe('KeyTable', () => {
  it('caps keys at max_keys, reusing the least recently used slot, zeroed', () => {
    const t = new KeyTable(3, 2, 1);
    const a = t.add('a');
    t.f64[a * 2] = 7;
    t.u32[a] = 9;
    t.add('b');
    t.add('c');
    expect(t.find('a')).toBe(a); // a is now the most recently used
    const d = t.add('d'); // evicts b
    expect(t.size).toBe(3);
    expect(t.find('b')).toBe(-1);
    expect(t.evictions).toBe(1);
    expect(t.f64[d * 2]).toBe(0);
    expect([...t.entriesOldestFirst()].map(([k]) => k)).toEqual(['c', 'a', 'd']);
    expect(t.f64[t.find('a') * 2]).toBe(7);
  });

  it('grows its slabs by doubling up to the cap, keeping the cells', () => {
    const t = new KeyTable(5000, 1, 1);
    for (let i = 0; i < 5000; i++) t.f64[t.add(`k${i}`)] = i;
    expect(t.size).toBe(5000);
    expect(t.f64[t.find('k0')]).toBe(0);
    expect(t.f64[t.find('k4999')]).toBe(4999);
    expect(t.f64.length).toBe(5000);
    for (let i = 0; i < 20_000; i++) t.add(`x${i}`);
    expect(t.size).toBe(5000);
    expect(t.f64.length).toBe(5000);
  });
});
