import { describe, expect, it } from 'vitest';
import {
  lnGamma,
  log10BinomialUpper,
  log10NormalUpper,
  log10PoissonUpper,
  scoreFromSurprise,
  surpriseForScore,
} from '../../../src/processors/anomaly/math.js';

// Exact references computed by direct summation in double precision.
function poissonUpperExact(k: number, mu: number): number {
  // Σ_{i ≥ k} e^{−μ} μ^i / i!, summed upward from k so that far tails stay exact.
  let term = Math.exp(-mu);
  for (let i = 1; i <= k; i++) term *= mu / i;
  let s = 0;
  for (let i = k; i < k + 400; i++) {
    s += term;
    term *= mu / (i + 1);
  }
  return s;
}
function binomialUpperExact(k: number, n: number, p: number): number {
  let s = 0;
  for (let i = k; i <= n; i++) {
    let lc = 0;
    for (let j = 0; j < i; j++) lc += Math.log(n - j) - Math.log(j + 1);
    s += Math.exp(lc + i * Math.log(p) + (n - i) * Math.log1p(-p));
  }
  return s;
}

describe('anomaly math', () => {
  it('lnGamma matches factorials', () => {
    for (const n of [1, 2, 5, 10, 20]) {
      let f = 1;
      for (let i = 2; i < n; i++) f *= i;
      expect(lnGamma(n)).toBeCloseTo(Math.log(f), 6);
    }
    expect(lnGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 6);
  });

  it('Poisson upper tail matches direct summation, including far tails', () => {
    for (const [k, mu] of [[1, 0.5], [3, 1], [10, 2], [5, 8], [30, 10], [50, 0.01]] as const) {
      const exact = poissonUpperExact(k, mu);
      expect(log10PoissonUpper(k, mu)).toBeCloseTo(Math.log10(exact), 6);
    }
    // Far beyond double precision of 1 − CDF, still finite and ordered.
    expect(log10PoissonUpper(200, 1)).toBeLessThan(log10PoissonUpper(100, 1));
    expect(Number.isFinite(log10PoissonUpper(500, 0.001))).toBe(true);
    expect(log10PoissonUpper(0, 3)).toBe(0);
  });

  it('binomial upper tail matches direct summation', () => {
    for (const [k, n, p] of [[1, 10, 0.1], [5, 20, 0.1], [15, 100, 0.02], [40, 50, 0.5], [3, 3, 0.3]] as const) {
      expect(log10BinomialUpper(k, n, p)).toBeCloseTo(Math.log10(binomialUpperExact(k, n, p)), 6);
    }
    expect(log10BinomialUpper(0, 10, 0.5)).toBe(0);
    expect(log10BinomialUpper(11, 10, 0.5)).toBe(-Infinity);
  });

  it('normal upper tail: known quantiles and no underflow', () => {
    expect(log10NormalUpper(0)).toBeCloseTo(Math.log10(0.5), 6);
    expect(10 ** log10NormalUpper(1.959964)).toBeCloseTo(0.025, 6);
    expect(10 ** log10NormalUpper(-1.959964)).toBeCloseTo(0.975, 6);
    expect(log10NormalUpper(40)).toBeLessThan(-300);
    expect(Number.isFinite(log10NormalUpper(40))).toBe(true);
  });

  it('score ↔ surprise: threshold 0.9 is p = 10^-k', () => {
    expect(scoreFromSurprise(6, 6)).toBeCloseTo(0.9, 12);
    expect(scoreFromSurprise(2, 2)).toBeCloseTo(0.9, 12);
    expect(surpriseForScore(0.9, 6)).toBeCloseTo(6, 12);
    expect(scoreFromSurprise(0, 6)).toBe(0);
    expect(scoreFromSurprise(-1, 6)).toBe(0);
    expect(scoreFromSurprise(1000, 1)).toBe(1);
  });
});
