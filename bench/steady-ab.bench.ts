// Steady-rate A/B benchmark: the spine's steady phase (one gRPC client sending
// 512-record access-log requests at a fixed rate to the full pipeline: audit,
// anomaly → worm with fsync + otlp_grpc with a persistent queue, discard
// downstream) against several builds in turn, rounds interleaved, so a change
// is compared with its baseline under the same machine load.
//
//   BENCH_BUILDS=before=/tmp/b,after=.   builds to compare (a checkout or copy with bin/ and dist/); default: this one
//   BENCH_ROUNDS (default 3 with several builds, 1 with one)  BENCH_STEADY_SECONDS=15  BENCH_RATE=10000
//   BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/p'   node flags for the `vigil run` child (profiles, --trace-gc)
//   BENCH_PROCESSORS=audit,anomaly  BENCH_EXPORTERS=worm,otlp_grpc   a subset, to isolate a stage's cost ('' for none)
//   BENCH_GC=1   also run the child with --trace-gc-nvp and report, over the steady window, bytes allocated and
//                promoted per record and the collector's pause time (less noisy than CPU on a shared machine)
//   BENCH_CHILD_STDOUT=file   append the child's stdout (e.g. --trace-gc lines) to a file
//
// Per run: idle RSS after start-up, the rate reached, CPU % of one core, CPU µs per record, mean and
// peak RSS under load. Prints figures; asserts nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawClient, startDiscardServer } from './lib/grpc-raw.js';
import { benchPipelineConfig } from './lib/pipeline-config.js';
import { cpuSeconds, freePort, rssMiB } from './lib/proc.js';
import { encodedRequests } from './lib/workload.js';

const RECORDS_PER_REQUEST = 512;
const SECONDS = Number(process.env.BENCH_STEADY_SECONDS ?? 15);
const RATE = Number(process.env.BENCH_RATE ?? 10_000);
const GC = process.env.BENCH_GC === '1';
const nodeArgs = [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), ...(GC ? ['--trace-gc-nvp'] : [])];

/** Totals of the collector's --trace-gc-nvp lines seen so far. */
class GcTotals {
  pauseMs = 0;
  allocated = 0;
  promoted = 0;
  scavenges = 0;
  marks = 0;
  private rest = '';
  feed(chunk: string): void {
    const lines = (this.rest + chunk).split('\n');
    this.rest = lines.pop()!;
    for (const line of lines) {
      const gc = /\bgc=(\w+)/.exec(line);
      if (!gc) continue;
      const num = (k: string) => Number(new RegExp(`\\b${k}=([\\d.]+)`).exec(line)?.[1] ?? 0);
      this.pauseMs += num('pause');
      this.allocated += num('allocated');
      this.promoted += num('promoted');
      if (gc[1] === 's') this.scavenges++;
      else this.marks++;
    }
  }
  copy(): GcTotals {
    return Object.assign(new GcTotals(), this);
  }
}
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

const requests = encodedRequests(32, RECORDS_PER_REQUEST);

function builds(): [string, string][] {
  const spec = process.env.BENCH_BUILDS;
  if (!spec) return [['this', root]];
  return spec.split(',').map((s) => {
    const [name, dir] = s.split('=');
    return [name, resolve(dir)];
  });
}

