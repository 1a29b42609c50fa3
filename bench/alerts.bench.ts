// `npm run bench:alerts`: false alerts and detections of the DEFAULT config on
// organisations Vigil has never seen (src/simulate/organisations.ts). For each
// organisation and seed: its days of ordinary traffic with every attack of
// `vigil simulate` on the last day go through `vigil replay` (in process,
// embedded default config, no snapshot: a first start), and the alerts are
// scored (src/simulate/alert-score.ts; the rule is in docs/alert-benchmark.md).
//
//   npm run bench:alerts                          every organisation, seeds 1 2 3
//   npm run bench:alerts -- --org saas --seed 2   one run
//   npm run bench:alerts -- --check               exit 1 when a run misses a target
//   npm run bench:alerts -- --false 20            list the first 20 false alerts of each run
//   npm run bench:alerts -- --json out.json       also write the figures as JSON
import { writeFileSync } from 'node:fs';
import { buildPlan, VIRTUAL_START } from '../src/simulate/plan.js';
import { attacksOf, type ScoredRow, formatTable, missedTargets, scoreRun, targetsFor } from '../src/simulate/alert-score.js';
import type { OrganisationKnobs } from '../src/simulate/organisation.js';
import { organisationNamed, ORGANISATIONS } from '../src/simulate/organisations.js';
import { SCENARIOS } from '../src/simulate/scenarios.js';
import { DAY } from '../src/simulate/traffic.js';
import { defaultDetectorKeys, replayForAlerts } from '../test/helpers/alert-replay.js';

const SEEDS = [1, 2, 3];

interface Args {
  orgs: string[];
  seeds: number[];
  check: boolean;
  showFalse: number;
  json?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { orgs: [], seeds: [], check: false, showFalse: 0 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    const next = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`bench:alerts: ${v} needs a value`);
      return x;
    };
    if (v === '--org') a.orgs.push(...next().split(','));
    else if (v === '--seed') a.seeds.push(...next().split(',').map(Number));
    else if (v === '--check') a.check = true;
    else if (v === '--false') a.showFalse = Number(next());
    else if (v === '--json') a.json = next();
    else throw new Error(`bench:alerts: unknown option ${v} (use --org NAME, --seed N, --check, --false N, --json FILE)`);
  }
  if (a.seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new Error('bench:alerts: --seed takes whole numbers ≥ 0');
  return a;
}

let args: Args;
let orgs: readonly OrganisationKnobs[];
try {
  args = parseArgs(process.argv.slice(2));
  orgs = args.orgs.length ? args.orgs.map(organisationNamed) : ORGANISATIONS;
} catch (err) {
  process.stderr.write(`${(err as Error).message.replace(/^(?!bench:alerts)/, 'bench:alerts: ')}\n`);
  process.exit(2);
}
const seeds = args.seeds.length ? args.seeds : SEEDS;
const detectorKeys = defaultDetectorKeys();
const started = performance.now();

process.stdout.write('Alerts of the default config on simulated organisations (vigil replay, first start, no snapshot)\n');
process.stdout.write('Targets: every attack detected; median time to detect ≤ 60 s; false alerts after day 1 ≤ 1 a day per 1,000 keys\n');
process.stdout.write('(≤ 2 a day for ≤ 1,000 keys); alerts on day 1 ≤ 5× that. Keys = accounts. Attribution: docs/alert-benchmark.md\n\n');
for (const o of orgs) process.stdout.write(`  ${o.name.padEnd(11)} ${o.accounts.toLocaleString('en-US')} accounts, ${o.days + 1} days: ${o.description}\n`);
process.stdout.write('\n');

const rows: ScoredRow[] = [];
for (const org of orgs) {
  for (const seed of seeds) {
    const t0 = performance.now();
    const plan = buildPlan({ seed, users: org.accounts, organisation: org, days: org.days, scenarios: SCENARIOS, endAt: VIRTUAL_START + (org.days + 1) * DAY });
    const run = await replayForAlerts(plan.events);
    if (run.stderr.trim() !== '') process.stderr.write(run.stderr);
    const attacks = attacksOf(plan.scenarios, plan.events, detectorKeys);
    const score = scoreRun({ alerts: run.alerts, attacks, from: plan.from, to: plan.to, keys: org.accounts });
    const row: ScoredRow = { org: org.name, seed, keys: org.accounts, records: plan.events.length, seconds: (performance.now() - t0) / 1000, score, targets: targetsFor(org.accounts) };
    rows.push(row);
    const missed = missedTargets(score, row.targets);
    process.stdout.write(`${org.name} seed ${seed}: ${plan.events.length.toLocaleString('en-US')} records in ${row.seconds.toFixed(1)} s; ${score.alerts} alerts (${score.sideEffects} excused as side effects of an attack), ${score.falseAfterDay1} false after day 1 (${[...score.falseByDetector].sort((a, b) => b[1] - a[1]).map(([d, n]) => `${d} ${n}`).join(', ') || 'none'})${missed.length ? `; FAIL: ${missed.join('; ')}` : '; PASS'}\n`);
    for (const a of score.attacks.filter((x) => !x.detected)) process.stdout.write(`    missed ${a.name}: no ${a.detector} alert on ${a.key} during the attack\n`);
    for (const a of score.falseAlerts.slice(0, args.showFalse)) process.stdout.write(`    false: ${new Date(a.first).toISOString()} ${a.detector} [${a.key}]\n`);
  }
}

process.stdout.write(`\n${formatTable(rows)}\n\n`);
const failed = rows.filter((r) => missedTargets(r.score, r.targets).length > 0);
const cpu = process.cpuUsage();
process.stdout.write(
  `${rows.length - failed.length}/${rows.length} runs meet every target; ${rows.reduce((n, r) => n + r.records, 0).toLocaleString('en-US')} records in ${((performance.now() - started) / 1000).toFixed(0)} s (${((cpu.user + cpu.system) / 1e6).toFixed(0)} s of CPU)\n`,
);
if (args.json !== undefined) {
  const figures = rows.map((r) => ({
    org: r.org,
    seed: r.seed,
    keys: r.keys,
    records: r.records,
    seconds: Math.round(r.seconds * 10) / 10,
    detected: r.score.detected,
    injected: r.score.injected,
    missed: r.score.attacks.filter((a) => !a.detected).map((a) => a.name),
    medianTtdSeconds: r.score.medianTtdSeconds ?? null,
    alerts: r.score.alerts,
    sideEffects: r.score.sideEffects,
    day1: r.score.day1,
    falseAfterDay1: r.score.falseAfterDay1,
    daysAfterDay1: r.score.daysAfterDay1,
    falsePerDay: r.score.falsePerDay,
    falsePer1000KeysPerDay: r.score.falsePer1000KeysPerDay,
    falseByDetector: Object.fromEntries(r.score.falseByDetector),
    targets: r.targets,
    pass: missedTargets(r.score, r.targets).length === 0,
  }));
  writeFileSync(args.json, `${JSON.stringify({ runs: figures }, null, 2)}\n`);
}
if (args.check && failed.length > 0) process.exitCode = 1;
