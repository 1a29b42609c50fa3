// The `rate` detector: bursts in how many records (or, with `weight`, how much
// of an attribute, e.g. bytes) a key produces. Per key:
//  - the count in the window: a time-decayed counter from event time whose
//    mean lifetime is the window ("records in the last minute");
//  - the key's norm: the time-decayed mean and second moment (half-life) of
//    that count over the time the key is active (each record weighs its share
//    of the window's count, so each active window counts about once) — idle
//    nights and weekends do not dilute it, so a daily rhythm is not a burst.
// The count is scored with a negative binomial (Gamma–Poisson) upper tail at
// the key's mean and learned variance: real counts are over-dispersed (users
// have busy and quiet hours), so the dispersion is learned per key, not
// assumed Poisson. A weighted sum is first scaled to an equivalent count by
// E[w²]/E[w] (a compound Poisson sum of records of varying size).
// Young keys: the mean and second moment are shrunk toward the population's
// (all keys of the detector) by PRIOR_WINDOWS pseudo-windows. The population's
// variance includes the spread between keys, so a never-seen heavy user is
// judged against how much keys differ, not against the average key.
// Robust updates: a count enters the norm clamped at the predictive mean + 4
// standard deviations, and while it is as anomalous as an alert it feeds the
// norm at ANOMALOUS_WEIGHT: a burst does not teach the key that bursts are
// normal, a lasting change is learned in bounded time (README).
import type { AttributeView, AttrRef } from '../attr-ref.js';
import type { KeyTable } from '../key-table.js';
import { log10NegBinomialUpper } from '../math.js';
import { BASE, bonferroniSurprise, CELL_T_FIRST, DAY_MS, type Detector, fmt, numeric } from './detector.js';

const COUNT = 0, NORM_W = 1, NORM = 2, NORM_SQ = 3, W_SUM = 4, W_SQ = 5, ANOMALOUS = 6, MY_NUM = 7, MY_DEN = 8;
const CELLS = 9;
const ANOMALOUS_WEIGHT = 0.25;
const PRIOR_WINDOWS = 5;
const MIN_PEERS = 3;
const CLAMP_SD = 4;
const COMMON_CAP = 10;
/** What the key's last record was: ordinary, suspicious (p ≤ 0.01), or as anomalous as an alert. */
const ORDINARY = 0, SUSPICIOUS = 1, ALERTING = 2;
const SUSPICIOUS_SURPRISE = 2;
/** The others' expected counts (decayed over the window) needed before their common mode is used. */
const COMMON_MIN = 20;
/** Scored every record, but records a tenth of a window apart share at least 90 % of their count. */
const TESTS_PER_WINDOW = 10;

export interface RateParams {
  weight: AttrRef | undefined;
  windowMs: number;
  halfLifeMs: number;
  warmup: number;
  minCount: number;
}

export class RateDetector implements Detector {
  readonly kind = 'rate' as const;
  readonly k = 6;
  readonly f64Cells = CELLS;
  readonly u32Cells = 0;
  readonly fingerprint: string;
  readonly warmup: number;
  private readonly tauLong: number;
  // Population: decayed means over every key's records, at event time popTime.
  private popW = 0;
  private popNorm = 0;
  private popSq = 0;
  private popScaleNum = 0;
  private popScaleDen = 0;
  private popTime = 0;
  // Common mode: decayed (over the window) sums of every key's count and of its norm, per record.
  private commonNum = 0;
  private commonDen = 0;
  private lastCount = 0;
  private lastNorm = 0;
  private lastSd = 0;
  /** The fixed words of a reason (what is counted, over which window). */
  private readonly explainMiddle: string;

  constructor(private readonly p: RateParams) {
    this.warmup = p.warmup;
    this.tauLong = p.halfLifeMs / Math.LN2;
    this.fingerprint = `rate/v4/nb/${p.weight ? 'weighted' : 'count'}`;
    this.explainMiddle = ` ${p.weight ? `${p.weight.text} sum` : 'records'} in ~${fmtDuration(p.windowMs)} vs baseline `;
  }

