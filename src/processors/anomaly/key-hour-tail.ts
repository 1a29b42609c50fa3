// The population's check on a detector's model: how often a key-hour's
// strongest evidence (its highest surprise, −log10 p) reaches a level, learned
// over every key of the detector, and extrapolated to the budget (per key-hour:
// the day's budget / 24, Bonferroni over the hours) with an exponential tail
// (peaks over a threshold). If the model's tail probabilities are right, a key
// making n tests an hour reaches surprise s in about n·10^−s of its hours and
// this gives back the Bonferroni level; when real traffic has a
// heavier tail than the model (bursty clients, a population that shifts), the
// level rises to what the budget allows on this population. It only ever
// raises the model's level. Decayed in event time like the baselines; O(1).
import { decay } from './math.js';

/** Base levels of the tail (decades). */
const BASE_LEVELS = [2, 3, 4, 5];
/** Key-hours (of keys past learning), over at least half a day, before the population is taken to have shown its tail. */
const SETTLED_HOURS = 24;
const SETTLED_SPAN_MS = 12 * 3_600_000;
/** Key-hours above a base level needed before it is used. */
const MIN_EXCEEDANCES = 10;
/** An excess counts at most this much: an attack's huge surprise does not stretch the tail. */
const EXCESS_CAP = 6;
/** Smallest mean excess (decades) the tail may have: a calibrated tail has 1/ln 10 ≈ 0.43. */
const MIN_MEAN_EXCESS = 0.2;

export class KeyHourTail {
  private hours = 0;
  private readonly exceed = new Float64Array(BASE_LEVELS.length);
  private readonly excess = new Float64Array(BASE_LEVELS.length);
  private time = 0;
  /** Event time of the first key-hour seen. */
  private since = 0;

  constructor(private readonly tauMs: number) {}

  /** Whether the population has shown enough key-hours to speak for it (else: a cold start). */
  get settled(): boolean {
    return this.hours >= SETTLED_HOURS && this.time - this.since >= SETTLED_SPAN_MS;
  }

  /**
   * A key-hour begins (the key's first record in it past learning), at event time t. It counts at
   * once, and its evidence as it comes (raise): the population's tail is up to date within the
   * hour, not only when the key's next record falls in a later hour — a bursty key's hour is
   * often its last of the day, and a first day would otherwise see none of them.
   */
  open(t: number): void {
    if (this.since === 0) this.since = t;
    this.decayTo(t);
    this.hours += 1;
  }

  /** The highest surprise of an open key-hour rose from `from` to `to` (from < to), at event time t. */
  raise(from: number, to: number, t: number): void {
    this.decayTo(t);
    for (let i = 0; i < BASE_LEVELS.length; i++) {
      const base = BASE_LEVELS[i];
      if (to < base) break;
      if (from < base) this.exceed[i] += 1;
      this.excess[i] += Math.min(to - base, EXCESS_CAP) - (from < base ? 0 : Math.min(from - base, EXCESS_CAP));
    }
  }

  /** A whole key-hour whose highest surprise was `max`, at event time t. */
  push(max: number, t: number): void {
    this.open(t);
    this.raise(-Infinity, max, t);
  }

  /** The surprise a key-hour's strongest evidence reaches with probability `budget` (from the highest base level with enough exceedances, the closest to the tail), or 0 while too little is known. */
  level(budget: number): number {
    let i = BASE_LEVELS.length - 1;
    while (i >= 0 && this.exceed[i] < MIN_EXCEEDANCES) i--;
    if (i < 0) return 0;
    const rate = this.exceed[i] / this.hours;
    if (rate <= budget) return BASE_LEVELS[i];
    const meanExcess = Math.max(this.excess[i] / this.exceed[i], MIN_MEAN_EXCESS);
    return BASE_LEVELS[i] + meanExcess * Math.log(rate / budget);
  }

  private decayTo(t: number): void {
    if (t > this.time) {
      const d = this.time === 0 ? 1 : decay(t - this.time, this.tauMs);
      this.hours *= d;
      for (let i = 0; i < BASE_LEVELS.length; i++) {
        this.exceed[i] *= d;
        this.excess[i] *= d;
      }
      this.time = t;
    }
  }

  save(): number[] {
    return [this.hours, this.time, this.since, ...this.exceed, ...this.excess];
  }

  load(v: readonly number[]): void {
    const n = BASE_LEVELS.length;
    this.hours = Number(v[0] ?? 0);
    this.time = Number(v[1] ?? 0);
    this.since = Number(v[2] ?? 0);
    for (let i = 0; i < n; i++) {
      this.exceed[i] = Number(v[3 + i] ?? 0);
      this.excess[i] = Number(v[3 + n + i] ?? 0);
    }
  }
}
