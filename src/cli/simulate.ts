// `vigil simulate`: realistic traffic with injected anomalies against a
// running Vigil over OTLP, and with --check a pass/fail table of whether each
// anomaly was flagged with the expected detector (exit 1 when one was missed).
// A smoke test to run after every deployment and before every audit.
import type { Command } from 'commander';
import { parseDuration } from '../config/units.js';
import { fetchAnomalyCounts, fetchFlagged, formatResults, judge } from '../simulate/check.js';
import { knobProblems } from '../simulate/organisation.js';
import { ORGANISATIONS, organisationNamed } from '../simulate/organisations.js';
import { buildPlan, MIN_DAYS, type SimulationPlan } from '../simulate/plan.js';
import { SCENARIOS, selectScenarios } from '../simulate/scenarios.js';
import { type Protocol, type SendResult, sendEvents } from '../simulate/send.js';
import { DAY } from '../simulate/traffic.js';
import type { FlaggedKey } from '../telemetry/status/state.js';
import { UsageError } from './main.js';
import { countProgress } from './progress.js';

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

interface SimulateOptions extends Omit<PlanCliOptions, 'duration'> {
  duration?: string;
  quick?: boolean;
  endpoint?: string;
  protocol: string;
  rate: string;
  check?: boolean;
  metrics: string;
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('send realistic traffic with injected anomalies to a running Vigil; --check tells whether each was flagged')
    .option('-e, --endpoint <url>', 'Vigil OTLP endpoint (default 127.0.0.1:4317 for grpc, http://127.0.0.1:4318 for http)')
    .option('-p, --protocol <grpc|http>', 'OTLP transport', 'grpc')
    .option('-s, --scenario <names>', `anomalies to inject: all, or a comma-separated list of ${SCENARIOS.map((s) => s.name).join(', ')}`, 'all')
    .option('--org <name>', `a simulated organisation (${ORGANISATIONS.map((x) => x.name).join(', ')}): its accounts, volumes, time zones, night use, weekends, joiners, holiday and new route; see below`)
    .option('--duration <d>', `days of ordinary traffic before the anomalies (event time; at least ${MIN_DAYS}d, 8d with --org; default 9d or the organisation's)`)
    .option('--quick', `the shortest history the detectors judge on (${MIN_DAYS}d instead of 9d): faster, same anomalies`)
    .option('--users <n>', 'simulated accounts (default 120, or the organisation\'s)')
    .option('--rate <n>', 'at most this many records per second (0: as fast as Vigil acknowledges)', '0')
    .option('--seed <n>', 'random seed: the same seed gives the same traffic', '1')
    .option('--at <time>', 'event time the simulation ends at (ISO; default now)')
    .option('--check', 'then ask Vigil whether each anomaly was flagged with the expected detector; exit 1 if one was missed')
    .option('--metrics <url>', "Vigil's metrics URL (its status page is asked too, at /status.json)", 'http://127.0.0.1:8888/metrics')
    .addHelpText(
      'after',
      `
Event times are the simulation's own (days of baseline, then the anomaly day ending now), so days
of history take seconds. The records go into Vigil's archive like any others: point it at a staging
Vigil, or at one whose data directory you can discard. Alerts are one per detector and key per
cooldown (1h of event time by default): the status page still reports flags for a rerun.

Scenarios (expected detector):
${SCENARIOS.map((s) => `  ${s.name.padEnd(20)} ${s.title} (${s.detector})`).join('\n')}

Organisations (--org; without it, a uniform population of --users accounts):
${ORGANISATIONS.map((x) => `  ${x.name.padEnd(11)} ${x.accounts.toLocaleString('en-US')} accounts, ${x.days}d: ${x.description}`).join('\n')}

Examples:
  npx vigil simulate --check                               all scenarios over gRPC to 127.0.0.1:4317
  npx vigil simulate --quick --check                       the same on 4 days of history: faster, same anomalies
  npx vigil simulate -p http -e http://vigil:4318 --check --metrics http://vigil:8888/metrics
  npx vigil simulate --scenario brute-force,new-country --seed 7 --rate 2000
  npx vigil simulate --org retailer --seed 2 --check       a 200-account retailer's 8 days, then the anomalies`,
    )
    .action(async (opts: SimulateOptions) => {
      if (opts.quick && opts.duration !== undefined) throw new UsageError('--quick and --duration both set the history: give one');
      const o = { ...opts, duration: opts.duration ?? (opts.quick ? `${MIN_DAYS}d` : undefined) };
      if (o.protocol !== 'grpc' && o.protocol !== 'http') throw new UsageError(`--protocol ${o.protocol}: use grpc or http`);
      const protocol = o.protocol;
      const endpoint = o.endpoint ?? (protocol === 'grpc' ? '127.0.0.1:4317' : 'http://127.0.0.1:4318');
      const rate = Number(o.rate);
      if (!Number.isFinite(rate) || rate < 0) throw new UsageError(`--rate ${o.rate}: expected records per second (0: no limit)`);
      const plan = planFromOptions(o);
      // History days: the anomaly day is shorter than a day.
      const days = Math.floor((plan.to - plan.from) / DAY);
      let before: Map<string, number> | undefined;
      let flaggedBefore: FlaggedKey[] | undefined;
      if (o.check) {
        try {
          before = await fetchAnomalyCounts(o.metrics);
          flaggedBefore = await fetchFlagged(o.metrics).catch(() => undefined);
        } catch (err) {
          throw new UsageError(`--check needs Vigil's metrics, but ${o.metrics} did not answer (${(err as Error).message}): start Vigil, or pass --metrics with its service.telemetry.metrics.address`);
        }
      }
      process.stdout.write(`simulating ${describePlan(plan, days)}\n`);
      let sent: SendResult;
      try {
        sent = await sendWithProgress(plan, endpoint, protocol, rate);
      } catch (err) {
        throw new Error(`${(err as Error).message} (is Vigil listening on ${endpoint} over ${protocol}?)`);
      }
      process.stdout.write(`sent ${sent.records.toLocaleString('en-US')} records in ${(sent.ms / 1000).toFixed(1)} s over OTLP/${protocol === 'grpc' ? 'gRPC' : 'HTTP'} to ${endpoint}${sent.retries ? ` (${sent.retries} retried)` : ''}${sent.rejected ? `, ${sent.rejected} rejected by Vigil` : ''}\n`);
      if (!o.check) return;
      const flagged = await fetchFlagged(o.metrics).catch(() => undefined);
      const after = await fetchAnomalyCounts(o.metrics);
      const results = judge(plan.scenarios, flagged ? { flagged, flaggedBefore } : { alertsBefore: before, alertsAfter: after });
      process.stdout.write(`\n${formatResults(results)}`);
      if (!flagged) process.stdout.write('(judged from vigil_anomalies_total: the status page was not available for exact keys)\n');
      if (results.some((r) => r.verdict === 'missed')) process.exitCode = 1;
    });
}
