// The numbers in anomaly reasons: fmt prints three significant digits the way
// String(Number(x.toPrecision(3))) does (its definition), taking a shorter path.
// Reasons are outputs: a replay must print the same text, so the short path is
// checked against the definition on the edges (rounding to the next decade,
// trailing zeros, the exponent form) and on a seeded spread of values.
import { describe, expect, it } from 'vitest';
import { fmt } from '../../../src/processors/anomaly/detectors/detector.js';
import { Rng } from '../../../src/simulate/rng.js';

function byDefinition(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return x.toExponential(2);
  return String(Number(x.toPrecision(3)));
}

describe('fmt (numbers in anomaly reasons)', () => {
  it('prints edge values as String(Number(x.toPrecision(3))) does', () => {
    const edges = [0, -0, 1, -1, 1.2, 1.20001, 100, 120, 0.1, 0.001, 0.00105, 0.000999, 9.995, 99.95, 999.4999, 999.5, 1234.5, 999_999, 1e6, NaN, Infinity, -Infinity];
    for (const x of edges) expect(fmt(x), String(x)).toBe(byDefinition(x));
    expect(fmt(1.2)).toBe('1.2');
    expect(fmt(999.5)).toBe('1000');
  });

  it('agrees with the definition on 200,000 seeded values from 1e-4 to 1e7, both signs', () => {
    const rng = new Rng(42);
    let differing = 0;
    for (let i = 0; i < 200_000; i++) {
      const x = (rng.next() < 0.5 ? -1 : 1) * 10 ** (-4 + 11 * rng.next());
      if (fmt(x) !== byDefinition(x)) differing++;
    }
    expect(differing).toBe(0);
  });
});
