// `vigil demo` (`npm run demo`): the whole mission in under a minute, with no
// config, account or network. Starts Vigil in this process on its embedded
// default (a fresh data directory, free ports), drives `vigil simulate`'s
// traffic with every anomaly through it, prints what was found and why, seals
// and verifies the archive, and says where to look next.
import { mkdtempSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { defaultRegistry } from '../components.js';
import { readConfigFile, validateConfig } from '../config/load.js';
import { parseDuration } from '../config/units.js';
import { type ScenarioResult, judge } from '../simulate/check.js';
import { MIN_DAYS, type SimulationPlan } from '../simulate/plan.js';
import { DAY } from '../simulate/traffic.js';
import type { AlertEntry } from '../telemetry/status/state.js';
import { UsageError } from './usage.js';
import { type RunningVigil, startVigilWithConfig } from './start.js';
import { describePlan, planFromOptions, sendWithProgress } from './simulate-plan.js';
import { formatReport, runVerify } from './verify-run.js';
import { countOf } from '../util/count.js';

type Raw = Record<string, any>;

/** The embedded default, moved to `dir` and onto free loopback ports (nothing collides with a running Vigil). */
export function demoConfig(dir: string): Raw {
  const raw = structuredClone(readConfigFile(undefined).raw) as Raw;
  raw.receivers.otlp.protocols.grpc.endpoint = '127.0.0.1:0';
  raw.receivers.otlp.protocols.http.endpoint = '127.0.0.1:0';
  raw.exporters.worm.directory = join(dir, 'archive');
  raw.exporters.worm.signing.key_file = join(dir, 'keys', 'archive.key');
  raw.processors.anomaly.state.directory = join(dir, 'anomaly');
  if (raw.extensions?.health_check) raw.extensions.health_check.endpoint = '127.0.0.1:0';
  raw.service.telemetry = { ...raw.service.telemetry, metrics: { ...raw.service.telemetry?.metrics, address: '127.0.0.1:0' }, logs: { level: 'error' }, status_page: true };
  return raw;
}

function grpcAddress(v: RunningVigil): string {
  for (const r of v.service.receivers) {
    const a = (r.instance as { grpcAddress?: () => string | undefined }).grpcAddress?.();
    if (a) return a;
  }
  throw new Error('the demo config has no OTLP/gRPC receiver');
}

function formatFindings(results: readonly ScenarioResult[], alerts: readonly AlertEntry[]): string {
  const lines = ['Anomalies found:'];
  for (const r of results) {
    const s = r.scenario;
    lines.push(`  ${r.verdict === 'missed' ? '✗' : '✓'} ${s.title}`);
    lines.push(`      ${r.verdict === 'missed' ? `MISSED: ${r.evidence}` : r.evidence}`);
  }
  const expected = new Set(results.map((r) => `${r.scenario.detector}\u001f${r.scenario.key}`));
  const others = alerts.filter((a) => !expected.has(`${a.detector}\u001f${a.key}`));
  if (others.length) {
    lines.push(`  Also raised (${others.length}): ${others.slice(0, 6).map((a) => `${a.detector} [${a.key}]`).join(', ')}${others.length > 6 ? ', …' : ''}`);
  }
  const found = results.filter((r) => r.verdict !== 'missed').length;
  lines.push(`  ${found}/${results.length} injected anomalies flagged with the expected detector; ${alerts.length} alerts raised in all.`);
  return `${lines.join('\n')}\n`;
}

interface DemoOptions {
  quick?: boolean;
  duration?: string;
  users: string;
  seed: string;
  data?: string;
  keepRunning?: boolean;
}

export async function runDemo(o: DemoOptions, out: NodeJS.WriteStream = process.stdout): Promise<{ ok: boolean }> {
  const duration = o.duration ?? (o.quick ? `${MIN_DAYS}d` : '9d');
  const plan: SimulationPlan = planFromOptions({ scenario: 'all', duration, users: o.users, seed: o.seed });
  const days = Math.round(parseDuration(duration) / DAY);
  const dir = o.data ? resolve(o.data) : mkdtempSync(join(tmpdir(), 'vigil-demo-'));
  await mkdir(dir, { recursive: true });
  const config = validateConfig(demoConfig(dir), defaultRegistry(), 'embedded default (demo: fresh data directory, free ports)');
  const vigil = await startVigilWithConfig(config);
  const write = (s: string) => out.write(s);
  let stopped = false;
  try {
    const endpoint = grpcAddress(vigil);
    const ts = vigil.telemetryServer!;
    write(`Vigil is running on its embedded default, in ${dir}\n`);
    write(`  OTLP/gRPC ${endpoint} · metrics ${ts.url('/metrics')} · status page ${ts.url('/')}\n`);
    write(`  (free ports picked for this demo, so it never collides with a running Vigil)\n\n`);
    write(`Simulating ${describePlan(plan, days)}\n`);
    const sent = await sendWithProgress(plan, endpoint, 'grpc', 0);
    write(`  sent in ${(sent.ms / 1000).toFixed(1)} s (${Math.round(sent.records / (sent.ms / 1000)).toLocaleString('en-US')} records/s, each scored, archived and fsync'd before it was acknowledged)\n\n`);

    const snap = await vigil.status!.snapshot({ allFlagged: true });
    const results = judge(plan.scenarios, { flagged: snap.anomalies.recent });
    write(formatFindings(results, snap.anomalies.alerts));

    const archive = join(dir, 'archive');
    const pub = join(dir, 'keys', 'archive.pub');
    if (!o.keepRunning) {
      await vigil.stop(); // seals the open segment
      stopped = true;
    }
    const { reports, ok: intact } = await runVerify(archive, { publicKey: [pub] });
    const r = reports[0];
    vigil.status?.recordVerification({ archive, ok: intact, segments: r?.segments.valid ?? 0, records: r?.records.valid ?? 0, breaks: r?.findings.filter((f) => f.severity === 'break').length ?? 0, summary: `${countOf(r?.records.valid ?? 0, 'record')} in ${countOf(r?.segments.valid ?? 0, 'signed segment')}` });
    write(`\nArchive verification${o.keepRunning ? ' (Vigil still running: the open segment is chained, not yet sealed)' : ' (after the shutdown seal)'}:\n`);
    write(reports.map((x) => formatReport(x, {})).join(''));

    write('\nWhere to look next:\n');
    if (o.keepRunning) {
      write(`  status page   ${ts.url('/')}   (live; JSON at ${ts.url('/status.json')})\n`);
      write(`  metrics       ${ts.url('/metrics')}   (vigil_anomalies_total{detector}, queue and archive metrics)\n`);
    } else {
      write('  status page   run `npx vigil demo --keep-running` and open the URL it prints\n');
    }
    write(`  archive       ${archive}   (JSON lines, gzip, signed manifests)\n`);
    write(`  verify it     vigil verify ${archive} --public-key ${pub}\n`);
    write(`  the alerts    vigil query ${archive} --where 'anomaly.detector~.'\n`);
    write('  your own      vigil run, then vigil simulate --check against it\n');
    const ok = intact && results.every((x) => x.verdict !== 'missed');
    if (o.keepRunning) {
      write('\nVigil keeps running (Ctrl-C to stop).\n');
      await new Promise<void>((done) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          done();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    }
    return { ok };
  } finally {
    if (!stopped) await vigil.stop();
  }
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('see the whole mission in under a minute: Vigil on its embedded default, simulated traffic with anomalies, findings, a verified archive')
    .option('--quick', `a shorter history (${MIN_DAYS} days instead of 9): faster, same anomalies`)
    .option('--duration <d>', 'days of ordinary traffic before the anomalies (event time)')
    .option('--users <n>', 'simulated accounts', '120')
    .option('--seed <n>', 'random seed', '1')
    .option('--data <dir>', 'data directory (default: a fresh temporary directory)')
    .option('--keep-running', 'leave Vigil running afterwards so you can open the status page')
    .addHelpText(
      'after',
      `
No config, account or network: everything runs in this process on loopback ports picked free,
with a fresh data directory (printed) holding the archive, its keys and the anomaly baselines.

Examples:
  npm run demo
  npx vigil demo --keep-running      then open the status page URL it prints
  npx vigil demo --quick --data ./vigil-data/demo`,
    )
    .action(async (o: DemoOptions) => {
      if (o.data !== undefined && o.data.trim() === '') throw new UsageError('--data needs a directory');
      const { ok } = await runDemo(o);
      if (!ok) process.exitCode = 1;
    });
}
