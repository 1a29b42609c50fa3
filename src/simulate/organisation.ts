// An organisation's ordinary traffic (pure, seeded): accounts whose volumes
// differ, working hours in their own time zone, sporadic night-time sessions,
// weekends, accounts that join midway, a public holiday and a route added
// mid-week, each a knob of its own. The accounts are `User`s, so the attack
// scenarios of scenarios.ts run on top of them unchanged.
import { addressIn, AGENTS, ROUTES, type Route, type User } from './population.js';
import type { Rng } from './rng.js';
import { adminRequest, DAY, HOUR, login, MINUTE, type SimEvent, userRequest } from './traffic.js';

/** Hours ahead of UTC of each home country (standard time, one zone per country). */
export const UTC_OFFSET: Readonly<Record<string, number>> = { US: -5, BR: -3, GB: 0, DE: 1, FR: 1, IN: 5.5, JP: 9 };

/** Groups of home countries; an organisation's accounts are spread over one to three of them. */
export const REGIONS = {
  americas: ['US', 'BR'],
  europe: ['GB', 'DE', 'FR'],
  asia: ['IN', 'JP'],
} as const satisfies Record<string, readonly (keyof typeof UTC_OFFSET)[]>;
export type RegionName = keyof typeof REGIONS;

export interface OrganisationKnobs {
  name: string;
  /** One line: who this organisation is. */
  description: string;
  /** Accounts (50 to 5,000); five of them are admins. */
  accounts: number;
  /** API calls of the median account on a working day. */
  requestsPerDay: number;
  /** Heaviest over lightest account's volume (1 to 100): log-normal weights clipped to that range. */
  spread: number;
  /** Share of every account's records in sporadic night-time sessions (0 to 0.03), 23:00–05:00 local. */
  night: number;
  /** Share of accounts that also work on some weekend days (at a lower volume). */
  weekendWorkers: number;
  /** Where accounts sit, with shares summing to 1; the first is the home region, where the admins sit (its 03:00 UTC must be night). */
  regions: readonly { region: RegionName; share: number }[];
  /** Share of accounts that join midway (first seen on a day between day 2 and two days before the attack day). */
  joiners: number;
  /** Day index (0 = the first Monday) of a public holiday: a weekday on which only a few on-call accounts work. */
  holiday?: number;
  /** A route that appears on `day` (mid-week) and that an `adoption` share of accounts then uses for `share` of their calls. */
  newRoute?: { day: number; route: Route; adoption: number; share: number };
  /** Days of ordinary traffic before the attack day (at least 8). */
  days: number;
}

export interface OrgUser extends User {
  /** Volume relative to the median account. */
  weight: number;
  /** Hours ahead of UTC. */
  utcOffset: number;
  /** First day with traffic (0: from the start). */
  joinDay: number;
  /** Uses the new route once it exists. */
  adopter: boolean;
}

/** Local night hours (from 23:00 for six hours): no working day reaches them. */
const NIGHT_START = 23;
const NIGHT_HOURS = 6;
/** Mean records of a night session (a login now and then, a few calls). */
const NIGHT_SESSION_MEAN = 4;
/** Day-to-day variation of an account's volume (log-normal sigma): steady, not constant. */
const DAY_SIGMA = 0.25;
/** Volume of a weekend or holiday working day relative to a weekday. */
const OFF_DAY_LEVEL = 0.4;
/** Share of accounts working on the public holiday (on call). */
const HOLIDAY_WORKERS = 0.05;
/** Share of accounts with a second home country (travellers). */
const TRAVELLERS = 0.05;
const ADMINS = 5;
const ADMIN_CALLS = 5;