async function waitReady(child: ChildProcess, gc: GcTotals): Promise<void> {
  await new Promise<void>((ok, fail) => {
    let buf = '';
    const timer = setTimeout(() => fail(new Error(`vigil did not start: ${buf.slice(-500)}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      if (process.env.BENCH_CHILD_STDOUT) appendFileSync(process.env.BENCH_CHILD_STDOUT, d);
      const text = d.toString();
      if (GC) gc.feed(text);
      buf = (buf + text).slice(-4000);
      if (/vigil ready/.test(buf)) {
        clearTimeout(timer);
        ok();
      }
    });
    child.once('exit', (code) => fail(new Error(`vigil exited with ${code}: ${buf.slice(-500)}`)));
  });
}

interface Run {
  /** Export round trip (sent → acknowledged, i.e. archived and queued with fsync), ms. */
  p50: number;
  p99: number;
  idle: number;
  rate: number;
  cpu: number;
  usPerRecord: number;
  meanRss: number;
  peakRss: number;
  /** Over the steady window, with BENCH_GC: bytes allocated and promoted per record, GC pause ms per second, collections. */
  gc?: { allocatedPerRecord: number; promotedPerRecord: number; pauseMsPerSecond: number; scavenges: number; marks: number };
}

async function once(build: string, dir: string, downstream: string): Promise<Run> {
  mkdirSync(dir);
  const port = await freePort();
  const cfg = join(dir, 'vigil.yaml');
  writeFileSync(cfg, benchPipelineConfig(dir, port, downstream));
  const child = spawn(process.execPath, [...nodeArgs, join(build, 'bin', 'vigil.js'), 'run', '--config', cfg], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const gc = new GcTotals();
    await waitReady(child, gc);
    await new Promise((r) => setTimeout(r, 1000));
    const idle = rssMiB(child.pid!);
    const client = new RawClient(`127.0.0.1:${port}`);
    await client.export(requests[0]);
    const intervalMs = (1000 * RECORDS_PER_REQUEST) / RATE;
    const total = Math.round((SECONDS * 1000) / intervalMs);
    const cpu0 = cpuSeconds(child.pid!);
    const gc0 = gc.copy();
    const t0 = Date.now();
    let peak = 0;
    let sum = 0;
    let n = 0;
    const inflight: Promise<unknown>[] = [];
    const latencies: number[] = [];
    for (let k = 0; k < total; k++) {
      const wait = t0 + k * intervalMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const sent = Date.now();
      inflight.push(client.export(requests[k % requests.length]).then(() => latencies.push(Date.now() - sent)));
      if (k % 5 === 0) {
        const r = rssMiB(child.pid!);
        peak = Math.max(peak, r);
        sum += r;
        n++;
      }
    }
    await Promise.all(inflight);
    const s = (Date.now() - t0) / 1000;
    const cpu = cpuSeconds(child.pid!) - cpu0;
    client.close();
    const records = total * RECORDS_PER_REQUEST;
    latencies.sort((a, b) => a - b);
    const run: Run = { p50: latencies[latencies.length >> 1], p99: latencies[Math.floor(latencies.length * 0.99)], idle, rate: records / s, cpu: (100 * cpu) / s, usPerRecord: (1e6 * cpu) / records, meanRss: sum / n, peakRss: peak };
    if (GC) {
      run.gc = {
        allocatedPerRecord: (gc.allocated - gc0.allocated) / records,
        promotedPerRecord: (gc.promoted - gc0.promoted) / records,
        pauseMsPerSecond: (gc.pauseMs - gc0.pauseMs) / s,
        scavenges: gc.scavenges - gc0.scavenges,
        marks: gc.marks - gc0.marks,
      };
    }
    return run;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
  }
}

const f = (n: number, d = 0) => n.toFixed(d);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-steady-ab-'));
  const discard = await startDiscardServer();
  const list = builds();
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (list.length > 1 ? 3 : 1));
  const results = new Map<string, Run[]>(list.map(([name]) => [name, []]));
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, build] of round % 2 ? [...list].reverse() : list) {
        const r = await once(build, join(dir, `${name}-${round}`), discard.address);
        results.get(name)!.push(r);
        console.log(
          `round ${round} ${name.padEnd(8)} idle ${f(r.idle)} MiB | ${f(r.rate)} rec/s | ${f(r.cpu, 1)}% CPU | ${f(r.usPerRecord, 1)} µs/rec | RSS mean ${f(r.meanRss)} peak ${f(r.peakRss)} MiB | ack p50 ${r.p50} p99 ${r.p99} ms` +
            (r.gc ? ` | GC: ${f(r.gc.allocatedPerRecord / 1024, 1)} KiB allocated, ${f(r.gc.promotedPerRecord)} B promoted per record, pauses ${f(r.gc.pauseMsPerSecond, 1)} ms/s, ${r.gc.scavenges} scavenges, ${r.gc.marks} mark-compacts` : '') +
            ` | load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`,
        );
      }
    }
    console.log('');
    for (const [name, runs] of results) {
      const range = (k: Exclude<keyof Run, 'gc'>, d = 0) => `${f(Math.min(...runs.map((r) => r[k])), d)}–${f(Math.max(...runs.map((r) => r[k])), d)}`;
      console.log(`${name.padEnd(8)} idle ${range('idle')} MiB, CPU ${range('cpu', 1)} %, ${range('usPerRecord', 1)} µs/record, RSS mean ${range('meanRss')} peak ${range('peakRss')} MiB`);
    }
  } finally {
    await discard.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
