// The `value` detector: how surprising a numeric signal is for its key (route
// latency, bytes per response, a metric stream). Constant state per key:
//
//  1. Baseline: time-decayed mean and variance (α = 1 − e^{−Δt/τ} from event
//     time), updated robustly: after warm-up a deviation counts at most 4σ, so
//     an anomaly does not poison its own baseline.
//  2. Calibrated deviation: |z| against that baseline, turned into a tail
//     probability by an exponential (peaks-over-threshold) model of this key's
//     own |z| tail, tracked with a streaming quantile, so a noisy key and a
//     quiet key are judged on the same scale.
//  3. Novelty: the value is quantised on a grid learned during warm-up
//     (7 levels over the warm-up range); a bounded seen-set (2 × 2048-bit
//     generations) remembers levels, level transitions and (time-of-day,
//     level) pairs. A level or transition never seen before scores the
//     Good–Turing probability of novelty (how often this key produces new
//     things). A deviation at a level already seen at this time of day is
//     discounted (daily rhythms are not anomalies).
//  4. p = 2·min(p_novelty, p_deviation): its surprise −log10 p is the evidence
//     the alert decision (the false-alert budget, episodes) is made on.
//  5. The record's score reports onsets: the surprise is lowered by recent
//     onsets (decaying over 3 × suppress) and, for `suppress` after an onset,
//     held below the onset level. An onset is a fixed level of the score's
//     definition (ONSET_SURPRISE: p ≤ 0.01, score 0.9), not the alert level, so
//     the score is the same whatever alert_budget or threshold say.
//
// This is the detector scored on the Numenta Anomaly Benchmark (bench/nab).
import type { AttributeView, AttrRef } from '../attr-ref.js';
import { hashPair } from '../hash.js';
import type { KeyTable } from '../key-table.js';
import { BASE, bonferroniSurprise, type Detector, fmt, numeric } from './detector.js';
import { fmtDuration } from './rate.js';

// Constants chosen on the whole NAB corpus (one set for every stream; see bench/nab.bench.ts).
// In sensitivity runs, warm-up 150–450, half-life 1–10 days, onset level 0.8–0.95 (score) and
// suppress 4–24 h all scored 61–69 (68.4 at the defaults).
/** The score's onset level: surprise 2 (p ≤ 0.01, score 0.9 at k = 2). Part of the score's definition. */
export const ONSET_SURPRISE = 2;
const LEVELS = 7;
const BITS = 2048;
const WORDS = BITS >>> 5;
const GEN_INSERTS = 8 * BITS;
const DAY_BUCKETS = 16;
const DAY_MS = 86_400_000;
const CLAMP_SIGMA = 4;
const TAIL_QUANTILE = 0.995;
const TAIL_RATE = 0.05;
const NOVELTY_PRIOR = 0.5;
const SEEN_AT_THIS_TIME_DECADES = 3;
const ONSET_MEMORY_WEIGHT = 0.6;
const FULL_BUCKET = 30;

// Cells after BASE.
const W = 0, MEAN = 1, VAR = 2, LO = 3, HI = 4, STEP = 5, PREV_LEVEL = 6, TAIL_U = 7, TAIL_W = 8, TAIL_S = 9;
const TAIL_BETA = 10, NOV1 = 11, NOV2 = 12, TOTAL = 13, ONSETS = 14, LAST_ONSET = 15, INSERTS = 16, GEN = 17;
// With `aggregate`: the open bucket (index, sum, count), the model's own observation count and time, the last bucket's surprise.
const BUCKET = 18, B_SUM = 19, B_COUNT = 20, OBS = 21, OBS_T = 22, LAST_SURPRISE = 23;
// What the last observation was (for reasons): value, baseline mean and spread, whether novel.
const L_X = 24, L_MEAN = 25, L_SD = 26, L_NOVEL = 27;
// With `aggregate`: the last bucket's score surprise (onset-shaped).
const LAST_SCORE = 28;
const CELLS = 29;

