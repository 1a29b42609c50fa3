// `npm run fuzz`: the standalone fuzz runner. Runs every target (or those
// named) for a total number of cases from a seed, each target in a worker
// thread under a watchdog (a case that makes no progress for --hang-ms is a
// hang) and a heap limit (a case that balloons memory is a failure, not an
// OOM of the runner). Prints cases run, how they were answered, failures with
// a replay command, throughput and peak memory; exits 1 on any failure.
//
//   node dist/src/fuzz/run.js --cases 100000 --seed 42
//   node dist/src/fuzz/run.js --target json.mutated --seed 42 --path 17:3:0   (replay a failure)
import { Command, InvalidArgumentError } from 'commander';
import { Worker } from 'node:worker_threads';
import { selfTestTargets } from './selftest.js';
import { targetSeed, type SessionResult } from './session.js';
import { allocate, fuzzTargets } from './targets.js';
import { HOSTILE_TARGET, type WorkerJob } from './worker.js';

interface Options {
  cases: number;
  seed: number;
  target?: string[];
  path?: string;
  hangMs: number;
  maxHeapMb: number;
  list?: boolean;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

function int32(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number');
  return n | 0;
}

interface Verdict {
  result: SessionResult | undefined;
  /** Why the worker did not report: a hang, a crash, running out of memory. */
  problem?: string;
  casesStarted: number;
  peakRss: number;
}

function runInWorker(job: Omit<WorkerJob, 'progress'>, opts: Options): Promise<Verdict> {
  const progress = new SharedArrayBuffer(8);
  const counter = new Int32Array(progress);
  const worker = new Worker(new URL('./worker.js', import.meta.url), {
    workerData: { ...job, progress } satisfies WorkerJob,
    resourceLimits: { maxOldGenerationSizeMb: opts.maxHeapMb },
  });
  return new Promise((resolve) => {
    let result: SessionResult | undefined;
    let problem: string | undefined;
    let peakRss = process.memoryUsage.rss();
    let lastCount = -1;
    let lastMove = Date.now();
    const watchdog = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      const n = Atomics.load(counter, 0);
      if (Atomics.load(counter, 1) === 0) {
        lastMove = Date.now(); // still loading: the clock starts with the first case
      } else if (n !== lastCount) {
        lastCount = n;
        lastMove = Date.now();
      } else if (Date.now() - lastMove > opts.hangMs) {
        problem = `hang: case ${n} made no progress for ${opts.hangMs} ms`;
        void worker.terminate();
      }
    }, 200);
    worker.on('message', (r: SessionResult) => (result = r));
    worker.on('error', (err: Error & { code?: string }) => {
      const loaded = Atomics.load(counter, 1) === 1;
      if (err.code !== 'ERR_WORKER_OUT_OF_MEMORY') problem = `crash: ${err.stack ?? err.message}`;
      else if (loaded) problem = `out of memory: case ${Atomics.load(counter, 0)} exceeded the ${opts.maxHeapMb} MB heap limit`;
      else problem = `out of memory while loading: ${opts.maxHeapMb} MB is too small a heap for the fuzz worker (raise --max-heap-mb)`;
    });
    worker.on('exit', () => {
      clearInterval(watchdog);
      resolve({ result, problem: result ? undefined : (problem ?? 'the worker exited without a result'), casesStarted: Atomics.load(counter, 0), peakRss });
    });
  });
}

const mib = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;
const rate = (n: number, s: number) => (s > 0 ? Math.round(n / s).toLocaleString('en-US') : '-');

