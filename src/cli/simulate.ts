// `vigil simulate`: realistic traffic with injected anomalies against a
// running Vigil over OTLP, and with --check a pass/fail table of whether each
// anomaly was flagged with the expected detector (exit 1 when one was missed).
// A smoke test to run after every deployment and before every audit.
import type { Command } from 'commander';
import { fetchAnomalyCounts, fetchFlagged, formatResults, judge } from '../simulate/check.js';
import { ORGANISATIONS } from '../simulate/organisations.js';
import { MIN_DAYS } from '../simulate/plan.js';
import { SCENARIOS } from '../simulate/scenarios.js';
import { DAY } from '../simulate/traffic.js';
import type { SendResult } from '../simulate/send.js';
import type { FlaggedKey } from '../telemetry/status/state.js';
import { type PlanCliOptions, describePlan, planFromOptions, sendWithProgress } from './simulate-plan.js';
import { UsageError } from './usage.js';

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
