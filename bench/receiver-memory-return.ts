// Does memory come back after a stalled-request attack on the otlp receiver,
// and does forcing a collection help? Run by hand (prints figures, asserts
// nothing):  npm run build && node [--expose-gc] dist/bench/receiver-memory-return.js
// (VIA=grpc|http|both, BUDGET_MIB=256)
// A child process plays the attacker: it opens stalled gRPC streams and HTTP
// bodies until the in-flight budget is spent, then disconnects. This process
// runs the receiver and reports its memory at baseline, with the budget spent,
// once the budget has drained to zero, and while idling after that. Compare a
// run without --expose-gc (nothing forces a collection) with one with it (the
// receiver collects when the burst drains: reclaim.ts), and with
// GLIBC_TUNABLES=glibc.malloc.mmap_threshold=16384 (freed buffers are unmapped).
import { fork } from 'node:child_process';
import http from 'node:http';
import http2 from 'node:http2';
import { z } from 'zod';
import { validateConfig } from '../src/config/load.js';
import { EXPORT_METHOD_PATH } from '../src/otlp/schema.js';
import type { AnyFactory, ExporterFactory } from '../src/pipeline/component.js';
import { Service } from '../src/pipeline/service.js';
import { type OtlpReceiver, otlpReceiverFactory } from '../src/receivers/otlp/otlp.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { Telemetry } from '../src/telemetry/metrics.js';

const BUDGET_MIB = Number(process.env.BUDGET_MIB ?? 256);
const CHUNK = 64 * 1024;
/** Which protocols the attacker uses: grpc, http or both. */
const VIA = process.env.VIA ?? 'both';

/** Opens stalled streams and bodies (each promising 16 MiB, sending chunks until refused), reports, then waits to be killed. */
async function attack(grpcAddress: string, httpAddress: string): Promise<void> {
  const chunk = Buffer.alloc(CHUNK, 1);
  const session = http2.connect(`http://${grpcAddress}`);
  const sent = { grpc: 0, http: 0 };
  const streams = Array.from({ length: 64 }, () => {
    const s = session.request({ ':method': 'POST', ':path': EXPORT_METHOD_PATH, 'content-type': 'application/grpc' });
    s.on('error', () => undefined);
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(16 * 1024 * 1024, 1); // a 16 MiB message that never completes
    s.write(prefix);
    return s;
  });
  const bodies = Array.from({ length: 64 }, () => {
    const [host, port] = httpAddress.split(':');
    const req = http.request({ host, port: Number(port), method: 'POST', path: '/v1/logs', headers: { 'content-type': 'application/x-protobuf', 'content-length': 16 * 1024 * 1024 } });
    req.on('error', () => undefined);
    return req;
  });
  // The budget through each protocol used (half each for both), round-robin, 64 KiB at a time.
  const share = (BUDGET_MIB * 1024 * 1024) / (VIA === 'both' ? 2 : 1);
  const half = { grpc: VIA === 'http' ? 0 : share, http: VIA === 'grpc' ? 0 : share };
  for (let i = 0; sent.grpc < half.grpc; i++) {
    streams[i % streams.length].write(chunk);
    sent.grpc += CHUNK;
  }
  for (let i = 0; sent.http < half.http; i++) {
    bodies[i % bodies.length].write(chunk);
    sent.http += CHUNK;
  }
  process.send!({ sent });
  await new Promise(() => undefined);
}

const discard: ExporterFactory<Record<string, never>> = {
  kind: 'exporter',
  type: 'discard',
  configSchema: z.object({}).strict(),
  create: () => ({ consume: async () => undefined }),
};

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MiB`;
function sample(label: string): void {
  const m = process.memoryUsage();
  console.log(`${label.padEnd(44)} rss ${mib(m.rss).padStart(8)}  heapUsed ${mib(m.heapUsed).padStart(7)}  external+arrayBuffers ${mib(m.external).padStart(7)}`);
}
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 50));
}
const idle = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  console.log(gc ? 'node --expose-gc: the receiver forces a collection when the burst drains' : 'without --expose-gc: nothing forces a collection');
  const registry = new Map<string, AnyFactory>([otlpReceiverFactory, discard].map((f) => [`${f.kind}:${f.type}`, f as AnyFactory]));
  const config = validateConfig(
    {
      receivers: { otlp: { max_inflight_bytes: `${BUDGET_MIB}MiB`, protocols: { grpc: { endpoint: '127.0.0.1:0', max_recv_msg_size_mib: 32 }, http: { endpoint: '127.0.0.1:0', max_request_body_size: '32MiB' } } } },
      exporters: { discard: {} },
      service: { telemetry: { metrics: { address: null } }, pipelines: { logs: { receivers: ['otlp'], exporters: ['discard'] } } },
    },
    registry,
  );
  const service = await Service.build(config, silentLogger(), new Telemetry({ processMetrics: false }));
  await service.start();
  const receiver = service.receivers[0].instance as OtlpReceiver;
  const g = receiver.grpcAddress();
  const h = receiver.httpAddress();
  gc?.();
  sample('baseline');
  let peak = 0;
  const attacker = fork(new URL(import.meta.url).pathname, ['attacker', g!, h!], { env: { ...process.env, BUDGET_MIB: String(BUDGET_MIB) } });
  await new Promise((r) => attacker.once('message', r));
  await until(() => ((peak = Math.max(peak, receiver.budget.used)), receiver.budget.used >= receiver.budget.limit * 0.9 || attacker.exitCode !== null));
  await idle(1000);
  console.log(`budget used ${mib(receiver.budget.used)} of ${mib(receiver.budget.limit)}`);
  sample('attack: budget spent');
  attacker.kill('SIGKILL');
  await until(() => receiver.budget.used === 0);
  sample('attacker gone, budget back to 0');
  for (const t of [1, 5, 10]) {
    await idle(t === 1 ? 1000 : (t === 5 ? 4000 : 5000));
    sample(`${t} s later`);
  }
  await service.shutdown();
}

if (process.argv[2] === 'attacker') await attack(process.argv[3], process.argv[4]);
else await measure();
