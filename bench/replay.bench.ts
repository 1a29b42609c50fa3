// `vigil replay` end to end (issue #12's target: ≥ 50,000 records/s): a
// generated Combined-log file through the default pipeline (audit + anomaly),
// enriched OTLP/JSON lines written to a file. Each run is a fresh process that
// loads the CLI and the replay command as `vigil replay` does, and runs it
// (Node's own boot left out); its CPU time covers module loading, config,
// processors, encoding and writes. Then the
// OTLP/JSON encoder alone on the same enriched records: µs per record from
// records to the bytes written.
//
// BENCH_REPLAY_BEFORE=DIR (another built checkout, e.g. the commit before a
// change) runs that build's replay alternately with this one, so both meet the
// same load on a shared machine. Ranges over runs are printed; noise only adds
// time, so the best is the fairer figure. Prints figures; asserts nothing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';
import { rng } from '../test/helpers/harness/access-log.js';

const LINES = Number(process.env.BENCH_REPLAY_LINES ?? 30_000);
const RUNS = Number(process.env.BENCH_REPLAY_RUNS ?? 3);
const self = fileURLToPath(import.meta.url);
const root = resolve(dirname(self), '..', '..');

interface RunResult {
  records: number;
  cpuSeconds: number;
  wallSeconds: number;
  encodeMicros: number;
  status: Record<string, number>;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const ROUTES = ['/', '/index.html', '/products/{id}', '/cart', '/api/v1/orders/{id}', '/static/app.{id}.js', '/login', '/search?q={id}'];
const AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
  'curl/8.4.0',
  'Googlebot/2.1 (+http://www.google.com/bot.html)',
];

/** Combined Log Format lines: a spread of clients, users, routes, statuses; one second apart. */
function combinedLines(n: number): string {
  const r = rng(12);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const two = (x: number) => String(x).padStart(2, '0');
  const start = Date.UTC(2026, 10, 1);
  const out: string[] = [];
  for (let k = 0; k < n; k++) {
    const t = new Date(start + k * 1000);
    const date = `${two(t.getUTCDate())}/${MONTHS[t.getUTCMonth()]}/${t.getUTCFullYear()}:${two(t.getUTCHours())}:${two(t.getUTCMinutes())}:${two(t.getUTCSeconds())} +0000`;
    const ip = `198.51.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`;
    const user = r() < 0.6 ? '-' : `user${Math.floor(r() * 2000)}`;
    const path = pick(ROUTES).replace('{id}', String(Math.floor(r() * 100_000)));
    const status = pick([200, 200, 200, 200, 304, 301, 404, 403, 500]);
    const referer = r() < 0.5 ? '-' : `https://shop.example.com${pick(ROUTES).replace('{id}', '1')}`;
    out.push(`${ip} - ${user} [${date}] "${pick(['GET', 'GET', 'GET', 'POST', 'PUT'])} ${path} HTTP/1.1" ${status} ${Math.floor(r() * 60_000)} "${referer}" "${pick(AGENTS)}"`);
  }
  return `${out.join('\n')}\n`;
}

type JsonModule = {
  decodeJsonRequest(t: string): { request: unknown };
  encodeJsonRequest(r: unknown): string;
  encodeJsonLine?: (r: unknown) => Buffer;
  withJsonLine?: <T>(r: unknown, use: (bytes: Uint8Array) => T) => T;
};

/** The encoder alone on the first enriched requests replay wrote: records → the bytes written (best of several passes). */
async function encoderMicros(build: string, output: string): Promise<number> {
  const json = (await import(pathToFileURL(join(build, 'dist/src/otlp/json.js')).href)) as JsonModule;
  const text = readFileSync(output, 'utf8');
  const lines = text.split('\n', 8).filter((l) => l !== '');
  const requests = lines.map((l) => json.decodeJsonRequest(l).request);
  type Shape = { resourceLogs: { scopeLogs: { logRecords: unknown[] }[] }[] };
  const records = (requests as Shape[]).reduce((a, r) => a + r.resourceLogs.reduce((b, rl) => b + rl.scopeLogs.reduce((c, sl) => c + sl.logRecords.length, 0), 0), 0);
  // What each build's replay writes: the encoder's own bytes, lent (withJsonLine), or copied out (encodeJsonLine);
  // the commit before this bench had neither: its replay wrote `${encodeJsonRequest(req)}\n` as a string.
  const line = json.withJsonLine
    ? (r: unknown) => json.withJsonLine!(r, (bytes) => bytes.length)
    : (json.encodeJsonLine ?? ((r: unknown) => Buffer.from(`${json.encodeJsonRequest(r)}\n`)));
  let best = Infinity;
  for (let pass = 0; pass < 15; pass++) {
    const t0 = process.cpuUsage();
    for (const r of requests) line(r);
    const dt = process.cpuUsage(t0);
    best = Math.min(best, (dt.user + dt.system) / records);
  }
  return best;
}