export interface ValueParams {
  attr: AttrRef;
  halfLifeMs: number;
  warmup: number;
  suppressMs: number;
  scale: 'linear' | 'log';
  direction: 'up' | 'down' | 'both';
  /** When set, the model observes the mean of each bucket of this many ms instead of every record. */
  aggregateMs: number | undefined;
  /** With aggregateMs: a bucket with fewer records stays open (spans more time) until it has this many. */
  minCount: number;
}

export class ValueDetector implements Detector {
  readonly kind = 'value' as const;
  readonly k = 2;
  readonly f64Cells = CELLS;
  readonly u32Cells = 2 * WORDS;
  readonly fingerprint: string;
  readonly warmup: number;
  private readonly gridAt: number;
  private readonly tau: number;
  private readonly tailTau: number;
  private readonly noveltyTau: number;
  private readonly onsetTau: number;
  // Scratch for explain().
  private lastX = 0;
  private lastMean = 0;
  private lastSd = 0;
  private lastNovel = false;
  private lastScore = 0;

  constructor(private readonly p: ValueParams) {
    this.warmup = Math.max(3, p.warmup);
    this.gridAt = Math.max(2, Math.round((this.warmup * 2) / 3));
    this.tau = p.halfLifeMs / Math.LN2;
    this.tailTau = this.tau;
    this.noveltyTau = 2 * this.tau;
    this.onsetTau = Math.max(1, 3 * p.suppressMs);
    this.fingerprint = `value/v2/${p.scale}/${this.warmup}/${LEVELS}/${BITS}/${p.aggregateMs ?? 0}`;
  }

  /** One test per observation: a record, or with `aggregate` a bucket. */
  budgetSurprise(recordsPerDay: number, budget: number): number {
    const agg = this.p.aggregateMs;
    return bonferroniSurprise(agg === undefined ? recordsPerDay : Math.min(recordsPerDay, DAY_MS / agg), budget);
  }

  learning(_table: KeyTable, _slot: number, n: number): boolean {
    return n <= this.warmup;
  }

  input(view: AttributeView): number {
    let x = numeric(this.p.attr.get(view));
    if (this.p.scale === 'log') x = x > 0 ? Math.log(x) : NaN;
    // Beyond 1e100 squares overflow: such a value is garbage, not a measurement, and would poison the baseline.
    return Number.isFinite(x) && Math.abs(x) < 1e100 ? x : NaN;
  }

  observe(table: KeyTable, slot: number, t: number, dt: number, n: number, x: number): number {
    const f = table.f64;
    const o = slot * table.f64Stride + BASE;
    const agg = this.p.aggregateMs;
    if (agg === undefined) return this.model(f, o, table.u32, slot * table.u32Stride, t, dt, n, x);
    // Aggregated: each record carries the surprise of the key's latest complete bucket.
    const b = Math.floor(t / agg);
    if (n === 1) f[o + BUCKET] = b;
    if (b > f[o + BUCKET] && f[o + B_COUNT] >= this.p.minCount) {
      const at = b * agg;
      const obs = ++f[o + OBS];
      const obsDt = obs > 1 ? Math.max(0, at - f[o + OBS_T]) : 0;
      f[o + OBS_T] = at;
      const count = f[o + B_COUNT];
      let mean = f[o + B_SUM] / count;
      // A bucket of few records is weak evidence: after warm-up, its deviation from the baseline is
      // shrunk so that it varies no more than a bucket of FULL_BUCKET records would.
      if (obs > this.warmup && count < FULL_BUCKET) mean = f[o + MEAN] + (mean - f[o + MEAN]) * Math.sqrt(count / FULL_BUCKET);
      f[o + LAST_SURPRISE] = this.model(f, o, table.u32, slot * table.u32Stride, at, obsDt, obs, mean);
      f[o + LAST_SCORE] = this.lastScore;
      f[o + BUCKET] = b;
      f[o + B_SUM] = 0;
      f[o + B_COUNT] = 0;
    }
    f[o + B_SUM] += x;
    f[o + B_COUNT] += 1;
    this.lastX = f[o + L_X];
    this.lastMean = f[o + L_MEAN];
    this.lastSd = f[o + L_SD];
    this.lastNovel = f[o + L_NOVEL] === 1;
    this.lastScore = f[o + LAST_SCORE];
    return f[o + LAST_SURPRISE];
  }

