// `npm run soak`: Vigil's reliability soak, full size.
//   (a) kill -9 trials: `vigil run` killed at 20 random moments under load and
//       restarted; prints acked, archived, delivered, lost (must be 0), duplicates.
//   (b) steady load for 10 minutes with one downstream outage in the middle;
//       prints RSS over time (a line per 30 s), records in/out, lost (must be 0).
// Exit status 1 when a promise was broken. S3 (Object Lock) is used by (a) when
// S3_ENDPOINT and the AWS_* credentials are set (scripts/s3/start-rgw.sh).
//
//   npm run soak                                   both parts, full size
//   npm run soak -- --minutes 1 --trials 5         shorter
//   npm run soak -- --only crash --seed 7          one part, another seed
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { crashVerdict, runCrashTrials } from '../../test/helpers/harness/crash.js';
import { formatReconciliation } from '../../test/helpers/harness/reconcile.js';
import { runSteadySoak, steadyVerdict } from './steady.js';
import { vigilBuilt } from '../../test/helpers/harness/vigil.js';

interface Options {
  trials: number;
  minutes: number;
  rate: number;
  seed: number;
  only?: 'crash' | 'steady';
  dir?: string;
  keep?: boolean;
}

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

function whole(v: string): number {
  const n = positive(v);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number');
  return n;
}

const out = (line = '') => process.stdout.write(`${line}\n`);

async function crashPart(o: Options, dir: string): Promise<boolean> {
  const s3 = process.env.S3_ENDPOINT;
  out(`== kill -9 trials: ${o.trials} kills, seed ${o.seed}, archive ${s3 ? `local + S3 (${s3})` : 'local (set S3_ENDPOINT to add S3 uploads)'}`);
  const r = await runCrashTrials({ dir, kills: o.trials, seed: o.seed, s3Endpoint: s3, log: out });
  const rec = r.reconciliation;
  const hits = r.kills.filter((k) => k.hit).length;
  out();
  out(`kills       ${r.kills.length} (${hits} landed in the moment aimed at: ${countBy(r.kills.filter((k) => k.hit).map((k) => k.moment))}); torn tails ${r.kills.filter((k) => k.tornTail).length}`);
  out(formatReconciliation(rec));
  out(`verify      exit ${r.verify.exitCode}, ${r.verify.records.valid}/${r.verify.records.checked} records valid in ${r.verify.segments} segments; ${r.verify.uncleanStops} unclean stops and ${r.verify.repairedTruncations} repaired truncations named`);
  if (r.verifyS3) out(`verify s3   exit ${r.verifyS3.exitCode}, ${r.verifyS3.records.valid}/${r.verifyS3.records.checked} records valid; upload backlog ${r.s3Backlog}`);
  out(`downstream  ${r.downstream.calls} calls, ${r.downstream.refused} answered UNAVAILABLE`);
  out(`clients     ${r.clients.requests} requests, ${r.clients.attempts} attempts, refusals ${JSON.stringify(r.clients.refusals)}`);
  out(`time        ${(r.durationMs / 1000).toFixed(0)} s`);
  const problems = crashVerdict(r);
  for (const p of problems) out(`FAILED: ${p}`);
  return problems.length === 0;
}

async function steadyPart(o: Options, dir: string): Promise<boolean> {
  const durationMs = Math.round(o.minutes * 60_000);
  out(`== steady load: ${o.minutes} min at ${o.rate} records/s, downstream outage from 40 % to 55 % of the run`);
  const r = await runSteadySoak({ dir, durationMs, rate: o.rate, seed: o.seed, log: out });
  out();
  out(`records in  ${r.recordsIn}   out ${r.recordsOut}   (${(r.recordsIn / (durationMs / 1000)).toFixed(0)}/s offered and taken)`);
  out(`rss         first ${r.rss.first.toFixed(1)} MiB, last ${r.rss.last.toFixed(1)} MiB, min ${r.rss.min.toFixed(1)}, max ${r.rss.max.toFixed(1)}; max in first half ${r.rss.firstHalfMax.toFixed(1)}, second half ${r.rss.secondHalfMax.toFixed(1)}`);
  out(`queue       peak ${r.peakQueueBatches} batches during the outage; drained: ${r.undeliveredAtDeadline === 0 ? 'yes' : `no, ${r.undeliveredAtDeadline} records undelivered at the deadline`}`);
  out(formatReconciliation(r.reconciliation));
  out(`verify      exit ${r.verify.exitCode}, ${r.verify.records.valid}/${r.verify.records.checked} records valid in ${r.verify.segments} segments`);
  out(`clients     ${r.clients.requests} requests, refusals ${JSON.stringify(r.clients.refusals)}`);
  const problems = steadyVerdict(r);
  for (const p of problems) out(`FAILED: ${p}`);
  return problems.length === 0;
}

function countBy(xs: string[]): string {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return [...m].map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
}

async function main(): Promise<void> {
  const program = new Command('soak')
    .description("Vigil's reliability soak: kill -9 trials and a long steady run with a downstream outage")
    .option('--trials <n>', 'kill -9 trials (kills)', whole, 20)
    .option('--minutes <m>', 'duration of the steady run', positive, 10)
    .option('--rate <n>', 'steady load, records per second', whole, 1000)
    .option('--seed <n>', 'PRNG seed (kill moments, delays, torn tails, downstream refusals, traffic)', whole, 1)
    .option('--only <part>', 'crash or steady')
    .option('--dir <path>', 'work directory (default: a new temporary one)')
    .option('--keep', 'keep the work directory (it is always kept after a failure)')
    .parse();
  const o = program.opts<Options>();
  if (o.only !== undefined && o.only !== 'crash' && o.only !== 'steady') program.error('--only is crash or steady');
  if (!vigilBuilt()) program.error('vigil is not built: run `npm run build` (npm run soak does)');
  const root = o.dir ? resolve(o.dir) : mkdtempSync(join(tmpdir(), 'vigil-soak-'));
  let ok = true;
  try {
    if (o.only !== 'steady') ok = (await crashPart(o, join(root, 'crash'))) && ok;
    if (o.only !== 'crash') {
      out();
      ok = (await steadyPart(o, join(root, 'steady'))) && ok;
    }
  } catch (err) {
    ok = false;
    out(`FAILED: ${(err as Error).stack ?? String(err)}`);
  }
  if (ok && !o.keep && !o.dir) rmSync(root, { recursive: true, force: true });
  else out(`work directory kept: ${root} (vigil.log holds Vigil's own logs)`);
  out(ok ? '\nsoak passed: nothing acknowledged was lost' : '\nsoak FAILED');
  process.exitCode = ok ? 0 : 1;
}

await main();
