// The `hour_of_week` detector: sessions at hours unusual for the key (an
// account doing admin work at 03:00 on a Sunday). Two models per key:
//
//  1. When the key works: its own clock. 168 decayed hour-of-week bins
//     (float32) in event time (UTC: the profile is learned, so the time zone
//     does not matter) count the key's *active hours* (an hour in which it made
//     at least one record counts once, however many records), folded into a
//     daily profile and blended with the population's (PRIOR_HOURS pseudo-hours:
//     a young key's day is not read from a handful of hours). The key's *day* is
//     the shortest run of hours (circular) holding DAY_SHARE of that profile;
//     an hour's *depth* is how many hours it lies outside the day (0 inside).
//     Active hours, not records, because when a key works is a matter of
//     presence: the day's login is one record but comes every day, a light
//     key's one night session of four records is four records but one hour.
//     Depth, not an hour's share of the busiest hour, because a key's own
//     sporadic nights make a night hour a sizeable share of a light key's
//     busiest hour, yet do not move its day. Classes: outside the day
//     (depth ≥ 1 h) and deep (depth ≥ 3 h: CLASSES).
//  2. How often it works at hours that far out: sessions outside the day
//     (records with gaps under SESSION_GAP) are counted per day of exposure and
//     per class (a session counts in every class it is deep enough for), a
//     Gamma–Poisson rate per key whose prior is the population's rate (all keys
//     past learning) with PRIOR_DAYS of weight. A user who does 1 % of their
//     work at night has a deep-session rate near one a week or more: their
//     nights are ordinary; the shoulders of a working day (depth 1–2) are
//     counted but never tested, so they do not make 03:00 ordinary for
//     everyone.
//
// A session is tested once, at its start (and again if it reaches a `sensitive`
// record), when it is deep: p = P(at least one deep session in a day) under the
// key's posterior (rare for the key) and under the population's rate (unusual
// among its peers); the session's surprise is −log10 of the larger of the two,
// or of the key's times the share of its (and its peers') deep sessions that
// carried such weight when the session touches something sensitive. One test
// per key per day of deep sessions, so the budget is the threshold itself.
// Every record of the session carries the session's surprise (one episode per
// session); records inside the day score 0.
import type { AttributeView } from '../attr-ref.js';
import type { Predicate } from '../filter.js';
import type { KeyTable } from '../key-table.js';
import { BASE, bonferroniSurprise, CELL_T_FIRST, DAY_MS, type Detector } from './detector.js';