  /** The onset-shaped surprise of the last observe() call: what the record's score reports. */
  scoreSurprise(): number {
    return this.lastScore;
  }

  /**
   * The model proper, over one observation x at time t (a record, or a bucket mean). Returns the
   * evidence (surprise); leaves the onset-shaped score surprise in lastScore.
   */
  private model(f: Float64Array, o: number, bits: Uint32Array, bo: number, t: number, dt: number, n: number, x: number): number {
    if (n === 1) {
      f[o + TAIL_U] = 3;
      f[o + TAIL_BETA] = 1;
      f[o + LO] = Infinity;
      f[o + HI] = -Infinity;
    }
    const mean = f[o + MEAN];
    const floor = 1e-3 * Math.abs(mean) + 1e-9;
    const sd = Math.sqrt(f[o + VAR] + floor * floor);
    const dev = n > 1 ? (x - mean) / sd : 0;
    const z = Math.abs(dev);
    const dTail = Math.exp(-dt / this.tailTau);
    f[o + TAIL_W] *= dTail;
    f[o + TAIL_S] *= dTail;
    const dNov = Math.exp(-dt / this.noveltyTau);
    f[o + NOV1] *= dNov;
    f[o + NOV2] *= dNov;
    f[o + TOTAL] = f[o + TOTAL] * dNov + 1;

    let surprise = 0;
    let shaped = 0;
    let novel = false;
    if (n <= this.gridAt) {
      f[o + LO] = Math.min(f[o + LO], x);
      f[o + HI] = Math.max(f[o + HI], x);
      if (n === this.gridAt) f[o + STEP] = Math.max((f[o + HI] - f[o + LO]) / LEVELS, 1e-9);
    } else {
      const level = Math.floor((x - f[o + LO]) / f[o + STEP]);
      const tod = Math.floor(((((t % DAY_MS) + DAY_MS) % DAY_MS) / DAY_MS) * DAY_BUCKETS);
      const h1 = hashPair(1, level) % BITS;
      const h2 = hashPair(level, (f[o + PREV_LEVEL] + 7919) | 0) % BITS;
      const h3 = hashPair((level + 31337) | 0, tod) % BITS;
      const cur = bo + (f[o + GEN] === 0 ? 0 : WORDS);
      const prev = bo + (f[o + GEN] === 0 ? WORDS : 0);
      const seen = (h: number) => ((bits[cur + (h >>> 5)] | bits[prev + (h >>> 5)]) >>> (h & 31)) & 1;
      const seen1 = seen(h1);
      const seen2 = seen(h2);
      const seen3 = seen(h3);
      this.insert(f, o, bits, bo, h1);
      this.insert(f, o, bits, bo, h2);
      this.insert(f, o, bits, bo, h3);
      f[o + PREV_LEVEL] = level;
      if (n > this.warmup) {
        const inDirection = this.p.direction === 'both' || (this.p.direction === 'up' ? dev > 0 : dev < 0);
        let pNovel = 1;
        if (!seen1) {
          pNovel = Math.min(pNovel, (f[o + NOV1] + NOVELTY_PRIOR) / (f[o + TOTAL] + 1));
          f[o + NOV1] += 1;
        }
        if (!seen2) {
          pNovel = Math.min(pNovel, (f[o + NOV2] + NOVELTY_PRIOR) / (f[o + TOTAL] + 1));
          f[o + NOV2] += 1;
        }
        const u = f[o + TAIL_U];
        let pDev = z <= u ? 1 : (1 - TAIL_QUANTILE) * Math.exp(-(z - u) / Math.max(f[o + TAIL_BETA], 1e-3));
        if (seen3) pDev = Math.min(1, pDev * 10 ** SEEN_AT_THIS_TIME_DECADES);
        if (inDirection) {
          const p = Math.min(1, 2 * Math.min(pNovel, pDev));
          novel = pNovel < pDev;
          surprise = Math.max(0, -Math.log10(p));
          // The score: onsets only (ONSETS/LAST_ONSET count onsets at the fixed level, not alerts).
          const sinceOnset = t - f[o + LAST_ONSET];
          const onsets = f[o + ONSETS] * Math.exp(-sinceOnset / this.onsetTau);
          shaped = Math.max(0, surprise - ONSET_MEMORY_WEIGHT * onsets);
          if (shaped >= ONSET_SURPRISE) {
            if (f[o + ONSETS] > 0 && sinceOnset < this.p.suppressMs) shaped = Math.min(shaped, ONSET_SURPRISE * 0.99);
            else {
              f[o + ONSETS] = onsets + 1;
              f[o + LAST_ONSET] = t;
            }
          }
        }
      }
    }

    // Learn: the tail model of |z| (after a short start), then the robust baseline.
    if (n > 20) {
      const u = f[o + TAIL_U];
      let beta = f[o + TAIL_BETA];
      if (z > u) {
        f[o + TAIL_W] += 1;
        f[o + TAIL_S] += Math.min(z - u, 20 * beta + 1);
      }
      beta = (f[o + TAIL_S] + 1) / (f[o + TAIL_W] + 1);
      f[o + TAIL_BETA] = beta;
      f[o + TAIL_U] = Math.max(0, u + TAIL_RATE * beta * ((z > u ? 1 : 0) - (1 - TAIL_QUANTILE)));
    }
    const w = f[o + W] * (n > 1 ? Math.exp(-dt / this.tau) : 0) + 1;
    f[o + W] = w;
    const a = 1 / w;
    let dx = x - mean;
    if (n > this.warmup) dx = Math.max(-CLAMP_SIGMA * sd, Math.min(CLAMP_SIGMA * sd, dx));
    f[o + MEAN] = mean + a * dx;
    f[o + VAR] = (1 - a) * (f[o + VAR] + a * dx * dx);

    this.lastX = f[o + L_X] = x;
    this.lastMean = f[o + L_MEAN] = mean;
    this.lastSd = f[o + L_SD] = sd;
    this.lastNovel = novel;
    f[o + L_NOVEL] = novel ? 1 : 0;
    this.lastScore = shaped;
    return surprise;
  }

