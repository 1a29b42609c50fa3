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
import { BASE, bonferroniSurprise, DAY_MS, type Detector, fmt, numeric } from './detector.js';

const COUNT = 0, NORM_W = 1, NORM = 2, NORM_SQ = 3, W_SUM = 4, W_SQ = 5;
const CELLS = 6;
const ANOMALOUS_WEIGHT = 0.25;
const PRIOR_WINDOWS = 5;
const CLAMP_SD = 4;
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
  private lastCount = 0;
  private lastNorm = 0;
  private lastSd = 0;

  constructor(private readonly p: RateParams) {
    this.warmup = p.warmup;
    this.tauLong = p.halfLifeMs / Math.LN2;
    this.fingerprint = `rate/v3/nb/${p.weight ? 'weighted' : 'count'}`;
  }

  budgetSurprise(recordsPerDay: number, budget: number): number {
    return bonferroniSurprise(Math.min(recordsPerDay, (TESTS_PER_WINDOW * DAY_MS) / this.p.windowMs), budget);
  }

  learning(_table: KeyTable, _slot: number, n: number): boolean {
    return n <= this.warmup;
  }

  input(view: AttributeView): number {
    if (!this.p.weight) return 1;
    const w = numeric(this.p.weight.get(view));
    return Number.isFinite(w) && w >= 0 ? w : NaN;
  }

  observe(table: KeyTable, slot: number, t: number, dt: number, n: number, w: number, alertAt: number): number {
    const f = table.f64;
    const o = slot * table.f64Stride + BASE;
    const count = (f[o + COUNT] = f[o + COUNT] * Math.exp(-dt / this.p.windowMs) + w);
    const dL = Math.exp(-dt / this.tauLong);
    const wk = (f[o + NORM_W] *= dL);
    f[o + W_SUM] *= dL;
    f[o + W_SQ] *= dL;
    if (t > this.popTime) {
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
    const mu = Math.max(mean / scale, 1e-9);
    const variance = Math.max(second - mean * mean, 0) / (scale * scale);
    // Negative binomial size from the moments; at or below the Poisson variance it is the Poisson.
    const size = variance > mu ? (mu * mu) / (variance - mu) : Infinity;
    const k = count / scale;
    let surprise = 0;
    if (n > this.warmup && k >= this.p.minCount && k > mu) surprise = -log10NegBinomialUpper(k, mu, size);

    // Learn robustly: a count enters at most at the predictive mean + CLAMP_SD sd (so a burst
    // cannot become its own baseline while it builds up), and evidence as strong as an alert
    // feeds the norm at ANOMALOUS_WEIGHT. Each record weighs the time since the key's previous
    // one, up to a window: the norm is a mean over the key's active time, in which every window
    // of activity counts once however many records it holds (a burst of a thousand records in
    // ten seconds weighs a sixth of a one-minute window), and idle nights do not dilute it.
    const sd = Math.sqrt(Math.max(variance, mu)) * scale;
    const fed = Math.min(count, mean + CLAMP_SD * sd + scale);
    const anomalous = surprise >= alertAt;
    const learn = (anomalous ? ANOMALOUS_WEIGHT : 1) * (n === 1 ? 1 : Math.min(dt, this.p.windowMs) / this.p.windowMs);
    const wNew = wk + learn;
    f[o + NORM_W] = wNew;
    if (wNew > 0) {
      f[o + NORM] = (f[o + NORM] * wk + learn * fed) / wNew;
      f[o + NORM_SQ] = (f[o + NORM_SQ] * wk + learn * fed * fed) / wNew;
    }
    const moments = anomalous ? ANOMALOUS_WEIGHT : 1;
    f[o + W_SUM] += moments * w;
    f[o + W_SQ] += moments * w * w;
    this.popW += learn;
    if (this.popW > 0) {
      this.popNorm += (learn * (fed - this.popNorm)) / this.popW;
      this.popSq += (learn * (fed * fed - this.popSq)) / this.popW;
    }
    this.popScaleNum += moments * w * w;
    this.popScaleDen += moments * w;
    this.lastCount = count;
    this.lastNorm = mean;
    this.lastSd = sd;
    return surprise;
  }

  explain(): string {
    const what = this.p.weight ? `${this.p.weight.text} sum` : 'records';
    return `${fmt(this.lastCount)} ${what} in ~${fmtDuration(this.p.windowMs)} vs baseline ${fmt(this.lastNorm)} ±${fmt(this.lastSd)}`;
  }

  saveGlobal(): number[] {
    return [this.popW, this.popNorm, this.popSq, this.popScaleNum, this.popScaleDen, this.popTime];
  }

  loadGlobal(v: readonly number[]): void {
    [this.popW, this.popNorm, this.popSq, this.popScaleNum, this.popScaleDen, this.popTime] = [0, 1, 2, 3, 4, 5].map((i) => Number(v[i] ?? 0));
  }
}

export function fmtDuration(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
