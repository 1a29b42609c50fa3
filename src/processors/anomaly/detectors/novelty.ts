// The `novelty` detector: a value the key has never shown (an account used
// from a new country, a sensitive route reached from a new network). Per key,
// a bounded memory of 16 seen values (32-bit hashes) with time-decayed weights;
// when full, the least weighty value is forgotten. A new value scores the
// Good–Turing probability that the next value is new, (n₁ + 1) / (n + 1),
// where n is the key's decayed observation count and n₁ the number of values
// it showed about once: a key that keeps showing new values (a travelling
// user) is not surprising; one that always shows the same value is.
import type { AttributeView, AttrRef } from '../attr-ref.js';
import { hashString } from '../hash.js';
import type { KeyTable } from '../key-table.js';
import { BASE, CELL_T_FIRST, DAY_MS, type Detector } from './detector.js';

export const NOVELTY_SLOTS = 16;
const TOTAL = 0;
const WEIGHTS = 1;
const CELLS = 1 + NOVELTY_SLOTS;
const NOVELTY_SURPRISE = 1;
/**
 * History after which a light key has learned its values with half the warm-up: a user with a
 * dozen records over days, all from one country, is as settled as a busy one after an hour
 * (enterprise seed 5: 17 records in 8 days, still learning at the attack). Good–Turing then
 * still needs p ≤ 1/(n + 1) ≤ 1/11 for a key that showed one value.
 */
const SETTLED_SPAN_MS = 3 * DAY_MS;

export interface NoveltyParams {
  attr: AttrRef;
  halfLifeMs: number;
  warmup: number;
}

export class NoveltyDetector implements Detector {
  readonly kind = 'novelty' as const;
  readonly k = 1;
  readonly f64Cells = CELLS;
  readonly u32Cells = NOVELTY_SLOTS;
  readonly fingerprint = `novelty/v1/${NOVELTY_SLOTS}`;
  readonly warmup: number;
  private readonly tau: number;
  private pendingValue = '';
  private lastValue = '';
  private lastKnown = 0;

  constructor(private readonly p: NoveltyParams) {
    this.warmup = p.warmup;
    this.tau = p.halfLifeMs / Math.LN2;
  }

  /**
   * Not divided by the records: a novelty test fires only on a value the key never showed,
   * which a settled key does a few times in its life, not per record. Kept at p ≤ 0.1
   * (README: the one kind whose threshold is not derived from the budget).
   */
  budgetSurprise(): number {
    return NOVELTY_SURPRISE;
  }

  /** Until `warmup` observations, or half of them over SETTLED_SPAN_MS of history. */
  learning(table: KeyTable, slot: number, n: number, t: number): boolean {
    if (n > this.warmup) return false;
    return n <= this.warmup / 2 || t - table.f64[slot * table.f64Stride + CELL_T_FIRST] < SETTLED_SPAN_MS;
  }

  input(view: AttributeView): number {
    const v = this.p.attr.get(view);
    if (v === undefined || v === '') return NaN;
    this.pendingValue = String(v);
    return hashString(this.pendingValue);
  }

  observe(table: KeyTable, slot: number, t: number, dt: number, n: number, hash: number): number {
    const f = table.f64;
    const o = slot * table.f64Stride + BASE;
    const hashes = table.u32;
    const h0 = slot * table.u32Stride;
    const d = Math.exp(-dt / this.tau);
    f[o + TOTAL] *= d;
    let found = -1;
    let weakest = 0;
    let known = 0;
    let rare = 0;
    for (let i = 0; i < NOVELTY_SLOTS; i++) {
      const w = (f[o + WEIGHTS + i] *= d);
      if (w > 0) {
        known++;
        if (w <= 1) rare++;
        if (hashes[h0 + i] === hash >>> 0) found = i;
      }
      if (w < f[o + WEIGHTS + weakest]) weakest = i;
    }
    let surprise = 0;
    if (found < 0) {
      if (!this.learning(table, slot, n, t)) surprise = -Math.log10((rare + 1) / (f[o + TOTAL] + 1));
      hashes[h0 + weakest] = hash >>> 0;
      f[o + WEIGHTS + weakest] = 1;
    } else f[o + WEIGHTS + found] += 1;
    f[o + TOTAL] += 1;
    this.lastValue = this.pendingValue;
    this.lastKnown = known;
    return surprise;
  }

  explain(): string {
    return `${this.p.attr.text} "${this.lastValue}" never seen for this key (${this.lastKnown} value${this.lastKnown === 1 ? '' : 's'} known)`;
  }

  saveGlobal(): number[] {
    return [];
  }
  loadGlobal(): void {}
}
