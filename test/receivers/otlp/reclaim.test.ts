// When the in-flight budget drains after a large burst (stalled requests gone),
// the receiver forces a full collection so their buffers stop counting against
// memory_limiter; ordinary traffic never triggers one. The collector is given
// the way memory_limiter's is (its opts.gc); the memory effect itself is
// measured by bench/receiver-memory-return.ts (figures in the receiver README).
import { describe, expect, it } from 'vitest';
import { InflightBudget } from '../../../src/receivers/otlp/budget.js';
import { RECLAIM_MIN_INTERVAL_MS, ReclaimAfterBurst } from '../../../src/receivers/otlp/reclaim.js';

const LIMIT = 1000;

function setup(opts: { exposed?: boolean } = {}) {
  let now = 0;
  let collections = 0;
  const peaks: number[] = [];
  const reclaim = new ReclaimAfterBurst(LIMIT, {
    gc: () => (opts.exposed === false ? undefined : () => collections++),
    now: () => now,
    defer: (fn) => fn(),
    onCollect: (peak) => peaks.push(peak),
  });
  const budget = new InflightBudget(LIMIT, (used) => reclaim.observe(used));
  /** `n` requests of `bytes` each arrive together, stall, and are then dropped. */
  const burst = (n: number, bytes: number) => {
    const holds = Array.from({ length: n }, () => budget.open());
    for (const h of holds) h.add(bytes);
    for (const h of holds) h.release();
  };
  return { burst, budget, advance: (ms: number) => (now += ms), collections: () => collections, peaks };
}

describe('reclaiming memory after a burst of partly received requests', () => {
  it('a burst that held half the budget or more is followed by one forced collection (two gc passes) once it drains', () => {
    const s = setup();
    s.burst(5, 100);
    expect(s.budget.used).toBe(0);
    expect(s.peaks).toEqual([500]);
    // Two passes: V8 releases an ArrayBuffer's memory accounting only at the collection after the one that finds it dead.
    expect(s.collections()).toBe(2);
  });

  it('ordinary traffic never forces one: bursts below half the budget, however many, whatever their total', () => {
    const s = setup();
    for (let i = 0; i < 100; i++) {
      s.burst(4, 100);
      s.advance(RECLAIM_MIN_INTERVAL_MS);
    }
    expect(s.collections()).toBe(0);
  });

  it('nothing until the budget is back to zero', () => {
    const s = setup();
    const a = s.budget.open();
    const b = s.budget.open();
    a.add(600);
    b.add(10);
    a.release();
    expect(s.collections()).toBe(0);
    b.release();
    expect(s.peaks).toEqual([610]);
  });

  it('at most one forced collection per interval, whatever the attack pattern', () => {
    const s = setup();
    s.burst(1, 900);
    s.advance(RECLAIM_MIN_INTERVAL_MS - 1);
    s.burst(1, 900);
    expect(s.peaks).toEqual([900]);
    s.advance(1);
    s.burst(1, 800);
    expect(s.peaks).toEqual([900, 800]);
  });

  it('without --expose-gc nothing is forced and nothing fails', () => {
    const s = setup({ exposed: false });
    s.burst(1, 900);
    expect(s.collections()).toBe(0);
    expect(s.peaks).toEqual([]);
  });
});
