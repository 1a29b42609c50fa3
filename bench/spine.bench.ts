// The spine benchmark (issue 2): end-to-end throughput of `vigil run` under
// concurrent OTLP/gRPC load with a discard downstream, against two references
// measured in the same run:
//   - the Node ceiling for this work: protobufjs decode + encode + SHA-256 of
//     the same requests in one process;
//   - a bare grpc-js receive-and-forward relay.
// Then CPU % of one core and RSS of `vigil run` at a steady 10,000 records/s.
// Prints figures; asserts nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawClient, startDiscardServer } from './lib/grpc-raw.js';
import { benchPipelineConfig } from './lib/pipeline-config.js';
import { cpuSeconds, freePort, rssMiB } from './lib/proc.js';
import { ceilingWork, encodedRequests } from './lib/workload.js';

const RECORDS_PER_REQUEST = 512;
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 4);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 400); // per throughput run, bounded
const STEADY_SECONDS = Number(process.env.BENCH_STEADY_SECONDS ?? 20);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

const requests = encodedRequests(32, RECORDS_PER_REQUEST);

function ceiling(): number {
  const rounds = 200;
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < rounds; k++) {
    ceilingWork(requests[k % requests.length]);
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return (rounds * RECORDS_PER_REQUEST) / s;
}

async function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${buf.slice(-500)}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (pattern.test(buf)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}: ${buf.slice(-500)}`)));
  });
}

interface Load {
  recordsPerSecond: number;
  cpuPercent: number;
  rssMiB: number;
}

/** Sends REQUESTS requests from CLIENTS concurrent clients as fast as acknowledged. */
async function saturate(address: string, pid: number): Promise<Load> {
  const clients = Array.from({ length: CLIENTS }, () => new RawClient(address));
  await Promise.all(clients.map((c) => c.export(requests[0]))); // warm up connections
  let next = 0;
  let peakRss = 0;
  const cpu0 = cpuSeconds(pid);
  const t0 = process.hrtime.bigint();
  await Promise.all(
    clients.map(async (c) => {
      while (next < REQUESTS) {
        const k = next++;
        await c.export(requests[k % requests.length]);
        if (k % 20 === 0) peakRss = Math.max(peakRss, rssMiB(pid));
      }
    }),
  );
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuSeconds(pid) - cpu0;
  clients.forEach((c) => c.close());
  return { recordsPerSecond: (REQUESTS * RECORDS_PER_REQUEST) / s, cpuPercent: (100 * cpu) / s, rssMiB: Math.max(peakRss, rssMiB(pid)) };
}

/** Sends at a steady records/s rate for STEADY_SECONDS and measures the server's cost. */
async function steady(address: string, pid: number, recordsPerSecond: number): Promise<Load> {
  const client = new RawClient(address);
  await client.export(requests[0]);
  const intervalMs = (1000 * RECORDS_PER_REQUEST) / recordsPerSecond;
  const total = Math.round((STEADY_SECONDS * 1000) / intervalMs);
  const cpu0 = cpuSeconds(pid);
  const t0 = Date.now();
  let peakRss = 0;
  const inflight: Promise<unknown>[] = [];
  for (let k = 0; k < total; k++) {
    const due = t0 + k * intervalMs;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inflight.push(client.export(requests[k % requests.length]));
    if (k % 10 === 0) peakRss = Math.max(peakRss, rssMiB(pid));
  }
  await Promise.all(inflight);
  const s = (Date.now() - t0) / 1000;
  const cpu = cpuSeconds(pid) - cpu0;
  client.close();
  return { recordsPerSecond: (total * RECORDS_PER_REQUEST) / s, cpuPercent: (100 * cpu) / s, rssMiB: peakRss };
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
  const discard = await startDiscardServer();
  const children: ChildProcess[] = [];
  try {
    const ceil = ceiling();

    const relayPort = await freePort();
    const relay = spawn(process.execPath, [join(here, 'lib', 'relay.js'), String(relayPort), discard.address], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(relay);
    await waitForLine(relay, /ready/, 'relay');
    const bare = await saturate(`127.0.0.1:${relayPort}`, relay.pid!);
    relay.kill('SIGTERM');

    // Saturation and the steady rate each get a fresh `vigil run` (own data dir), so the
    // steady figures are not the high-water mark left by the saturation run.
    const startVigil = async (name: string): Promise<{ child: ChildProcess; address: string }> => {
      const grpcPort = await freePort();
      const runDir = join(dir, name);
      mkdirSync(runDir);
      const cfgPath = join(runDir, 'vigil.yaml');
      writeFileSync(cfgPath, benchPipelineConfig(runDir, grpcPort, discard.address));
      const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
      const child = spawn(process.execPath, [...profile, join(root, 'bin', 'vigil.js'), 'run', '--config', cfgPath], {
        cwd: runDir,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      await waitForLine(child, /vigil ready/, 'vigil');
      return { child, address: `127.0.0.1:${grpcPort}` };
    };
    const stopVigil = async (child: ChildProcess): Promise<void> => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    };
    const a = await startVigil('saturate');
    const full = await saturate(a.address, a.child.pid!);
    await stopVigil(a.child);
    const b = await startVigil('steady');
    const at10k = await steady(b.address, b.child.pid!, 10_000);
    await stopVigil(b.child);

    const cfgText = benchPipelineConfig(dir, 0, '-');
    const processors = /processors: \[(.*?)\]/.exec(cfgText)![1];
    const exporters = /exporters: \[(.*?)\]/.exec(cfgText)![1];
    console.log(`workload: ${CLIENTS} concurrent gRPC clients, ${REQUESTS} requests of ${RECORDS_PER_REQUEST} access-log records`);
    console.log(`vigil pipeline: otlp → [${processors}] → [${exporters}] (discard downstream)`);
    console.log('');
    console.log(`node ceiling (decode+encode+sha256, 1 core):  ${fmt(ceil)} records/s`);
    console.log(`bare grpc-js relay:                           ${fmt(bare.recordsPerSecond)} records/s  (${fmt(bare.cpuPercent)}% CPU, ${fmt(bare.rssMiB)} MiB RSS)`);
    console.log(`vigil run (full pipeline):                    ${fmt(full.recordsPerSecond)} records/s  (${fmt(full.cpuPercent)}% CPU, ${fmt(full.rssMiB)} MiB RSS)`);
    console.log(`ratios: vigil/ceiling = ${fmt(full.recordsPerSecond / ceil, 2)}  (target ≥ 0.2), vigil/relay = ${fmt(full.recordsPerSecond / bare.recordsPerSecond, 2)}; ${fmt(full.recordsPerSecond / (full.cpuPercent / 100))} records/s per core used`);
    console.log(`steady ${fmt(at10k.recordsPerSecond)} records/s: ${fmt(at10k.cpuPercent, 1)}% of one core, ${fmt(at10k.rssMiB)} MiB RSS  (targets ≤ 30%, ≤ 160 MiB)`);
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await discard.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
