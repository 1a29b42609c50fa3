// The `rate` detector: bursts in how many records (or, with `weight`, how much
// of an attribute, e.g. bytes) a key produces. Per key:
//  - the count in the window: a time-decayed counter from event time whose
//    mean lifetime is the window ("records in the last minute");
//  - the key's norm: the time-decayed mean (half-life) of that count over the
//    time the key is active (each record weighs its share of the window's
//    count, so each active window counts about once) — idle nights and
//    weekends do not dilute it, so a daily rhythm is not a burst. A young key's norm is shrunk toward the population's (the
//    same mean over every key of the detector) by 5 pseudo-records, so the
//    first burst of a never-seen key is judged against what keys usually do.
// The count is scored with the Poisson upper tail P(X ≥ count) at the norm; a
// weighted sum is first scaled to an equivalent count by E[w²]/E[w] (matching
// the mean and variance of a compound Poisson sum). Robust updates: a count
// enters the norm clamped at μ + 4√μ + 1, and while anomalous a record feeds
// it at one tenth of its weight, so a burst does not teach the key that bursts
// are normal; a lasting change is still learned, more slowly.
import type { AttributeView, AttrRef } from '../attr-ref.js';
import type { KeyTable } from '../key-table.js';
import { log10PoissonUpper } from '../math.js';
import { BASE, type Detector, fmt, numeric } from './detector.js';

const COUNT = 0, NORM_W = 1, NORM = 2, W_SUM = 3, W_SQ = 4;
const CELLS = 5;
const ANOMALOUS_WEIGHT = 0.1;
const PRIOR_RECORDS = 5;

export interface RateParams {
  weight: AttrRef | undefined;
  windowMs: number;
  halfLifeMs: number;
  warmup: number;
  minCount: number;
  alertSurprise: number;
}

export class RateDetector implements Detector {
  readonly kind = 'rate' as const;
  readonly k = 6;
  readonly f64Cells = CELLS;
  readonly u32Cells = 0;
  readonly fingerprint: string;
  readonly warmup: number;
  private readonly tauLong: number;
  // Population norm: decayed means over every key's records, at event time popTime.
  private popW = 0;
  private popNorm = 0;
  private popScaleNum = 0;
  private popScaleDen = 0;
  private popTime = 0;
  private lastCount = 0;
  private lastNorm = 0;

  constructor(private readonly p: RateParams) {
    this.warmup = p.warmup;
    this.tauLong = p.halfLifeMs / Math.LN2;
    this.fingerprint = `rate/v2/${p.weight ? 'weighted' : 'count'}`;
  }

  input(view: AttributeView): number {
    if (!this.p.weight) return 1;
    const w = numeric(this.p.weight.get(view));
    return Number.isFinite(w) && w >= 0 ? w : NaN;
  }

  observe(table: KeyTable, slot: number, t: number, dt: number, n: number, w: number): number {
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
    const popNorm = this.popW > 0 ? this.popNorm : w;
    const norm = (f[o + NORM] * wk + popNorm * PRIOR_RECORDS) / (wk + PRIOR_RECORDS);
    let scale = 1;
    if (this.p.weight) {
      const popScale = this.popScaleDen > 0 ? this.popScaleNum / this.popScaleDen : Math.max(w, 1);
      scale = Math.max((f[o + W_SQ] + popScale * popScale * PRIOR_RECORDS) / (f[o + W_SUM] + popScale * PRIOR_RECORDS), 1e-12);
    }
    const k = count / scale;
    const mu = Math.max(norm / scale, 1e-9);
    let surprise = 0;
    if (n > this.warmup && k >= this.p.minCount && k > mu) surprise = -log10PoissonUpper(k, mu);

    // Learn (robustly): a count enters the norm at most at a plausible high value for the current
    // norm (μ + 4√μ + 1, in weight units), so a burst cannot become its own baseline while it builds up.
    // Each record weighs its share of the window's count, so every window of activity counts
    // about once, however many records it holds: the norm is a mean over active time, and a
    // burst of a thousand records weighs like a few windows, not like a thousand.
    const fed = Math.min(count, (mu + 4 * Math.sqrt(mu) + 1) * scale);
    const learn = (surprise >= this.p.alertSurprise ? ANOMALOUS_WEIGHT : 1) * (count > 0 ? Math.min(1, w / count) : 1);
    const wNew = wk + learn;
    f[o + NORM_W] = wNew;
    if (wNew > 0) f[o + NORM] = (f[o + NORM] * wk + learn * fed) / wNew;
    const moments = surprise >= this.p.alertSurprise ? ANOMALOUS_WEIGHT : 1;
    f[o + W_SUM] += moments * w;
    f[o + W_SQ] += moments * w * w;
    this.popW += learn;
    if (this.popW > 0) this.popNorm += (learn * (fed - this.popNorm)) / this.popW;
    this.popScaleNum += moments * w * w;
    this.popScaleDen += moments * w;
    this.lastCount = count;
    this.lastNorm = norm;
    return surprise;
  }

  explain(): string {
    const what = this.p.weight ? `${this.p.weight.text} sum` : 'records';
    return `${fmt(this.lastCount)} ${what} in ~${fmtDuration(this.p.windowMs)} vs baseline ${fmt(this.lastNorm)}`;
  }

  saveGlobal(): number[] {
    return [this.popW, this.popNorm, this.popScaleNum, this.popScaleDen, this.popTime];
  }

  loadGlobal(v: readonly number[]): void {
    [this.popW, this.popNorm, this.popScaleNum, this.popScaleDen, this.popTime] = [0, 1, 2, 3, 4].map((i) => Number(v[i] ?? 0));
  }
}

export function fmtDuration(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
