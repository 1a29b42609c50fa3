// The `hour_of_week` detector: sessions at hours unusual for the key (an
// account doing admin work at 03:00 on a Sunday). Two models per key:
//
//  1. When the key works: 168 decayed hour-of-week bins (float32) in event
//     time (UTC: the profile is learned, so the time zone does not matter). An
//     hour's *quietness* r is its activity relative to the key's busiest hour
//     (bins smoothed with their neighbours), the larger of the hour-of-week and
//     the hour-of-day figures (so a week-old profile does not make the first
//     Tuesday after a Monday quiet, and sporadic nights generalise across days).
//     An hour is quiet when r ≤ 10 %; quietness classes at 10 % and 1 %.
//  2. How often it works at hours that quiet: quiet-hour *sessions* (records at
//     quiet hours with gaps under SESSION_GAP) are counted per day of exposure
//     and per class (a session counts in every class it is quiet enough for), a
//     Gamma–Poisson rate per key whose prior is the population's rate (all keys
//     past learning) with PRIOR_DAYS of weight. A user who does 1 % of their work
//     at night has a session rate near one a day: their nights are ordinary;
//     evening shoulders of a working day (r of a few %) do not make 03:00
//     ordinary for everyone.
//
// A session is tested once, at its start (and again if it reaches a `sensitive`
// record), in its class: p = P(at least one session this quiet in a day) under the key's
// posterior (rare for the key) and under the population's rate (unusual among
// its peers); the session's surprise is −log10 of the larger of the two, or of
// the key's alone when the session touches something sensitive (weight). One
// test per key per day of quiet sessions, so the budget is the threshold
// itself. Every record of the session carries the session's surprise (one
// episode per session); records at ordinary hours score 0.
import type { AttributeView } from '../attr-ref.js';
import type { Predicate } from '../filter.js';
import type { KeyTable } from '../key-table.js';
import { BASE, bonferroniSurprise, CELL_T_FIRST, DAY_MS, type Detector } from './detector.js';

const HOURS = 168;
const HOUR_MS = 3_600_000;
const MIN_SPAN_MS = 3 * DAY_MS;
/** Quietness classes (activity relative to the key's busiest hour); the first is "quiet" at all. */
const CLASSES = [0.1, 0.01];
const DEEP = CLASSES.length - 1;
const SESSION_GAP_MS = HOUR_MS;
const PRIOR_DAYS = 7;
/**
 * The population's prior: half a session in POP_PRIOR_DAYS key-days (1/the default budget), i.e.
 * a session this quiet is presumed as rare as half the default budget allows until the peers show
 * otherwise (a few of them do, and it is ordinary). Without it, a young deployment could never
 * call anything rare. Fixed, not the configured budget: the score does not depend on alert_budget.
 */
const POP_PRIOR_SESSIONS = 0.5;
const POP_PRIOR_DAYS = 1000;
/**
 * Days of exposure (keys past learning) the population needs before sessions are tested: in a
 * fresh deployment every key finishes learning about the same night, and the first sessions
 * would otherwise meet a population that has not had time to show they are ordinary.
 */
const MIN_POP_DAYS = 30;
/** Pseudo-sessions at the population's share of sensitive quiet sessions, in a key's own share. */
const SENS_PRIOR_SESSIONS = 2;
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
// Cells after BASE.
const TOTAL = 0, SESSION_LAST = 1, EXPOSURE = 2, P_KEY = 3, P_POP = 4, P_SENS = 5, SESSIONS = 6;
// Then per weight kind: quiet sessions that touched it (decayed), and whether the current session has.
const SENS = SESSIONS + CLASSES.length;

export interface HourOfWeekParams {
  halfLifeMs: number;
  warmup: number;
  /** Records that give a session weight: it is judged against the key alone, not its peers. */
  sensitive: readonly Predicate[];
  sensitiveText: readonly string[];
}