async function main(argv: string[]): Promise<number> {
  const program = new Command('fuzz')
    .description('Fuzz the OTLP decoders, the config loader, the audit body parsers and the archive (verifier and parsers) against their contracts.')
    .option('--cases <n>', 'total cases, shared between the targets by weight', positiveInt, 100_000)
    .option('--seed <n>', 'seed (printed, so any run can be replayed)', int32, (Math.random() * 2 ** 31) | 0)
    .option('--target <names...>', 'run only these targets (see --list)')
    .option('--path <path>', 'replay one counterexample (with --seed and a single --target)')
    .option('--hang-ms <ms>', 'a case making no progress this long is a hang', positiveInt, 30_000)
    .option('--max-heap-mb <mb>', 'heap limit of each target\'s worker', positiveInt, 1024)
    .option('--list', 'list the targets and exit')
    .exitOverride();
  program.parse(argv);
  const opts = program.opts<Options>();

  const targets = fuzzTargets(new Map()); // names and weights only: the workers build their own
  const selfTests = selfTestTargets(); // runnable by name only
  const names = [...targets.map((t) => t.name), HOSTILE_TARGET, ...selfTests.map((t) => t.name)];
  if (opts.list) {
    process.stdout.write(`${names.join('\n')}\n`);
    return 0;
  }
  const unknown = (opts.target ?? []).filter((n) => !names.includes(n));
  if (unknown.length > 0) {
    process.stderr.write(`fuzz: unknown target(s) ${unknown.join(', ')}; targets: ${names.join(', ')}\n`);
    return 2;
  }
  const chosen = [...targets, ...selfTests].filter((t) => (opts.target ? opts.target.includes(t.name) : !selfTests.includes(t)));
  const withHostile = !opts.target || opts.target.includes(HOSTILE_TARGET);
  if (opts.path && (chosen.length !== 1 || withHostile)) {
    process.stderr.write('fuzz: --path replays one counterexample: give exactly one --target (not hostile)\n');
    return 2;
  }
  const shares = allocate(chosen, opts.cases);

  process.stdout.write(`fuzz: ${opts.cases.toLocaleString('en-US')} cases over ${chosen.length} targets${withHostile ? ' + the hostile set' : ''}, seed ${opts.seed}\n`);
  const started = performance.now();
  let total = 0;
  let failures = 0;
  let peakRss = 0;
  const jobs: Omit<WorkerJob, 'progress'>[] = chosen.map((t, i) => ({ target: t.name, cases: shares[i], seed: targetSeed(opts.seed, t.name), path: opts.path }));
  if (withHostile) jobs.push({ target: HOSTILE_TARGET, cases: 0, seed: opts.seed });
  for (const job of jobs) {
    const v = await runInWorker(job, opts);
    peakRss = Math.max(peakRss, v.peakRss);
    const r = v.result;
    const cases = r?.cases ?? v.casesStarted;
    total += cases;
    const line = r
      ? `${r.target.padEnd(18)} ${String(r.cases).padStart(8)} cases  accepted ${r.outcomes.accepted}, partial ${r.outcomes.partial}, refused ${r.outcomes.refused}  ${r.seconds.toFixed(1)} s  ${rate(r.cases, r.seconds)} cases/s  slowest ${r.slowestMs.toFixed(0)} ms`
      : `${job.target.padEnd(18)} ${String(cases).padStart(8)} cases`;
    process.stdout.write(`  ${line}${r?.failed || v.problem ? '  FAILED' : ''}\n`);
    if (v.problem) {
      failures++;
      process.stdout.write(`    ${v.problem}\n    replay: node dist/src/fuzz/run.js --target ${job.target} --seed ${opts.seed} --cases ${job.cases}\n`);
    } else if (r?.failed) {
      failures++;
      process.stdout.write(`    ${r.error?.split('\n').join('\n    ')}\n    input: ${r.counterexample ?? '(none)'}\n`);
      if (r.path) process.stdout.write(`    replay: node dist/src/fuzz/run.js --target ${r.target} --seed ${opts.seed} --path ${r.path}\n`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `fuzz: ${total.toLocaleString('en-US')} cases run, ${failures} failure${failures === 1 ? '' : 's'}, ${seconds.toFixed(1)} s, ${rate(total, seconds)} cases/s, peak RSS ${mib(peakRss)}, seed ${opts.seed}\n`,
  );
  return failures > 0 ? 1 : 0;
}

main(process.argv).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    const e = err as { code?: string; exitCode?: number; message?: string };
    if (typeof e?.code === 'string' && e.code.startsWith('commander.')) {
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    process.stderr.write(`fuzz: ${e?.message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
