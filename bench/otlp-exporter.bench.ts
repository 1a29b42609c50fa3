// The otlp_grpc exporter: how fast batches are acknowledged (enqueued; for the
// persistent queue written + fsync'd) and delivered to a discard downstream
// running in a child process, with the in-memory and the file_storage queue.
// 512-record access-log batches, several concurrent callers as the receivers
// would be. Prints records/s, consume() latency, CPU % of one core and RSS of
// this process (the exporter side only). Asserts nothing.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { otlpGrpcExporterFactory } from '../src/exporters/otlp/otlp.js';
import { FileQueueStore } from '../src/extensions/file_storage/file-queue-store.js';
import { FileStorageExtension } from '../src/extensions/file_storage/file_storage.js';
import type { Exporter, Extension, Host } from '../src/pipeline/component.js';
import { decodeProtobufRequest, requestToBatch } from '../src/otlp/convert.js';
import type { LogBatch } from '../src/pipeline/record.js';
import { Telemetry } from '../src/telemetry/metrics.js';
import { startDiscardServer } from './lib/grpc-raw.js';
import { encodedRequests } from './lib/workload.js';

const RECORDS = 512;
const BATCHES = Number(process.env.BENCH_BATCHES ?? 400);
const CALLERS = Number(process.env.BENCH_CALLERS ?? 8);
const KINDS = (process.env.BENCH_QUEUES ?? 'memory,persistent').split(',') as ('memory' | 'persistent')[];

if (process.argv[2] === '--downstream') {
  // Child: the discard downstream, reporting how many requests it took.
  const d = await startDiscardServer();
  process.send!({ address: d.address });
  setInterval(() => process.connected && process.send!({ requests: d.requests() }), 5).unref();
  process.on('disconnect', () => void d.stop().then(() => process.exit(0)));
} else {
  await main();
}

async function main(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['--downstream'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let delivered = 0;
  const address = await new Promise<string>((resolve) =>
    child.on('message', (m: { address?: string; requests?: number }) => {
      if (m.address) resolve(m.address);
      if (m.requests !== undefined) delivered = m.requests;
    }),
  );
  const batches: LogBatch[] = encodedRequests(32, RECORDS).map((b) => requestToBatch(decodeProtobufRequest(b)).records);
  if (typeof global.gc === 'function') global.gc();
  const baseRss = process.memoryUsage().rss;
  const dir = mkdtempSync(join(process.cwd(), '.bench-queue-'));
  const results: string[] = [];
  try {
    for (const kind of KINDS) {
      const before = delivered;
      const storage = new FileStorageExtension('file_storage', { directory: join(dir, kind), create_directory: true });
      await storage.start();
      const host: Host = { state: 'ready', getExtension: <T extends Extension>(id: string) => (id === 'file_storage' ? (storage as unknown as T) : undefined) };
      const config = otlpGrpcConfigFor(address, kind === 'persistent');
      const exporter = (await otlpGrpcExporterFactory.create(config, {
        id: 'otlp_grpc',
        logger: pino({ level: 'silent' }),
        telemetry: new Telemetry({ processMetrics: false }),
      })) as Exporter;
      await exporter.start!(host);

      if (typeof global.gc === 'function') global.gc();
      const latencies: number[] = [];
      let next = 0;
      let peakRss = 0;
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CALLERS }, async () => {
          while (next < BATCHES) {
            const batch = batches[next++ % batches.length];
            const s = performance.now();
            await exporter.consume(batch);
            latencies.push(performance.now() - s);
          }
        }),
      );
      const acked = performance.now() - t0;
      const deadline = Date.now() + 120_000;
      while (delivered - before < BATCHES && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      const total = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      clearInterval(sampler);
      await exporter.shutdown!(AbortSignal.timeout(10_000));
      await storage.shutdown();

      latencies.sort((a, b) => a - b);
      const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(2);
      const recs = BATCHES * RECORDS;
      results.push(
        `${kind.padEnd(10)}  acknowledged ${fmt(recs / (acked / 1000))} rec/s  delivered ${fmt(recs / (total / 1000))} rec/s` +
          `  consume() p50 ${q(0.5)} ms p99 ${q(0.99)} ms  CPU ${(((cpu.user + cpu.system) / 1000 / total) * 100).toFixed(0)}% of a core` +
          ` (${((cpu.user + cpu.system) / recs).toFixed(1)} µs/record)` +
          `  peak RSS ${(peakRss / 1024 / 1024).toFixed(0)} MiB${delivered - before < BATCHES ? '  (INCOMPLETE delivery)' : ''}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    child.disconnect();
  }
  const stores = await storeOnly(encodedRequests(1, RECORDS)[0]);
  process.stdout.write(`otlp_grpc exporter, ${BATCHES} batches of ${RECORDS} records, ${CALLERS} concurrent callers, 10 consumers, gzip:\n`);
  process.stdout.write(`  (RSS before the runs, with the ${batches.length} decoded input batches held: ${(baseRss / 1024 / 1024).toFixed(0)} MiB)\n`);
  for (const r of results) process.stdout.write(`  ${r}\n`);
  process.stdout.write(`file_storage enqueue alone (write + fdatasync + directory fsync), ${stores.kib} KiB batches:\n`);
  for (const l of stores.lines) process.stdout.write(`  ${l}\n`);
}

/** Durable enqueues per second, one at a time and concurrent (where directory fsyncs are grouped). */
async function storeOnly(payload: Uint8Array): Promise<{ kib: number; lines: string[] }> {
  const dir = mkdtempSync(join(process.cwd(), '.bench-store-'));
  const quiet = pino({ level: 'silent' });
  const lines: string[] = [];
  try {
    const store = await FileQueueStore.open(join(dir, 'q'), quiet);
    await store.recover();
    for (const concurrency of [1, 8]) {
      const n = 200;
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next++ < n) await store.remove(await store.put(payload, RECORDS));
        }),
      );
      const s = (performance.now() - t0) / 1000;
      lines.push(`concurrency ${concurrency}: ${fmt(n / s)} enqueues/s (${fmt((n * RECORDS) / s)} records/s)`);
    }
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { kib: Math.round(payload.length / 1024), lines };
}

function otlpGrpcConfigFor(address: string, persistent: boolean) {
  return otlpGrpcExporterFactory.configSchema.parse({
    endpoint: address,
    tls: { insecure: true },
    sending_queue: persistent ? { storage: 'file_storage' } : {},
  });
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
