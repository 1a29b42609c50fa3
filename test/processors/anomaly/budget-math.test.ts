// Known answers for the arithmetic behind the false-alert budget: the negative
// binomial tail against exact sums, the size-biased identity the rate detector
// relies on, P(at least one session a day) of the Gamma–Poisson, the
// Bonferroni level, and the population's key-hour tail giving back that level
// when the model is calibrated.
import { describe, expect, it } from 'vitest';
import { pAtLeastOne } from '../../../src/processors/anomaly/detectors/hour-of-week.js';
import { bonferroniSurprise } from '../../../src/processors/anomaly/detectors/detector.js';
import { KeyHourTail } from '../../../src/processors/anomaly/key-hour-tail.js';
import { log10NegBinomialUpper, log10PoissonUpper } from '../../../src/processors/anomaly/math.js';

/** NB(mean mu, size r) pmf at i, from its definition Γ(i+r)/(i! Γ(r)) q^i (1−q)^r, q = mu/(mu+r), by a product (no special functions). */
function nbPmfs(mu: number, r: number, upTo: number): number[] {
  const q = mu / (mu + r);
  const out: number[] = [Math.pow(1 - q, r)];
  for (let i = 1; i <= upTo; i++) out.push((out[i - 1] * (i - 1 + r) * q) / i);
  return out;
}
function nbUpperExact(k: number, mu: number, r: number): number {
  const p = nbPmfs(mu, r, k + 4000);
  let s = 0;
  for (let i = p.length - 1; i >= k; i--) s += p[i]; // smallest first
  return s;
}

describe('negative binomial upper tail', () => {
  const cases: [number, number, number][] = [
    [5, 2, 1],
    [10, 2, 3],
    [20, 4, 0.5],
    [40, 3, 10],
    [3, 0.5, 2],
    [60, 10, 2],
    [100, 5, 50],
  ];
  for (const [k, mu, r] of cases) {
    it(`P(X ≥ ${k}) for mean ${mu}, size ${r} matches the exact sum`, () => {
      const exact = nbUpperExact(k, mu, r);
      expect(Math.abs(log10NegBinomialUpper(k, mu, r) - Math.log10(exact))).toBeLessThan(1e-6);
    });
  }

  it('hand-checked values: a geometric (size 1) tail is (mu/(1+mu))^k', () => {
    // Size 1 is the geometric: P(X ≥ k) = q^k with q = mu/(mu+1). Mean 3: q = 3/4, k = 10: 0.75^10 = 0.0563135147.
    expect(10 ** log10NegBinomialUpper(10, 3, 1)).toBeCloseTo(0.0563135147, 8);
    expect(10 ** log10NegBinomialUpper(1, 3, 1)).toBeCloseTo(0.75, 8);
  });

  it('tends to the Poisson as the size grows, and is the Poisson at size ∞', () => {
    expect(log10NegBinomialUpper(15, 4, Infinity)).toBe(log10PoissonUpper(15, 4));
    expect(Math.abs(log10NegBinomialUpper(15, 4, 1e6) - log10PoissonUpper(15, 4))).toBeLessThan(1e-3);
    // Over-dispersion makes the same count far less surprising.
    expect(log10NegBinomialUpper(15, 4, 2)).toBeGreaterThan(log10PoissonUpper(15, 4) + 2.5);
  });

  it('is 1 at k ≤ 0 and decreases in k', () => {
    expect(log10NegBinomialUpper(0, 3, 2)).toBe(0);
    let prev = 0;
    for (let k = 1; k < 80; k += 3) {
      const v = log10NegBinomialUpper(k, 3, 2);
      expect(v).toBeLessThan(prev);
      prev = v;
    }
  });

  it('size-biased NB: k·P(X = k) ∝ P(Y = k − 1) with Y ~ NB(mu·(r+1)/r, r+1) (the count a record finds)', () => {
    const [mu, r] = [2.5, 3];
    const p = nbPmfs(mu, r, 60);
    const y = nbPmfs((mu * (r + 1)) / r, r + 1, 60);
    for (let k = 1; k < 40; k++) expect((k * p[k]) / mu).toBeCloseTo(y[k - 1], 12);
  });
});

