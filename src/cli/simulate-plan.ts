// The simulation plan from command-line options, and its sending with a
// progress line: shared by `vigil simulate` and `vigil demo`.
import { parseDuration } from '../config/units.js';
import { knobProblems } from '../simulate/organisation.js';
import { organisationNamed } from '../simulate/organisations.js';
import { buildPlan, MIN_DAYS, type SimulationPlan } from '../simulate/plan.js';
import { selectScenarios } from '../simulate/scenarios.js';
import { type Protocol, type SendResult, sendEvents } from '../simulate/send.js';
import { DAY } from '../simulate/traffic.js';
import { countProgress } from './progress.js';
import { UsageError } from './usage.js';

export interface PlanCliOptions {
  scenario: string;
  /** Days of history (default: the organisation's, else 9d). */
  duration?: string;
  /** Accounts (default: the organisation's, else 120). */
  users?: string;
  seed: string;
  at?: string;
  /** A named organisation (src/simulate/organisations.ts) instead of the uniform population. */
  org?: string;
}

function positiveInt(s: string, flag: string, min = 1): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} ${s}: expected a whole number ≥ ${min}`);
  return n;
}

/** The plan the options describe; bad options are usage errors that say how to fix them. */
export function planFromOptions(o: PlanCliOptions): SimulationPlan {
  let scenarios;
  try {
    scenarios = selectScenarios(o.scenario);
  } catch (err) {
    throw new UsageError(`--scenario: ${(err as Error).message}`);
  }
  let org;
  if (o.org !== undefined) {
    try {
      org = organisationNamed(o.org);
    } catch (err) {
      throw new UsageError(`--org: ${(err as Error).message}`);
    }
  }
  const duration = o.duration ?? (org ? `${org.days}d` : '9d');
  let ms: number;
  try {
    ms = parseDuration(duration);
  } catch {
    throw new UsageError(`--duration ${duration}: expected days of history such as 9d or 96h`);
  }
  const days = Math.round(ms / DAY);
  if (days < MIN_DAYS) throw new UsageError(`--duration ${duration}: the detectors need at least ${MIN_DAYS}d of history before they judge (hour-of-week profiles, latency buckets); use ${MIN_DAYS}d or more`);
  const endAt = o.at === undefined ? Date.now() : Date.parse(o.at);
  if (!Number.isFinite(endAt)) throw new UsageError(`--at ${o.at}: expected an ISO time such as 2026-03-11T15:00:00Z`);
  const seed = positiveInt(o.seed, '--seed', 0);
  if (org) {
    const knobs = { ...org, days, accounts: o.users === undefined ? org.accounts : positiveInt(o.users, '--users') };
    const problems = knobProblems(knobs);
    if (problems.length > 0) throw new UsageError(`--org ${org.name} with --duration/--users: ${problems.join('; ')}`);
    return buildPlan({ seed, users: knobs.accounts, organisation: knobs, days, scenarios, endAt });
  }
  const users = positiveInt(o.users ?? '120', '--users', 20);
  return buildPlan({ seed, users, days, scenarios, endAt });
}

export function describePlan(plan: SimulationPlan, days: number): string {
  const injected = plan.scenarios.reduce((n, s) => n + s.records, 0);
  return `${plan.events.length.toLocaleString('en-US')} records: ${days} days of ordinary traffic and ${plan.scenarios.length} injected anomalies (${injected} records), event time ${new Date(plan.from).toISOString().slice(0, 16)}Z → ${new Date(plan.to).toISOString().slice(0, 16)}Z`;
}

/** Sends with a progress line on a terminal (plain quarter lines when piped). */
export async function sendWithProgress(plan: SimulationPlan, endpoint: string, protocol: Protocol, rate: number, stream: NodeJS.WriteStream = process.stderr): Promise<SendResult> {
  const progress = countProgress({ label: 'sending', total: plan.events.length, unit: 'records', stream });
  try {
    return await sendEvents(plan.events, { endpoint, protocol, rate, onProgress: (n) => progress.update(n) });
  } finally {
    progress.done();
  }
}
