// The `ratio` detector: spikes in the share of a key's records that match a
// condition (HTTP 5xx per route, 429 per route, failures per account…). Per
// key, time-decayed counts of records and of matches over the window (short)
// and the half-life (long: the key's norm, shrunk toward the population's share
// by 20 pseudo-records). The short counts are scored with the binomial upper
// tail P(X ≥ matches | records, norm). Anomalous records feed the norm at one
// tenth of their weight.
import type { AttributeView } from '../attr-ref.js';
import type { Predicate } from '../filter.js';
import type { KeyTable } from '../key-table.js';
import { log10BinomialUpper } from '../math.js';
import { BASE, bonferroniSurprise, DAY_MS, type Detector, fmt } from './detector.js';
import { fmtDuration } from './rate.js';

const N_SHORT = 0, K_SHORT = 1, N_LONG = 2, K_LONG = 3;
const CELLS = 4;
const ANOMALOUS_WEIGHT = 0.1;
const PRIOR_RECORDS = 20;
const MIN_SHARE = 1e-4;

export interface RatioParams {
  condition: Predicate;
  conditionText: string;
  windowMs: number;
  halfLifeMs: number;
  warmup: number;
  minCount: number;
}

/** Scored every record, but records a tenth of a window apart share at least 90 % of their counts. */
const TESTS_PER_WINDOW = 10;

export class RatioDetector implements Detector {
  readonly kind = 'ratio' as const;
  readonly k = 6;
  readonly f64Cells = CELLS;
  readonly u32Cells = 0;
  readonly fingerprint = 'ratio/v1';
  readonly warmup: number;
  private readonly tauLong: number;
  private popN = 0;
  private popK = 0;
  private popTime = 0;
  private lastShare = 0;
  private lastN = 0;
  private lastNorm = 0;

  constructor(private readonly p: RatioParams) {
    this.warmup = p.warmup;
    this.tauLong = p.halfLifeMs / Math.LN2;
  }

  budgetSurprise(recordsPerDay: number, budget: number): number {
    return bonferroniSurprise(Math.min(recordsPerDay, (TESTS_PER_WINDOW * DAY_MS) / this.p.windowMs), budget);
  }

  learning(_table: KeyTable, _slot: number, n: number): boolean {
    return n <= this.warmup;
  }

  input(view: AttributeView): number {
    return this.p.condition(view) ? 1 : 0;
  }

  observe(table: KeyTable, slot: number, t: number, dt: number, n: number, x: number, anomalousAt: number): number {
    const f = table.f64;
    const o = slot * table.f64Stride + BASE;
    const dS = Math.exp(-dt / this.p.windowMs);
    const ns = (f[o + N_SHORT] = f[o + N_SHORT] * dS + 1);
    const ks = (f[o + K_SHORT] = f[o + K_SHORT] * dS + x);
    const dL = Math.exp(-dt / this.tauLong);
    const nl = (f[o + N_LONG] *= dL);
    const kl = (f[o + K_LONG] *= dL);
    if (t > this.popTime) {
      const d = this.popTime === 0 ? 1 : Math.exp(-(t - this.popTime) / this.tauLong);
      this.popN *= d;
      this.popK *= d;
      this.popTime = t;
    }
    const popShare = (this.popK + 0.01) / (this.popN + 1);
    const norm = Math.max(MIN_SHARE, (kl + popShare * PRIOR_RECORDS) / (nl + PRIOR_RECORDS));

    let surprise = 0;
    if (n > this.warmup && ks >= this.p.minCount && ks / ns > norm) surprise = -log10BinomialUpper(ks, ns, norm);

    const learn = surprise >= anomalousAt ? ANOMALOUS_WEIGHT : 1;
    f[o + N_LONG] = nl + learn;
    f[o + K_LONG] = kl + learn * x;
    this.popN += learn;
    this.popK += learn * x;
    this.lastShare = ks / ns;
    this.lastN = ns;
    this.lastNorm = norm;
    return surprise;
  }

  explain(): string {
    return `${this.p.conditionText} in ${pct(this.lastShare)} of ${fmt(this.lastN)} records in ~${fmtDuration(this.p.windowMs)} vs baseline ${pct(this.lastNorm)}`;
  }

  saveGlobal(): number[] {
    return [this.popN, this.popK, this.popTime];
  }

  loadGlobal(v: readonly number[]): void {
    [this.popN, this.popK, this.popTime] = [v[0] ?? 0, v[1] ?? 0, v[2] ?? 0];
  }
}

function pct(x: number): string {
  return `${fmt(100 * x)}%`;
}