  budgetSurprise(recordsPerDay: number, budget: number): number {
    return bonferroniSurprise(Math.min(recordsPerDay, (TESTS_PER_WINDOW * DAY_MS) / this.p.windowMs), budget);
  }

  /**
   * Past warm-up, and a population to be judged against: a fresh detector that has seen fewer than
   * MIN_PEERS keys and none settled has no idea yet what a key's count looks like (a test client's
   * first requests to a new Vigil are not a burst), unless the key has shown a window of its own.
   */
  learning(table: KeyTable, slot: number, n: number, t: number): boolean {
    if (n <= this.warmup) return true;
    return this.popW < PRIOR_WINDOWS && table.size < MIN_PEERS && t - table.f64[slot * table.f64Stride + CELL_T_FIRST] < this.p.windowMs;
  }

  input(view: AttributeView): number {
    if (!this.p.weight) return 1;
    const w = numeric(this.p.weight.get(view));
    return Number.isFinite(w) && w >= 0 ? w : NaN;
  }

  observe(table: KeyTable, slot: number, t: number, dt: number, n: number, w: number, anomalousAt: number): number {
    const f = table.f64;
    const o = slot * table.f64Stride + BASE;
    const win = this.p.windowMs;
    const before = f[o + COUNT];
    const dL = Math.exp(-dt / this.tauLong);
    const wk = (f[o + NORM_W] *= dL);
    f[o + W_SUM] *= dL;
    f[o + W_SQ] *= dL;
    if (t > this.popTime) {
      const dc = this.popTime === 0 ? 1 : Math.exp(-(t - this.popTime) / this.p.windowMs);
      this.commonNum *= dc;
      this.commonDen *= dc;
      const d = this.popTime === 0 ? 1 : Math.exp(-(t - this.popTime) / this.tauLong);
      this.popW *= d;
      this.popScaleNum *= d;
      this.popScaleDen *= d;
      this.popTime = t;
    }
    const havePop = this.popW > 0;
    const popNorm = havePop ? this.popNorm : w;
    const popSq = havePop ? this.popSq : w * w;
    // The predictive: the key's moments shrunk toward the population's.
    const mean = (f[o + NORM] * wk + popNorm * PRIOR_WINDOWS) / (wk + PRIOR_WINDOWS);
    const second = (f[o + NORM_SQ] * wk + popSq * PRIOR_WINDOWS) / (wk + PRIOR_WINDOWS);
    let scale = 1;
    if (this.p.weight) {
      const popScale = this.popScaleDen > 0 ? this.popScaleNum / this.popScaleDen : Math.max(w, 1);
      scale = Math.max((f[o + W_SQ] + popScale * popScale * PRIOR_WINDOWS) / (f[o + W_SUM] + popScale * PRIOR_WINDOWS), 1e-12);
    }
    // Common mode: when the whole population is above its norms right now (a route with large
    // responses was just added, a busy Monday), each key's norm is scaled by that factor, so a
    // shift everyone shares is not an anomaly of each key. One key moves it little: each
    // record's ratio enters capped at COMMON_CAP, and the key's own share is left out.
    const dw = Math.exp(-dt / win);
    const myNum = (f[o + MY_NUM] *= dw);
    const myDen = (f[o + MY_DEN] *= dw);
    const othersDen = this.commonDen - myDen;
    const common = othersDen >= COMMON_MIN ? Math.max(1, (this.commonNum - myNum) / othersDen) : 1;
    const mu = Math.max((mean * common) / scale, 1e-9);
    const variance = Math.max(second - mean * mean, 0) / (scale * scale);
    // Negative binomial size from the moments; at or below the Poisson variance it is the Poisson.
    const size = variance > mu ? (mu * mu) / (variance - mu) : Infinity;

    // Learn the time the count spent since the previous record (up to a window of it: idle
    // nights and weekends are not active time), robustly: the count enters at most at the
    // predictive mean + CLAMP_SD sd, and while the key was anomalous at ANOMALOUS_WEIGHT. The
    // decaying count is integrated exactly over the interval, so a burst weighs the time its
    // count stays high, not the number of its records.
    const sd = Math.sqrt(Math.max(variance, mu)) * scale;
    if (n > 1 && dt > 0) {
      const x = Math.min(dt, win) / win;
      const fed = Math.min(before, mean + CLAMP_SD * sd + scale);
      const m1 = fed * (-Math.expm1(-x) / x);
      const m2 = fed * fed * (-Math.expm1(-2 * x) / (2 * x));
      const learn = x * (f[o + ANOMALOUS] === ALERTING ? ANOMALOUS_WEIGHT : 1);
      const wNew = wk + learn;
      f[o + NORM_W] = wNew;
      f[o + NORM] = (f[o + NORM] * wk + learn * m1) / wNew;
      f[o + NORM_SQ] = (f[o + NORM_SQ] * wk + learn * m2) / wNew;
      // The population learns from settled keys at ordinary moments only: a burst (of a young
      // key, or one not yet alerting) must not widen the prior it is judged against.
      if (n > this.warmup + 1 && f[o + ANOMALOUS] === ORDINARY) {
        this.popW += learn;
        this.popNorm += (learn * (m1 - this.popNorm)) / this.popW;
        this.popSq += (learn * (m2 - this.popSq)) / this.popW;
      }
    }
    const count = (f[o + COUNT] = before * Math.exp(-dt / win) + w);

    // The test: a record sees the count at its own arrival, which favours busy moments (records
    // come when the rate is high): under a Gamma–Poisson rate the count a record finds besides
    // itself is the size-biased negative binomial, NB(mu·(r+1)/r, r+1) (Poisson(mu) when r = ∞).
    const k = count / scale;
    let surprise = 0;
    if (!this.learning(table, slot, n, t) && k >= this.p.minCount && k - 1 > mu) {
      surprise = size === Infinity ? -log10NegBinomialUpper(k - 1, mu, Infinity) : -log10NegBinomialUpper(k - 1, (mu * (size + 1)) / size, size + 1);
    }
    if (n > this.warmup) {
      const expected = Math.max(mean / scale, 1e-9);
      const seen = Math.min(k, COMMON_CAP * expected);
      this.commonNum += seen;
      this.commonDen += expected;
      f[o + MY_NUM] += seen;
      f[o + MY_DEN] += expected;
    }
    const anomalous = surprise >= anomalousAt;
    f[o + ANOMALOUS] = anomalous ? ALERTING : surprise >= SUSPICIOUS_SURPRISE ? SUSPICIOUS : ORDINARY;
    const moments = anomalous ? ANOMALOUS_WEIGHT : 1;
    f[o + W_SUM] += moments * w;
    f[o + W_SQ] += moments * w * w;
    this.popScaleNum += moments * w * w;
    this.popScaleDen += moments * w;
    this.lastCount = count;
    this.lastNorm = mean;
    this.lastSd = sd;
    return surprise;
  }

  explain(): string {
    return `${fmt(this.lastCount)}${this.explainMiddle}${fmt(this.lastNorm)} ±${fmt(this.lastSd)}`;
  }

  saveGlobal(): number[] {
    return [this.popW, this.popNorm, this.popSq, this.popScaleNum, this.popScaleDen, this.popTime, this.commonNum, this.commonDen];
  }

  loadGlobal(v: readonly number[]): void {
    [this.popW, this.popNorm, this.popSq, this.popScaleNum, this.popScaleDen, this.popTime, this.commonNum, this.commonDen] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => Number(v[i] ?? 0));
  }
}

export function fmtDuration(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
