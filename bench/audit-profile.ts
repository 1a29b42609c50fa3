// A bounded run of the audit processor alone on the stages benchmark's wire-decoded
// access-log requests, for `node --cpu-prof dist/bench/audit-profile.js` (profile
// the stage without the rest of the pipeline) and for a quick µs/record figure.
// BENCH_AUDIT_PSEUDO=1 turns pseudonymisation on. BENCH_AUDIT_ALLOC=1 instead
// reports the bytes the stage allocates per record (V8's sampling heap profiler,
// counting objects already collected too: unlike CPU time, the figure does not
// move with the machine's load) and the functions that allocate them, the
// attributes and body the wire decoder decodes when audit first reads them
// included. Prints figures; asserts nothing.
import { Session } from 'node:inspector/promises';
import { decodeProtobufBatch } from '../src/otlp/wire-decode.js';
import type { LogBatch } from '../src/pipeline/record.js';
import { auditConfigSchema } from '../src/processors/audit/config.js';
import { createAuditProcessor } from '../src/processors/audit/processor.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { Telemetry } from '../src/telemetry/metrics.js';
import { encodedRequests } from './lib/workload.js';

const RECORDS = 512;
const BATCHES = Number(process.env.BENCH_AUDIT_BATCHES ?? 400);
const PASSES = Number(process.env.BENCH_AUDIT_PASSES ?? 5);
process.env.VIGIL_BENCH_PSEUDONYM_KEY ??= 'bench-key-0123456789abcdef0123456789';
const pseudo = process.env.BENCH_AUDIT_PSEUDO === '1';
const config = pseudo ? { pseudonymisation: { key_env: 'VIGIL_BENCH_PSEUDONYM_KEY' } } : {};
const audit = createAuditProcessor(auditConfigSchema.parse(config), 'audit', silentLogger(), new Telemetry({ processMetrics: false }));
const requests = encodedRequests(32, RECORDS);

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

/** Bytes allocated per record by audit.process, by function (the batches are decoded before sampling starts). */
async function allocation(): Promise<void> {
  const batches = 100;
  for (let b = 0; b < 64; b++) audit.process(decodeProtobufBatch(requests[b % requests.length]).records); // warm up
  const decoded: LogBatch[] = [];
  for (let b = 0; b < batches; b++) decoded.push(decodeProtobufBatch(requests[b % requests.length]).records);
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 128, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  for (const batch of decoded) audit.process(batch);
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: SamplingNode } };
  session.disconnect();
  const byFunction = new Map<string, number>();
  let total = 0;
  const walk = (n: SamplingNode): void => {
    if (n.selfSize > 0) {
      const f = n.callFrame;
      const name = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
      byFunction.set(name, (byFunction.get(name) ?? 0) + n.selfSize);
      total += n.selfSize;
    }
    for (const c of n.children) walk(c);
  };
  walk(profile.head);
  const perRecord = (bytes: number) => bytes / (batches * RECORDS);
  console.log(`audit: ${(perRecord(total) / 1024).toFixed(2)} KiB allocated per record${pseudo ? ', pseudonymised' : ''} (sampled over ${batches} × ${RECORDS} records); by function:`);
  for (const [name, bytes] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${perRecord(bytes).toFixed(0).padStart(5)} B  ${name}`);
}

function cpu(): void {
  let best = Infinity;
  for (let pass = 0; pass < PASSES; pass++) {
    let spent = 0;
    for (let b = 0; b < BATCHES; b++) {
      const batch = decodeProtobufBatch(requests[b % requests.length]).records;
      const t0 = performance.now();
      audit.process(batch);
      spent += performance.now() - t0;
    }
    if (pass > 0) best = Math.min(best, (1000 * spent) / (BATCHES * RECORDS));
  }
  console.log(`audit: ${best.toFixed(2)} µs/record (best of ${PASSES - 1} passes of ${BATCHES} × ${RECORDS} records${pseudo ? ', pseudonymised' : ''})`);
}

if (process.env.BENCH_AUDIT_ALLOC === '1') await allocation();
else cpu();