/** Problems with the knobs, each naming the knob and the allowed range (empty: fine). */
export function knobProblems(k: OrganisationKnobs): string[] {
  const out: string[] = [];
  const range = (name: string, v: number | undefined, lo: number, hi: number) => {
    if (v === undefined || !(v >= lo && v <= hi)) out.push(`${k.name}: ${name} ${v} is outside ${lo}..${hi}`);
  };
  range('accounts', k.accounts, 50, 5_000);
  range('spread', k.spread, 1, 100);
  range('night', k.night, 0, 0.03);
  range('weekendWorkers', k.weekendWorkers, 0, 1);
  range('joiners', k.joiners, 0, 0.5);
  range('requestsPerDay', k.requestsPerDay, 0.5, 1_000);
  range('days', k.days, 8, 60);
  if (k.regions.length < 1 || k.regions.length > 3) out.push(`${k.name}: regions lists 1 to 3 regions`);
  const shares = k.regions.reduce((a, r) => a + r.share, 0);
  if (Math.abs(shares - 1) > 1e-9) out.push(`${k.name}: region shares sum to ${shares}, not 1`);
  if (k.regions[0]?.region === 'asia') out.push(`${k.name}: the home region (first) holds the admins and must have night at 03:00 UTC: use europe or americas first`);
  const weekday = (d: number) => d % 7 < 5;
  if (k.holiday !== undefined && !(Number.isInteger(k.holiday) && k.holiday >= 1 && k.holiday < k.days && weekday(k.holiday))) out.push(`${k.name}: holiday must be a weekday within the history (day 1..${k.days - 1})`);
  if (k.newRoute !== undefined) {
    const d = k.newRoute.day;
    if (!(Number.isInteger(d) && d >= 1 && d < k.days && d % 7 >= 1 && d % 7 <= 3)) out.push(`${k.name}: newRoute.day must be a Tuesday to Thursday within the history`);
    if (ROUTES.some((r) => r.route === k.newRoute!.route.route)) out.push(`${k.name}: newRoute ${k.newRoute.route.route} already exists`);
  }
  return out;
}

/** The organisation's accounts: admins first, then established accounts, joiners last (so the scenarios' victims have history). */
export function organisationUsers(k: OrganisationKnobs, rng: Rng): OrgUser[] {
  const problems = knobProblems(k);
  if (problems.length > 0) throw new Error(`organisation knobs: ${problems.join('; ')}`);
  const sigma = Math.log(k.spread) / 4.65; // the 1st to 99th percentile span the spread
  const [lo, hi] = [1 / Math.sqrt(k.spread), Math.sqrt(k.spread)];
  const joiners = Math.round((k.accounts - ADMINS) * k.joiners);
  const width = String(k.accounts - 1).length;
  const users: OrgUser[] = [];
  for (let i = 0; i < k.accounts; i++) {
    const admin = i < ADMINS;
    const joiner = i >= k.accounts - joiners;
    const region = admin ? k.regions[0].region : pickRegion(k, rng);
    const home: readonly string[] = REGIONS[region];
    const c = home[rng.int(home.length)];
    const traveller = !admin && home.length > 1 && rng.next() < TRAVELLERS;
    const countries = traveller ? [c, home.find((x) => x !== c)!] : [c];
    users.push({
      id: admin ? `admin${i + 1}` : `user${String(i).padStart(width, '0')}`,
      countries,
      ips: countries.map((cc) => addressIn(cc, i)),
      startHour: 7 + rng.int(4),
      weekends: !admin && rng.next() < k.weekendWorkers,
      admin,
      agent: rng.pick(AGENTS),
      weight: sigma === 0 ? 1 : Math.min(hi, Math.max(lo, Math.exp(sigma * rng.normal()))),
      utcOffset: UTC_OFFSET[c],
      joinDay: joiner ? 2 + rng.int(Math.max(1, k.days - 3)) : 0,
      adopter: rng.next() < (k.newRoute?.adoption ?? 0),
    });
  }
  return users;
}

function pickRegion(k: OrganisationKnobs, rng: Rng): RegionName {
  let x = rng.next();
  for (const r of k.regions) {
    if (x < r.share) return r.region;
    x -= r.share;
  }
  return k.regions[k.regions.length - 1].region;
}

/** The routes an account draws from on a day: the new route takes its share once it exists. */
function routesFor(k: OrganisationKnobs, u: OrgUser, day: number): readonly Route[] {
  const n = k.newRoute;
  if (!n || !u.adopter || day < n.day) return ROUTES;
  return [...ROUTES.map((r) => ({ ...r, share: r.share * (1 - n.share) })), { ...n.route, share: n.share }];
}

/** Poisson draw (small means: Knuth's product of uniforms). */
export function poisson(mean: number, rng: Rng): number {
  if (mean <= 0) return 0;
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * rng.normal()));
  const limit = Math.exp(-mean);
  let n = 0;
  for (let p = rng.next(); p > limit; p *= rng.next()) n++;
  return n;
}