describe('budget arithmetic', () => {
  it('Bonferroni: n tests a day at budget B per key-day need p ≤ B/n', () => {
    expect(bonferroniSurprise(1440, 0.001)).toBeCloseTo(Math.log10(1.44e6), 12);
    expect(bonferroniSurprise(1, 0.001)).toBeCloseTo(3, 12);
    expect(bonferroniSurprise(0.2, 0.001)).toBeCloseTo(3, 12); // fewer than one test a day counts as one
  });

  it('P(at least one session a day) under a Gamma(a, b) rate is 1 − (b/(b+1))^a', () => {
    // a = 1, b = 1: 1 − 1/2. a = 2, b = 3: 1 − (3/4)² = 0.4375.
    expect(pAtLeastOne(1, 1)).toBeCloseTo(0.5, 12);
    expect(pAtLeastOne(2, 3)).toBeCloseTo(0.4375, 12);
    // Small rates: about a/b.
    expect(pAtLeastOne(0.005, 10)).toBeCloseTo(0.005 * Math.log(11 / 10), 6);
  });

  it('the key-hour tail gives back the Bonferroni level on a calibrated model, and a higher one on a heavier tail', () => {
    // A calibrated model: a key-hour's n tests each with p uniform, so its highest surprise S has P(S ≥ s) = 1 − (1 − 10^−s)^n.
    const n = 60;
    const tau = 7 * 86_400_000 / Math.LN2;
    const draw = (u: number, heavy: number) => -Math.log10(1 - Math.pow(1 - u, 1 / n)) / heavy;
    let seed = 12345; // mulberry32
    const rnd = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return (((x ^ (x >>> 14)) >>> 0) + 0.5) / 4294967296;
    };
    const calibrated = new KeyHourTail(tau);
    const heavier = new KeyHourTail(tau);
    for (let i = 0; i < 200_000; i++) {
      const u = rnd();
      calibrated.push(draw(u, 1), 1000 + i);
      heavier.push(draw(u, 0.6), 1000 + i); // surprises stretched: the model's tail is too thin
    }
    const budget = 0.001 / 24;
    expect(Math.abs(calibrated.level(budget) - bonferroniSurprise(n, budget))).toBeLessThan(0.3);
    // Where the model is too sharp, the level rises to what the budget allows: stretched by 1/0.6.
    expect(Math.abs(heavier.level(budget) - bonferroniSurprise(n, budget) / 0.6)).toBeLessThan(0.5);
  });

  it('the population is settled after half a day of key-hours, not before', () => {
    const t = new KeyHourTail(1e12);
    for (let h = 0; h < 30; h++) t.push(0, 1 + h * 3_600_000);
    expect(t.settled).toBe(true);
    const young = new KeyHourTail(1e12);
    for (let h = 0; h < 100; h++) young.push(0, 1 + h * 60_000);
    expect(young.settled).toBe(false);
  });

  it('a key-hour counts as its evidence rises: the same tail as whole key-hours, known before the hour ends', () => {
    const whole = new KeyHourTail(1e12);
    const live = new KeyHourTail(1e12);
    // Each key-hour's surprises as they come; `whole` sees only each hour's maximum.
    const hours = [[0.5, 2.5, 1, 4.2], [3.1], [0, 0], [2, 5.5, 7.9, 3], [6.5, 12, 2]];
    hours.forEach((hour, i) => {
      const t = 1 + i * 3_600_000;
      whole.push(Math.max(...hour), t);
      live.open(t);
      let max = 0;
      for (const s of hour) {
        if (s > max) live.raise(max, s, t);
        max = Math.max(max, s);
      }
    });
    expect(live.save()).toEqual(whole.save());
    // An hour's exceedances count while it is still open.
    const t = new KeyHourTail(1e12);
    for (let i = 0; i < 11; i++) {
      t.open(i + 1);
      t.raise(0, 5, i + 1);
    }
    expect(t.level(1e-4)).toBeGreaterThan(2);
  });

  it('the key-hour tail stays silent until it has seen enough exceedances', () => {
    const t = new KeyHourTail(1e9);
    for (let i = 0; i < 9; i++) t.push(5, i + 1);
    expect(t.level(1e-4)).toBe(0);
    t.push(5, 10);
    t.push(5, 11);
    expect(t.level(1e-4)).toBeGreaterThan(2);
  });
});
