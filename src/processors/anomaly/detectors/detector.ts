// What every detector kind implements. A detector owns no per-key objects: its
// per-key state is a fixed run of cells in the KeyTable slabs, so the bytes per
// key are known and constant, and a snapshot is a copy of the cells.
import type { AttributeView } from '../attr-ref.js';
import type { KeyTable } from '../key-table.js';

export type DetectorKindName = 'rate' | 'ratio' | 'value' | 'distinct' | 'novelty' | 'hour_of_week';

/** Per-key float64 cells the scorer maintains for every detector; a detector's own cells start at BASE. */
export const CELL_COUNT = 0;
export const CELL_T_LAST = 1;
export const CELL_T_FIRST = 2;
/** Open episode: its opening time + 1 (0: none), and the time of its latest evidence. */
export const CELL_EPISODE = 3;
export const CELL_EVIDENCE = 4;
/** The key's current hour (event time, index + 1; 0: none yet) and its highest surprise in it (−1: none past learning). */
export const CELL_HOUR = 5;
export const CELL_HOUR_MAX = 6;
export const BASE = 7;

export const DAY_MS = 86_400_000;

/**
 * The surprise (−log10 p) a test must reach so that a key making `testsPerDay`
 * tests a day raises at most `budget` false alerts a day (Bonferroni: valid
 * whatever the dependence between the tests).
 */
export function bonferroniSurprise(testsPerDay: number, budget: number): number {
  return Math.log10(Math.max(1, testsPerDay) / budget);
}

export interface Detector {
  readonly kind: DetectorKindName;
  /** Score calibration: score = 1 − p^(1/k), so a score of 0.9 means p ≤ 10^−k. */
  readonly k: number;
  /** Float64 cells per key after BASE, and uint32 cells per key. */
  readonly f64Cells: number;
  readonly u32Cells: number;
  /** Everything that gives the state its meaning; a snapshot with another fingerprint is not restored. */
  readonly fingerprint: string;
  /** Observations a key needs before it can alert. */
  readonly warmup: number;
  /**
   * The surprise at which this key opens an alert episode, from the false-alert
   * budget (per key per day) and the key's records per day: each kind states
   * how many tests it makes (README, "From the budget to a threshold").
   */
  budgetSurprise(recordsPerDay: number, budget: number): number;
  /**
   * The kind's p is already per key-day and already asks the key's peers (hour_of_week: P(such a
   * session in a day), rare for the key and among its peers): the population's key-hour tail does
   * not raise its level. Key-hours are the wrong unit for one test a day (a key's few active
   * hours, not 24, share it), and that check only made the level stricter than the budget.
   */
  readonly judgedPerKeyDayAgainstPeers?: boolean;
  /** Whether the key is still learning (too little history to alert). */
  learning(table: KeyTable, slot: number, n: number, t: number): boolean;
  /** The detector's input from a record (seen through its attribute view), or NaN when the record does not apply. */
  input(view: AttributeView): number;
  /**
   * Scores the input against the key's state, then learns it. `n` is the key's
   * observation count including this one; dt the event time since the key's
   * previous observation (0 for the first); anomalousAt the surprise from which
   * evidence is learned slowly (robust learning): the key's alert level at the
   * default budget, whatever alert_budget or threshold say, so that the model
   * and the score do not depend on how alerts are decided.
   * Returns the surprise −log10(p), 0 while the key is warming up.
   */
  observe(table: KeyTable, slot: number, t: number, dt: number, n: number, x: number, anomalousAt: number): number;
  /**
   * When the kind shapes its score (value: onsets only), the surprise the record's score reports
   * for the last observe() call; otherwise the score reports observe()'s surprise. Never depends
   * on the alert level, so the score is the same whatever alert_budget or threshold say.
   */
  scoreSurprise?(): number;
  /** Observed versus baseline, for the reason of the last observe() call. */
  explain(): string;
  /** Detector-wide state (population baselines), for snapshots. */
  saveGlobal(): number[];
  loadGlobal(v: readonly number[]): void;
}

/** Compact number formatting for reasons. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return x.toExponential(2);
  // What String(Number(x.toPrecision(3))) gives, without parsing and printing the number again
  // (reasons print several numbers, a measurable share of a flagged record's cost): the digits
  // less their trailing zeros. Only an exponent form (x ≥ 999.5) takes the long way.
  const s = x.toPrecision(3);
  if (s.includes('e')) return String(Number(s));
  if (!s.includes('.')) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48 /* 0 */) end--;
  if (s.charCodeAt(end - 1) === 46 /* . */) end--;
  return s.slice(0, end);
}

/** The numeric value of a record attribute, NaN when absent or not a number. */
export function numeric(v: string | number | boolean | undefined): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : NaN;
  }
  return NaN;
}