/** A whole number whose mean is x (the fraction rounds up with its probability). */
function roundRandom(x: number, rng: Rng): number {
  const f = Math.floor(x);
  return f + (rng.next() < x - f ? 1 : 0);
}

/**
 * Ordinary traffic of the organisation from `from` (a UTC midnight, a Monday:
 * day 0) until `until`, time-ordered. Days are each account's local days.
 */
export function organisationTraffic(k: OrganisationKnobs, users: readonly OrgUser[], from: number, until: number, rng: Rng): SimEvent[] {
  const out: SimEvent[] = [];
  const days = Math.ceil((until - from) / DAY) + 1;
  for (let d = 0; d < days; d++) {
    const weekend = d % 7 >= 5;
    const holiday = d === k.holiday;
    for (const u of users) {
      if (d < u.joinDay) continue;
      const midnight = from + d * DAY - u.utcOffset * HOUR;
      const day: SimEvent[] = [];
      const works = weekend ? u.weekends && rng.next() < 0.5 : holiday ? rng.next() < HOLIDAY_WORKERS : true;
      if (works) workingDay(k, u, d, midnight, weekend || holiday ? OFF_DAY_LEVEL : 1, rng, day);
      nightSessions(k, u, d, midnight, rng, day);
      for (const e of day) if (e.t >= from && e.t < until) out.push(e);
    }
  }
  return out.sort((a, b) => a.t - b.t);
}

/** A working day: a login, then the day's calls in one to four sessions within the working hours. */
function workingDay(k: OrganisationKnobs, u: OrgUser, d: number, midnight: number, level: number, rng: Rng, out: SimEvent[]): void {
  const begin = midnight + (u.startHour + rng.next()) * HOUR;
  const length = (7 + 2 * rng.next()) * HOUR;
  if (rng.next() < 0.05) out.push(login(u, begin - 20_000, rng, 'failure'));
  out.push(login(u, begin, rng, 'success'));
  const sessions = Array.from({ length: 1 + rng.int(4) }, () => {
    const start = begin + rng.next() * (length - 30 * MINUTE);
    return { start, length: (15 + rng.int(76)) * MINUTE };
  });
  const calls = roundRandom(k.requestsPerDay * u.weight * level * rng.logNormal(1, DAY_SIGMA), rng);
  const routes = routesFor(k, u, d);
  for (let i = 0; i < calls; i++) {
    const s = sessions[rng.int(sessions.length)];
    out.push(userRequest(u, Math.min(begin + length, s.start + rng.next() * s.length), rng, { routes }));
  }
  if (u.admin) for (let i = 0; i < ADMIN_CALLS; i++) out.push(adminRequest(u, begin + rng.next() * length, rng));
}

/**
 * Sporadic night-time use: sessions of a few records (a login half the time)
 * at a random local night hour, as many as make `night` of the account's
 * records over a week (5 working days of calls and a login each).
 */
function nightSessions(k: OrganisationKnobs, u: OrgUser, d: number, midnight: number, rng: Rng, out: SimEvent[]): void {
  if (k.night <= 0) return;
  const weeklyDay = (5 / 7) * (k.requestsPerDay * u.weight + 1);
  const perDay = (k.night / (1 - k.night)) * weeklyDay;
  const sessions = poisson(perDay / NIGHT_SESSION_MEAN, rng);
  const routes = routesFor(k, u, d);
  for (let s = 0; s < sessions; s++) {
    let t = midnight + (NIGHT_START + rng.next() * NIGHT_HOURS) * HOUR;
    // Geometric size with the mean NIGHT_SESSION_MEAN (at least one record).
    const size = 1 + Math.floor(Math.log(Math.max(rng.next(), 1e-12)) / Math.log(1 - 1 / NIGHT_SESSION_MEAN));
    const nightEnd = midnight + (NIGHT_START + NIGHT_HOURS) * HOUR;
    for (let i = 0; i < size && t < nightEnd; i++) {
      out.push(i === 0 && rng.next() < 0.5 ? login(u, t, rng, 'success') : userRequest(u, t, rng, { routes }));
      t += (10 + rng.int(240)) * 1000;
    }
  }
}