const HOURS = 168;
const HOUR_MS = 3_600_000;
const MIN_SPAN_MS = 3 * DAY_MS;
/** Depth classes (hours outside the key's day); the first is "outside the day" at all, the last is tested. */
const CLASSES = [1, 3];
const DEEP = CLASSES.length - 1;
/** The key's day: the shortest run of hours holding this share of its (prior-blended) daily profile. */
const DAY_SHARE = 0.9;
/** Pseudo-hours of the population's daily profile in a key's (a settled key has ~40: about a week of its active hours). */
const PRIOR_HOURS = 4;
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
  readonly judgedPerKeyDayAgainstPeers = true;
  readonly k = 2;
  readonly f64Cells: number;
  readonly u32Cells = HOURS;
  readonly fingerprint: string;
  readonly warmup: number;
  private readonly tau: number;
  private readonly day = new Float64Array(24);
  /** The population's daily profile (decayed records per UTC hour of day), at popTime. */
  private readonly popDay = new Float64Array(24);
  private popDayTotal = 0;
  /** The last tested key's day: first hour and length. */
  private dayStart = 0;
  private dayLength = 24;
  // Population: quiet sessions and days of exposure of keys past learning (decayed), at popTime.
  private readonly popSessions = new Float64Array(CLASSES.length);
  private popExposure = 0;
  /** Quiet sessions (decayed) that touched each weight kind. */
  private readonly popSensitive: Float64Array;
  private readonly kinds: number;
  private popTime = 0;
  private readonly touching: boolean[];
  private lastHour = 0;
  private lastDepth = 0;
  private lastPKey = 1;
  private lastPPop = 1;
  private lastPSens = 1;

  constructor(private readonly p: HourOfWeekParams) {
    this.warmup = p.warmup;
    this.kinds = p.sensitive.length;
    this.popSensitive = new Float64Array(this.kinds);
    this.touching = p.sensitive.map(() => false);
    this.f64Cells = SENS + 2 * this.kinds;
    this.fingerprint = `hour_of_week/v4/utc168/day-depth/${CLASSES.join(',')}/${DAY_SHARE}/${PRIOR_HOURS}/${this.kinds}`;
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
      for (let k = 0; k < 24; k++) this.popDay[k] *= dp;
      this.popDayTotal *= dp;
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
    this.lastDepth = 0;
    // A session goes on while records keep coming (its own records could move the key's day).
    const inSession = f[o + SESSION_LAST] > 0 && t - f[o + SESSION_LAST] < SESSION_GAP_MS;
    if (!learning && total > 0) {
      const depth = this.depth(bins, b0, total, h % 24);
      this.lastDepth = depth;
      if (depth >= CLASSES[0] && !inSession) {
        // A new session: tested in its class against what was known before it, then counted.
        let c = 0;
        while (c + 1 < CLASSES.length && depth >= CLASSES[c + 1]) c++;
        const popShape = this.popSessions[c] + POP_PRIOR_SESSIONS;
        const popDays = this.popExposure + POP_PRIOR_DAYS;
        // Only deep sessions are tested: one on the shoulder of the key's day (an hour or two out) is
        // counted, so that it is known, but is not what off-hours alerts are for.
        const testing = this.popExposure >= MIN_POP_DAYS && c === DEEP;
        f[o + P_KEY] = testing ? pAtLeastOne(f[o + SESSIONS + c] + (popShape / popDays) * PRIOR_DAYS, f[o + EXPOSURE] + PRIOR_DAYS) : 1;
        f[o + P_POP] = testing ? pAtLeastOne(popShape, popDays) : 1;
        f[o + P_SENS] = 1;
        // Weight counts only in deep sessions (hours far from the key's day), not on the shoulders of its day.
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
    // The key's first record in this clock hour: an active hour.
    if (n === 1 || Math.floor(t / HOUR_MS) !== Math.floor((t - dt) / HOUR_MS)) {
      bins[b0 + h] += 1;
      f[o + TOTAL] = total + 1;
      this.popDay[h % 24] += 1;
      this.popDayTotal += 1;
    }
    this.lastHour = h;
    return surprise;
  }

  /**
   * How many hours hour-of-day `hd` lies outside the key's day (0 inside): the shortest circular
   * run of hours holding DAY_SHARE of the key's daily profile blended with the population's.
   */
  private depth(bins: Float32Array, b0: number, total: number, hd: number): number {
    const day = this.day;
    // Each hour of day summed over the week's days in order (the sums of a loop over j % 24, without the modulo).
    for (let h = 0; h < 24; h++) {
      let sum = 0;
      for (let j = b0 + h; j < b0 + HOURS; j += 24) sum += bins[j];
      day[h] = sum;
    }
    const prior = this.popDayTotal > 0 ? PRIOR_HOURS / this.popDayTotal : 0;
    let sum = 0;
    for (let k = 0; k < 24; k++) {
      day[k] += prior * this.popDay[k];
      sum += day[k];
    }
    const need = DAY_SHARE * sum;
    let bestStart = 0;
    let bestLength = 24;
    let bestMass = -1;
    // Shortest run first; among runs of that length, the one holding the most.
    for (let len = 1; len <= 24 && bestMass < 0; len++) {
      let mass = 0;
      for (let k = 0; k < len; k++) mass += day[k];
      for (let start = 0; start < 24; start++) {
        if (start > 0) mass += day[(start + len - 1) % 24] - day[start - 1];
        if (mass >= need && mass > bestMass) {
          bestMass = mass;
          bestStart = start;
          bestLength = len;
        }
      }
    }
    this.dayStart = bestStart;
    this.dayLength = bestLength;
    const after = (hd - bestStart + 24) % 24; // hours after the day's first hour
    if (after < bestLength || !(total > 0)) return 0;
    return Math.min(after - bestLength + 1, 24 - after);
  }

  explain(): string {
    const h = this.lastHour;
    const when = `${DAYS[Math.floor(h / 24)]} ${String(h % 24).padStart(2, '0')}:00 UTC`;
    const peers = `among its peers ${fmtP(this.lastPPop)}${this.lastPSens < 1 ? `; it carried weight (sensitive: ${this.p.sensitiveText.join(' | ')}) as ${fmtP(this.lastPSens)} of such sessions do` : ''}`;
    const from = this.dayStart;
    const to = (this.dayStart + this.dayLength) % 24;
    const usual = `${String(from).padStart(2, '0')}:00–${String(to).padStart(2, '0')}:00 UTC`;
    return `a session at ${when}, ${this.lastDepth} h outside this key's usual day (${usual}); P(such a session a day) for this key ${fmtP(this.lastPKey)}, ${peers}`;
  }

  saveGlobal(): number[] {
    return [this.popExposure, this.popTime, ...this.popSessions, ...this.popSensitive, this.popDayTotal, ...this.popDay];
  }

  loadGlobal(v: readonly number[]): void {
    this.popExposure = Number(v[0] ?? 0);
    this.popTime = Number(v[1] ?? 0);
    for (let c = 0; c < CLASSES.length; c++) this.popSessions[c] = Number(v[2 + c] ?? 0);
    for (let j = 0; j < this.kinds; j++) this.popSensitive[j] = Number(v[2 + CLASSES.length + j] ?? 0);
    const d = 2 + CLASSES.length + this.kinds;
    this.popDayTotal = Number(v[d] ?? 0);
    for (let k = 0; k < 24; k++) this.popDay[k] = Number(v[d + 1 + k] ?? 0);
  }
}

function fmtP(p: number): string {
  return p < 0.001 ? p.toExponential(1) : String(Number(p.toPrecision(2)));
}