  private insert(f: Float64Array, o: number, bits: Uint32Array, bo: number, h: number): void {
    let cur = bo + (f[o + GEN] === 0 ? 0 : WORDS);
    bits[cur + (h >>> 5)] |= 1 << (h & 31);
    if (++f[o + INSERTS] >= GEN_INSERTS) {
      // The current generation becomes the previous one; the oldest is forgotten.
      f[o + GEN] = f[o + GEN] === 0 ? 1 : 0;
      f[o + INSERTS] = 0;
      cur = bo + (f[o + GEN] === 0 ? 0 : WORDS);
      bits.fill(0, cur, cur + WORDS);
    }
  }

  explain(): string {
    const un = (v: number) => (this.p.scale === 'log' ? Math.exp(v) : v);
    const spread = this.p.scale === 'log' ? `×${fmt(Math.exp(this.lastSd))}` : `±${fmt(this.lastSd)}`;
    const what = this.p.aggregateMs === undefined ? this.p.attr.text : `${fmtDuration(this.p.aggregateMs)} ${this.p.scale === 'log' ? 'geometric ' : ''}mean ${this.p.attr.text}`;
    return `${what} ${fmt(un(this.lastX))} vs baseline ${fmt(un(this.lastMean))} ${spread}${this.lastNovel ? ', a level never seen before' : ''}`;
  }

  saveGlobal(): number[] {
    return [];
  }
  loadGlobal(): void {}
}
