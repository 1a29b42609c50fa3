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

  it('finds the key just looked up again without changing the order, and never an evicted key in its slot', () => {
    const t = new KeyTable(2, 1, 1);
    const a = t.add('a');
    expect(t.find('a')).toBe(a);
    expect(t.find('a')).toBe(a);
    const b = t.add('b');
    expect(t.find('b')).toBe(b);
    expect([...t.entriesOldestFirst()].map(([k]) => k)).toEqual(['a', 'b']);
    expect(t.orderOldestFirst()).toEqual({ keys: ['a', 'b'], slots: [a, b] });
    const c = t.add('c'); // evicts a, reusing its slot
    expect(c).toBe(a);
    expect(t.find('a')).toBe(-1);
    expect(t.find('c')).toBe(c);
    const one = new KeyTable(1, 1, 1);
    one.add('x');
    one.add('y'); // the newest slot now holds y, not x
    expect(one.find('x')).toBe(-1);
    expect(one.find('y')).toBe(0);
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

  it('holds memory for the keys in use, not for max_keys (max_keys 1,000,000, 10 keys)', () => {
    const t = new KeyTable(1_000_000, 12, 4);
    for (let i = 0; i < 10; i++) t.add(`k${i}`);
    expect(t.allocatedSlots).toBe(1024);
    // 1,024 slots × (12 × 8 + 4 × 4 cell bytes + 8 bytes of LRU links): 120 KiB, not the ~120 MB max_keys would take.
    expect(t.slabBytes()).toBe(1024 * (12 * 8 + 4 * 4 + 8));
    expect(t.f64.length).toBe(1024 * 12);
    expect(t.u32.length).toBe(1024 * 4);
  });

  it('keeps the cells of every key and their place in the LRU order through each growth', () => {
    const t = new KeyTable(100_000, 3, 2);
    const n = 9_000; // four doublings past the initial 1,024 slots
    for (let i = 0; i < n; i++) {
      const s = t.add(`k${i}`);
      t.f64.set([i, -i, i / 7], s * 3);
      t.u32.set([i, i ^ 0x5a5a], s * 2);
      if (i % 3 === 0) t.find(`k${i >> 1}`); // touch older keys between growths
    }
    expect(t.allocatedSlots).toBe(16_384);
    for (let i = 0; i < n; i++) {
      const s = t.find(`k${i}`);
      expect([...t.f64.subarray(s * 3, s * 3 + 3)]).toEqual([i, -i, i / 7]);
      expect([...t.u32.subarray(s * 2, s * 2 + 2)]).toEqual([i, i ^ 0x5a5a]);
    }
    // Found in order k0…k8999 just now: that is the LRU order, oldest first.
    expect([...t.entriesOldestFirst()].map(([k]) => k)).toEqual(Array.from({ length: n }, (_, i) => `k${i}`));
  });

  it('evicts in least-recently-used order after growing, like a fresh table', () => {
    const t = new KeyTable(2_000, 1, 0);
    for (let i = 0; i < 2_000; i++) t.add(`k${i}`);
    for (let i = 0; i < 2_000; i += 2) t.find(`k${i}`); // even keys become the newest
    for (let i = 0; i < 1_000; i++) t.add(`n${i}`); // evicts the 1,000 odd keys
    expect(t.size).toBe(2_000);
    expect(t.evictions).toBe(1_000);
    for (let i = 0; i < 2_000; i++) expect(t.find(`k${i}`) >= 0, `k${i}`).toBe(i % 2 === 0);
    expect(t.slabBytes()).toBe(2_000 * (8 + 8));
  });
});
