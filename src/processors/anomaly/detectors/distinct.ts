// The `distinct` detector: how many different values of an attribute a key
// shows (accounts failing from one address: credential stuffing, password
// spraying). Per key, two HyperLogLog sketches (64 registers each) for the
// current and the previous window of event time; the count is over their
// union (the last one to two windows). Each finished window's count feeds the
// key's norm (a time-decayed mean over windows in which the key was active,
// an update capped at 3 × norm + 3 so that an attack does not become the norm),
// shrunk toward the population's norm by two pseudo-windows. The count is
// scored with the Poisson upper tail at the norm.
import type { AttributeView, AttrRef } from '../attr-ref.js';
import { hashString } from '../hash.js';
import { HLL_WORDS, hllAdd, hllClear, hllEstimate } from '../hll.js';
import type { KeyTable } from '../key-table.js';
import { log10PoissonUpper } from '../math.js';
import { BASE, bonferroniSurprise, DAY_MS, type Detector, fmt } from './detector.js';
import { fmtDuration } from './rate.js';

const EPOCH_START = 0, GEN = 1, W = 2, MEAN = 3;
const CELLS = 4;
const PRIOR_WINDOWS = 2;

export interface DistinctParams {
  attr: AttrRef;
  windowMs: number;
  halfLifeMs: number;
  warmup: number;
  minCount: number;
}

export class DistinctDetector implements Detector {
  readonly kind = 'distinct' as const;
  readonly k = 6;
  readonly f64Cells = CELLS;
  readonly u32Cells = 2 * HLL_WORDS;
  readonly fingerprint = 'distinct/v1/hll64';
  readonly warmup: number;
  private readonly tauLong: number;
  private popW = 0;
  private popMean = 1;
  private popTime = 0;
  private lastCount = 0;
  private lastNorm = 0;

  constructor(private readonly p: DistinctParams) {
    this.warmup = p.warmup;
    this.tauLong = p.halfLifeMs / Math.LN2;
  }

  /** The count is over the last one to two windows: a tenth of a window apart, counts share most of their values. */
  budgetSurprise(recordsPerDay: number, budget: number): number {
    return bonferroniSurprise(Math.min(recordsPerDay, (10 * DAY_MS) / this.p.windowMs), budget);
  }

  learning(_table: KeyTable, _slot: number, n: number): boolean {
    return n <= this.warmup;
  }

  input(view: AttributeView): number {
    const v = this.p.attr.get(view);
    return v === undefined || v === '' ? NaN : hashString(String(v));
  }

  observe(table: KeyTable, slot: number, t: number, _dt: number, n: number, hash: number): number {
    const f = table.f64;
    const o = slot * table.f64Stride + BASE;
    const u = table.u32;
    const base = slot * table.u32Stride;
    const win = this.p.windowMs;
    if (n === 1) f[o + EPOCH_START] = t;
    const norm = () => (f[o + MEAN] * f[o + W] + this.popMean * PRIOR_WINDOWS) / (f[o + W] + PRIOR_WINDOWS);

    const elapsed = Math.floor((t - f[o + EPOCH_START]) / win);
    if (elapsed >= 1) {
      const cur = base + f[o + GEN] * HLL_WORDS;
      const prev = base + (1 - f[o + GEN]) * HLL_WORDS;
      const finished = Math.min(hllEstimate(u, cur), 3 * norm() + 3);
      // The key's norm: a decayed mean over the windows in which it was active.
      const wk = f[o + W] * Math.exp(-(elapsed * win) / this.tauLong) + 1;
      f[o + W] = wk;
      f[o + MEAN] += (finished - f[o + MEAN]) / wk;
      if (t > this.popTime) {
        this.popW *= this.popTime === 0 ? 1 : Math.exp(-(t - this.popTime) / this.tauLong);
        this.popTime = t;
      }
      this.popW += 1;
      this.popMean += (Math.min(finished, 3 * this.popMean + 3) - this.popMean) / this.popW;
      if (elapsed === 1) {
        f[o + GEN] = 1 - f[o + GEN];
        hllClear(u, prev);
      } else {
        hllClear(u, cur);
        hllClear(u, prev);
      }
      f[o + EPOCH_START] += elapsed * win;
    }
    const cur = base + f[o + GEN] * HLL_WORDS;
    hllAdd(u, cur, hash);
    const count = hllEstimate(u, cur, base + (1 - f[o + GEN]) * HLL_WORDS);
    const expected = Math.max(norm(), 0.1);
    let surprise = 0;
    if (n > this.warmup && count >= this.p.minCount && count > expected) surprise = -log10PoissonUpper(count, expected);
    this.lastCount = count;
    this.lastNorm = expected;
    return surprise;
  }

  explain(): string {
    return `${fmt(this.lastCount)} distinct ${this.p.attr.text} in the last ~${fmtDuration(this.p.windowMs)}–${fmtDuration(2 * this.p.windowMs)} vs baseline ${fmt(this.lastNorm)}`;
  }

  saveGlobal(): number[] {
    return [this.popW, this.popMean, this.popTime];
  }

  loadGlobal(v: readonly number[]): void {
    [this.popW, this.popMean, this.popTime] = [v[0] ?? 0, v[1] ?? 1, v[2] ?? 0];
  }
}