/** 0 = Sunday 00:00–01:00 UTC … 167 = Saturday 23:00–24:00 UTC. */
export function hourOfWeek(t: number): number {
  const day = Math.floor(t / DAY_MS);
  const dow = (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
  const hour = Math.floor((((t % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS);
  return dow * 24 + hour;
}

/** P(at least one event in a day) for a Poisson rate ~ Gamma(shape a, rate b per day): 1 − (b/(b+1))^a. */
export function pAtLeastOne(a: number, b: number): number {
  return -Math.expm1(a * Math.log(b / (b + 1)));
}

export class HourOfWeekDetector implements Detector {
  readonly kind = 'hour_of_week' as const;
  readonly k = 2;
  readonly f64Cells: number;
  readonly u32Cells = HOURS;
  readonly fingerprint: string;
  readonly warmup: number;
  private readonly tau: number;
  private readonly day = new Float64Array(24);
  // Population: quiet sessions and days of exposure of keys past learning (decayed), at popTime.
  private readonly popSessions = new Float64Array(CLASSES.length);
  private popExposure = 0;
  /** Quiet sessions (decayed) that touched each weight kind. */
  private readonly popSensitive: Float64Array;
  private readonly kinds: number;
  private popTime = 0;
  private readonly touching: boolean[];
  private lastHour = 0;
  private lastShare = 0;
  private lastPKey = 1;
  private lastPPop = 1;
  private lastPSens = 1;

  constructor(private readonly p: HourOfWeekParams) {
    this.warmup = p.warmup;
    this.kinds = p.sensitive.length;
    this.popSensitive = new Float64Array(this.kinds);
    this.touching = p.sensitive.map(() => false);
    this.f64Cells = SENS + 2 * this.kinds;
    this.fingerprint = `hour_of_week/v3/utc168/sessions/${CLASSES.join(',')}/${this.kinds}`;
    this.tau = p.halfLifeMs / Math.LN2;
  }

  /** One test per key per day: the day's first quiet session (later ones are rarer still under the null). */
  budgetSurprise(_recordsPerDay: number, budget: number): number {
    return bonferroniSurprise(1, budget);
  }

  learning(table: KeyTable, slot: number, n: number, t: number): boolean {
    return n <= this.warmup || t - table.f64[slot * table.f64Stride + CELL_T_FIRST] < MIN_SPAN_MS;
  }

  input(view: AttributeView): number {
    for (let j = 0; j < this.kinds; j++) this.touching[j] = this.p.sensitive[j](view);
    return 0;
  }

  observe(table: KeyTable, slot: number, t: number, dt: number, n: number): number {
    const f = table.f64;
    const o = slot * table.f64Stride + BASE;
    const bins = table.f32;
    const b0 = slot * table.u32Stride;
    const d = Math.exp(-dt / this.tau);
    if (d < 1) for (let i = 0; i < HOURS; i++) bins[b0 + i] *= d;
    const total = (f[o + TOTAL] *= d);
    const h = hourOfWeek(t);
    if (t > this.popTime) {
      const dp = this.popTime === 0 ? 1 : Math.exp(-(t - this.popTime) / this.tau);
      for (let c = 0; c < CLASSES.length; c++) this.popSessions[c] *= dp;
      this.popExposure *= dp;
      for (let j = 0; j < this.kinds; j++) this.popSensitive[j] *= dp;
      this.popTime = t;
    }
    for (let c = 0; c < CLASSES.length; c++) f[o + SESSIONS + c] *= d;
    for (let j = 0; j < this.kinds; j++) f[o + SENS + 2 * j] *= d;
    const learning = this.learning(table, slot, n, t);
    if (!learning) {
      // Days of exposure (decayed), counted only once the key can tell quiet hours apart.
      const exposed = (this.tau * -Math.expm1(-dt / this.tau)) / DAY_MS;
      f[o + EXPOSURE] = f[o + EXPOSURE] * d + exposed;
      this.popExposure += exposed;
    }

    let surprise = 0;
    this.lastShare = 1;
    if (!learning && total > 0) {
      const r = this.quietness(bins, b0, h);
      this.lastShare = r;
      // A session goes on while records keep coming (its own records make its hour less quiet).
      const inSession = f[o + SESSION_LAST] > 0 && t - f[o + SESSION_LAST] < SESSION_GAP_MS;
      if (r <= CLASSES[0] && !inSession) {
        // A new session: tested in its class against what was known before it, then counted.
        let c = 0;
        while (c + 1 < CLASSES.length && r <= CLASSES[c + 1]) c++;
        const popShape = this.popSessions[c] + POP_PRIOR_SESSIONS;
        const popDays = this.popExposure + POP_PRIOR_DAYS;
        // Only the deepest quiet is tested: a session on the shoulder of the key's day (a few % of its
        // busiest hour) is counted, so that it is known, but is not what off-hours alerts are for.
        const testing = this.popExposure >= MIN_POP_DAYS && c === DEEP;
        f[o + P_KEY] = testing ? pAtLeastOne(f[o + SESSIONS + c] + (popShape / popDays) * PRIOR_DAYS, f[o + EXPOSURE] + PRIOR_DAYS) : 1;
        f[o + P_POP] = testing ? pAtLeastOne(popShape, popDays) : 1;
        f[o + P_SENS] = 1;
        // Weight counts only at the deepest quiet (hours the key hardly ever works), not on the shoulders of its day.
        for (let j = 0; j < this.kinds; j++) f[o + SENS + 2 * j + 1] = c === DEEP ? 0 : 1;
        for (let j = 0; j <= c; j++) {
          f[o + SESSIONS + j] += 1;
          this.popSessions[j] += 1;
        }
        f[o + SESSION_LAST] = t;
      } else if (inSession) f[o + SESSION_LAST] = t;
      if (f[o + SESSION_LAST] === t) {
        for (let j = 0; j < this.kinds; j++) {
          if (!this.touching[j] || f[o + SENS + 2 * j + 1] === 1) continue;
          // The session's first record of this weight: how often this key's (and its peers') quiet sessions carry it.
          const popShare = (this.popSensitive[j] + POP_PRIOR_SESSIONS) / (this.popSessions[DEEP] + 1);
          const share = Math.min(1, (f[o + SENS + 2 * j] + SENS_PRIOR_SESSIONS * popShare) / (f[o + SESSIONS + DEEP] + SENS_PRIOR_SESSIONS));
          f[o + P_SENS] = Math.min(f[o + P_SENS], share);
          f[o + SENS + 2 * j] += 1;
          f[o + SENS + 2 * j + 1] = 1;
          this.popSensitive[j] += 1;
        }
        const pKey = f[o + P_KEY];
        const sensitive = f[o + P_SENS] < 1;
        // Rare for the key and among its peers; or rare for the key and carrying weight it seldom carries at such hours.
        const p = sensitive ? Math.min(Math.max(pKey, f[o + P_POP]), pKey * f[o + P_SENS]) : Math.max(pKey, f[o + P_POP]);
        surprise = -Math.log10(Math.min(1, p));
        this.lastPKey = pKey;
        this.lastPPop = f[o + P_POP];
        this.lastPSens = f[o + P_SENS];
      }
    }
    bins[b0 + h] += 1;
    f[o + TOTAL] = total + 1;
    this.lastHour = h;
    return surprise;
  }

  /** Activity at hour h relative to the key's busiest hour: the larger of the hour-of-week and hour-of-day figures. */
  private quietness(bins: Float32Array, b0: number, h: number): number {
    const week = (j: number) => bins[b0 + ((j + HOURS - 1) % HOURS)] + 2 * bins[b0 + j] + bins[b0 + ((j + 1) % HOURS)];
    let peak = 0;
    for (let j = 0; j < HOURS; j++) peak = Math.max(peak, week(j));
    this.day.fill(0);
    for (let j = 0; j < HOURS; j++) this.day[j % 24] += bins[b0 + j];
    const dayAt = (k: number) => this.day[(k + 23) % 24] + 2 * this.day[k] + this.day[(k + 1) % 24];
    let peakDay = 0;
    for (let k = 0; k < 24; k++) peakDay = Math.max(peakDay, dayAt(k));
    if (!(peak > 0) || !(peakDay > 0)) return 1;
    return Math.max(week(h) / peak, dayAt(h % 24) / peakDay);
  }

  explain(): string {
    const h = this.lastHour;
    const when = `${DAYS[Math.floor(h / 24)]} ${String(h % 24).padStart(2, '0')}:00 UTC`;
    const peers = `among its peers ${fmtP(this.lastPPop)}${this.lastPSens < 1 ? `; it carried weight (sensitive: ${this.p.sensitiveText.join(' | ')}) as ${fmtP(this.lastPSens)} of such sessions do` : ''}`;
    return `a session at ${when}, an hour at ${fmtPct(this.lastShare)} of this key's busiest; P(such a session a day) for this key ${fmtP(this.lastPKey)}, ${peers}`;
  }

  saveGlobal(): number[] {
    return [this.popExposure, this.popTime, ...this.popSessions, ...this.popSensitive];
  }

  loadGlobal(v: readonly number[]): void {
    this.popExposure = Number(v[0] ?? 0);
    this.popTime = Number(v[1] ?? 0);
    for (let c = 0; c < CLASSES.length; c++) this.popSessions[c] = Number(v[2 + c] ?? 0);
    for (let j = 0; j < this.kinds; j++) this.popSensitive[j] = Number(v[2 + CLASSES.length + j] ?? 0);
  }
}

function fmtPct(p: number): string {
  return `${Number((100 * p).toPrecision(2))}%`;
}

function fmtP(p: number): string {
  return p < 0.001 ? p.toExponential(1) : String(Number(p.toPrecision(2)));
}
