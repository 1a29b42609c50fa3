// A whole simulation (pure): days of ordinary traffic, then the anomaly day
// with the chosen scenarios injected, shifted onto real time so that the
// anomaly day ends at `endAt` at the latest (default: now; whole days earlier,
// so the site clock is UTC). The detectors run on event time,
// so days of baseline are sent in seconds.
import { type OrganisationKnobs, organisationTraffic, organisationUsers } from './organisation.js';
import { makeUsers, type User } from './population.js';
import { Rng } from './rng.js';
import { type Scenario, type ScenarioContext } from './scenarios.js';
import { backgroundTraffic, DAY, MINUTE, type SimEvent } from './traffic.js';

/** A Monday, site-clock midnight: the virtual start before the shift. */
export const VIRTUAL_START = Date.UTC(2026, 2, 2);
/** The fewest days of history with which every default detector is past its warm-up. */
export const MIN_DAYS = 4;

export interface PlanOptions {
  seed: number;
  users: number;
  /** An organisation (organisation.ts) instead of the uniform population of `users` accounts; `users` is then ignored. */
  organisation?: OrganisationKnobs;
  /** Days of ordinary traffic before the anomaly day. */
  days: number;
  scenarios: readonly Scenario[];
  /** Real time (ms) the simulated anomaly day ends at the latest; the shift is in whole days, so the site clock is UTC. */
  endAt: number;
}

export interface PlannedScenario {
  name: string;
  title: string;
  detector: string;
  key: string;
  /** Event-time window of its records (real time, ms). */
  from: number;
  to: number;
  records: number;
}

export interface SimulationPlan {
  /** The accounts (an organisation's carry their weight, time zone and join day). */
  users: User[];
  /** Every event, time-ordered, on real time. */
  events: SimEvent[];
  scenarios: PlannedScenario[];
  /** Event-time range of the whole simulation. */
  from: number;
  to: number;
}

export function buildPlan(o: PlanOptions): SimulationPlan {
  if (!Number.isInteger(o.days) || o.days < 1) throw new Error('the simulation needs at least one day of history');
  const rng = new Rng(o.seed);
  const org = o.organisation;
  const orgUsers = org ? organisationUsers(org, rng) : undefined;
  const users: User[] = orgUsers ?? makeUsers(o.users, rng);
  const day = VIRTUAL_START + o.days * DAY;
  // The anomaly day runs until 30 minutes after the last scenario ends.
  const end = day + Math.max(12 * 3_600_000, ...o.scenarios.map((s) => s.at + s.lasts)) + 30 * MINUTE;
  const background = org && orgUsers ? organisationTraffic(org, orgUsers, VIRTUAL_START, end, rng) : backgroundTraffic(users, VIRTUAL_START, end, rng);
  // Whole days: hours in reasons ("activity at Wed 03:00 UTC") read as the simulation meant them.
  const shift = Math.floor((o.endAt - end) / DAY) * DAY;
  const planned: PlannedScenario[] = [];
  const injected: SimEvent[] = [];
  for (const s of o.scenarios) {
    const ctx: ScenarioContext = { users, rng, start: day + s.at, lasts: s.lasts };
    const { key, events } = s.build(ctx);
    for (const e of events) injected.push({ ...e, scenario: s.name });
    planned.push({ name: s.name, title: s.title, detector: s.detector, key, from: day + s.at + shift, to: day + s.at + s.lasts + shift, records: events.length });
  }
  // A stable merge: background first at equal times, so the order is the same on every run.
  const events = [...background, ...injected].sort((a, b) => a.t - b.t);
  for (const e of events) e.t += shift;
  return { users, events, scenarios: planned, from: VIRTUAL_START + shift, to: end + shift };
}