/** Child mode: one replay of INPUT by the build in BUILD, then the encoder alone; prints a RunResult. */
async function child(build: string, input: string, output: string): Promise<void> {
  const t0 = process.cpuUsage();
  const w0 = performance.now();
  // The CLI's start-up as `vigil replay` pays it: the program and the replay command registered
  // (every command, in builds before they were loaded lazily), then the command's own run.
  const cli = (await import(pathToFileURL(join(build, 'dist/src/cli/main.js')).href)) as { buildProgram(only?: string): unknown };
  await cli.buildProgram('replay');
  const { replay } = (await import(pathToFileURL(join(build, 'dist/src/cli/replay.js')).href)) as typeof import('../src/cli/replay.js');
  const quiet = new Writable({ write: (_c, _e, cb) => cb() });
  const summary = await replay({ inputs: [input], output }, { stdin: process.stdin, stdout: quiet, stderr: quiet as unknown as NodeJS.WriteStream });
  const dt = process.cpuUsage(t0);
  const result: RunResult = {
    records: summary.records,
    cpuSeconds: (dt.user + dt.system) / 1e6,
    wallSeconds: (performance.now() - w0) / 1000,
    encodeMicros: await encoderMicros(build, output),
    status: summary.status,
  };
  process.stdout.write(JSON.stringify(result));
}

/**
 * Each run in a directory of its own: the default config keeps the anomaly
 * baselines in ./vigil-data, and a run that restored the previous runs'
 * snapshot (tens of MB after a few) paid seconds the first did not.
 */
function runChild(build: string, input: string, output: string): RunResult {
  const cwd = mkdtempSync(join(dirname(output), 'run-'));
  try {
    return runChildIn(cwd, build, input, output);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

function runChildIn(cwd: string, build: string, input: string, output: string): RunResult {
  const r = spawnSync(process.execPath, [self, '--child', build, input, output], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`replay bench child (${build}) exited with ${r.status ?? r.signal}`);
  return JSON.parse(r.stdout) as RunResult;
}

const range = (xs: number[], digits: number) => {
  const lo = Math.min(...xs).toFixed(digits);
  const hi = Math.max(...xs).toFixed(digits);
  return lo === hi ? lo : `${lo}–${hi}`;
};

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3], process.argv[4], process.argv[5]);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-replay-bench-'));
  try {
    const input = join(dir, 'access.log');
    writeFileSync(input, combinedLines(LINES));
    const builds: [string, string][] = [['this build', root]];
    if (process.env.BENCH_REPLAY_BEFORE) builds.unshift(['before', resolve(process.env.BENCH_REPLAY_BEFORE)]);
    const results = new Map<string, RunResult[]>(builds.map(([name]) => [name, []]));
    for (let run = 0; run < RUNS; run++) {
      for (const [name, build] of builds) {
        const res = runChild(build, input, join(dir, 'out.jsonl'));
        results.get(name)!.push(res);
        rmSync(join(dir, 'out.jsonl'), { force: true });
      }
    }
    const status = Object.entries(results.get('this build')![0].status).map(([k, v]) => `${v} ${k}`).join(', ');
    process.stdout.write(`vigil replay of ${LINES.toLocaleString('en-US')} generated Combined lines (${status}; default config: audit + anomaly), ${RUNS} runs each, alternating\n`);
    for (const [name, rs] of results) {
      const perCpu = rs.map((r) => r.records / r.cpuSeconds);
      const wall = rs.map((r) => r.records / r.wallSeconds);
      process.stdout.write(
        `  ${name.padEnd(11)} ${range(perCpu.map((x) => x / 1000), 1)}k records per CPU-second (best ${Math.round(Math.max(...perCpu)).toLocaleString('en-US')}; ` +
          `CPU ${range(rs.map((r) => r.cpuSeconds), 2)} s), wall ${range(wall.map((x) => x / 1000), 1)}k records/s; ` +
          `OTLP/JSON encoder records → bytes ${range(rs.map((r) => r.encodeMicros), 2)} µs/record\n`,
      );
    }
    process.stdout.write(`  target: ≥ 50,000 records/s (20 µs per record for everything); load average now ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
