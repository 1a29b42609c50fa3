// Where a record's CPU goes, stage by stage, in one process and without I/O:
// the product pipeline's pure work on the spine benchmark's 512-record access-log
// requests (protobuf decode, audit, anomaly with its ten default detectors, the
// archive's entry payloads (format v2: each record's one-record protobuf request) and
// hash-chained frames, the otlp exporter's protobuf
// encode), next to the spine's Node ceiling (decode + encode + SHA-256 of the
// request as received). Their ratio bounds what `vigil run` can reach on one
// core before any gRPC, fsync or GC from concurrency is added.
//
// Also the cost of handing a record to another thread (structured clone, as
// postMessage does): only bytes cross threads cheaply, and this says whether
// moving a stage to a worker could pay for itself.
//
// Beside the stages, the wire path against the object path on the same requests
// and enriched batches (issue 12): the wire decoder (frames kept; attributes and
// bodies left undecoded until read, or decoded at once as the receiver does for
// a pipeline whose processors read every record, as the stages above do) against
// protobufjs's decode, with every record read, each mode of the wire decoder read
// in full, a pipeline without processors as it runs and with its records read first, splice encoding against protobufjs's encoding of the
// objects, for a batch and for one record alone (a v2 archive entry's payload).
//
// Best of several passes (noise from other work only adds time). Prints figures;
// asserts nothing.
import { deserialize, serialize } from 'node:v8';
import { GENESIS_HASH } from '../src/exporters/worm/entry.js';
import { KIND_RECORD, encodeFrame } from '../src/exporters/worm/frame.js';
import { batchToRequest, decodeProtobufRequest, encodeBatchProtobuf, encodeProtobufRequest, encodeRecordRequest, encodeRecordRequests, requestToBatch } from '../src/otlp/convert.js';
import { decodeProtobufBatch } from '../src/otlp/wire-decode.js';
import type { LogBatch } from '../src/pipeline/record.js';
import { anomalyConfigSchema } from '../src/processors/anomaly/config.js';
import { AnomalyProcessor } from '../src/processors/anomaly/processor.js';
import { auditConfigSchema } from '../src/processors/audit/config.js';
import { createAuditProcessor } from '../src/processors/audit/processor.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { Telemetry } from '../src/telemetry/metrics.js';
import { ceilingWork, encodedRequests } from './lib/workload.js';

const RECORDS = 512;
const PASSES = Number(process.env.BENCH_STAGES_PASSES ?? 8);
const BATCHES_PER_PASS = 40;
const requests = encodedRequests(32, RECORDS);

const audit = createAuditProcessor(auditConfigSchema.parse({}), 'audit', silentLogger(), new Telemetry());
const anomaly = new AnomalyProcessor('anomaly', anomalyConfigSchema.parse({}), silentLogger(), new Telemetry());

const STAGES = ['decode', 'audit', 'anomaly', 'archive payloads', 'archive entry + hash', 'protobuf encode'] as const;
type Stage = (typeof STAGES)[number];
const PATHS = [
  'decode: wire',
  'decode: protobufjs',
  'decode + read: wire',
  'decode + read: protobufjs',
  'decode + read: wire, eager',
  'decode + read: wire, lazy',
  'no processors: as is',
  'no processors: read',
  'batch encode: splice',
  'batch encode: objects',
  'record request: splice',
  'record request: objects',
] as const;
type Figure = Stage | (typeof PATHS)[number] | 'ceiling' | 'clone out' | 'clone in';
const best = new Map<Figure, number>();
const keep = (k: Figure, us: number) => best.set(k, Math.min(best.get(k) ?? Infinity, us));

/** Reads every record's attributes and body (decoding them, for records the wire decoder left undecoded). */
let touched = 0;
function readAll(batch: LogBatch): LogBatch {
  for (const r of batch) touched += r.log.attributes.length + (r.log.body == null ? 0 : 1);
  return batch;
}

function archiveAndForward(batch: LogBatch): void {
  encodeRecordRequests(batch);
  encodeBatchProtobuf(batch);
}

let prev: Uint8Array = Buffer.from(GENESIS_HASH, "hex");
let seq = 0;
let k = 0;
let lastBatch: LogBatch = [];
const enriched: LogBatch[] = [];
for (let pass = 0; pass < PASSES; pass++) {
  const spent = new Map<Stage, number>(STAGES.map((s) => [s, 0]));
  let t = performance.now();
  const lap = (s: Stage) => {
    const now = performance.now();
    spent.set(s, spent.get(s)! + now - t);
    t = now;
  };
  for (let b = 0; b < BATCHES_PER_PASS; b++, k++) {
    t = performance.now();
    // Decoded at once, as the receiver does for a pipeline whose processors read every record.
    let batch = decodeProtobufBatch(requests[k % requests.length], true).records;
    lap('decode');
    batch = audit.process(batch);
    lap('audit');
    batch = await anomaly.process(batch);
    lap('anomaly');
    const { bytes, ends } = encodeRecordRequests(batch);
    lap('archive payloads');
    for (let i = 0; i < ends.length; i++) prev = encodeFrame(KIND_RECORD, ++seq, 0, prev, bytes.subarray(ends[i - 1] ?? 0, ends[i])).raw;
    lap('archive entry + hash');
    encodeBatchProtobuf(batch);
    lap('protobuf encode');
    lastBatch = batch;
    enriched[b] = batch;
  }
  if (pass === 0) continue; // warm-up
  const n = BATCHES_PER_PASS * RECORDS;
  for (const s of STAGES) keep(s, (1000 * spent.get(s)!) / n);

  let t0 = performance.now();
  for (let b = 0; b < BATCHES_PER_PASS; b++) ceilingWork(requests[b % requests.length]);
  keep('ceiling', (1000 * (performance.now() - t0)) / n);

  // The wire path against the object path, on the same requests and enriched batches.
  const timed = (f: Figure, run: (b: number) => void) => {
    const t0 = performance.now();
    for (let b = 0; b < BATCHES_PER_PASS; b++) run(b);
    keep(f, (1000 * (performance.now() - t0)) / n);
  };
  // Each pair in both orders across passes, so neither side always pays for the other's garbage.
  const pair = (a: [Figure, (b: number) => void], b: [Figure, (b: number) => void]) => {
    for (const [f, run] of pass % 2 === 0 ? [a, b] : [b, a]) timed(f, run);
  };
  pair(['decode: wire', (b) => decodeProtobufBatch(requests[b % requests.length])], ['decode: protobufjs', (b) => requestToBatch(decodeProtobufRequest(requests[b % requests.length]))]);
  // Every record read: the wire decoder as the receiver uses it for such a pipeline (eager), against protobufjs; then its two modes.
  pair(['decode + read: wire', (b) => readAll(decodeProtobufBatch(requests[b % requests.length], true).records)], ['decode + read: protobufjs', (b) => readAll(requestToBatch(decodeProtobufRequest(requests[b % requests.length])).records)]);
  pair(['decode + read: wire, eager', (b) => readAll(decodeProtobufBatch(requests[b % requests.length], true).records)], ['decode + read: wire, lazy', (b) => readAll(decodeProtobufBatch(requests[b % requests.length]).records)]);
  // An archive-and-forward pipeline (no processors): decode, the archive's payloads, the otlp exporter's request; as is, and with every record read first (what it cost when decode built everything).
  pair(['no processors: as is', (b) => archiveAndForward(decodeProtobufBatch(requests[b % requests.length]).records)], ['no processors: read', (b) => archiveAndForward(readAll(decodeProtobufBatch(requests[b % requests.length]).records))]);
  pair(['batch encode: splice', (b) => encodeBatchProtobuf(enriched[b])], ['batch encode: objects', (b) => encodeProtobufRequest(batchToRequest(enriched[b]))]);
  pair(
    ['record request: splice', (b) => enriched[b].forEach((r) => encodeRecordRequest(r))],
    ['record request: objects', (b) => enriched[b].forEach((r) => encodeProtobufRequest(batchToRequest([r])))],
  );

  const logs = lastBatch.map((r) => r.log);
  t0 = performance.now();
  const cloned = serialize(logs);
  const t1 = performance.now();
  deserialize(cloned);
  keep('clone out', (1000 * (t1 - t0)) / RECORDS);
  keep('clone in', (1000 * (performance.now() - t1)) / RECORDS);
}

const us = (x: number) => `${x.toFixed(1).padStart(6)} µs`;
let total = 0;
console.log(`per record, best of ${PASSES - 1} passes of ${BATCHES_PER_PASS} × ${RECORDS}-record requests, one thread, no I/O:`);
for (const s of STAGES) {
  total += best.get(s)!;
  console.log(`  ${s.padEnd(22)}${us(best.get(s)!)}`);
}
const ceiling = best.get('ceiling')!;
console.log(`  ${'pipeline total'.padEnd(22)}${us(total)}   = ${(1e6 / total).toFixed(0)} records/s on one core`);
console.log(`  ${'node ceiling'.padEnd(22)}${us(ceiling)}   = ${(1e6 / ceiling).toFixed(0)} records/s (decode + encode + SHA-256 of the request as received)`);
console.log(`  ratio pipeline/ceiling (an upper bound for vigil run on one core): ${(ceiling / total).toFixed(2)}`);
const objectTotal = total - best.get('decode')! - best.get('protobuf encode')! + best.get('decode: protobufjs')! + best.get('batch encode: objects')!;
console.log(`  ${'pipeline, object path'.padEnd(22)}${us(objectTotal)}   (the same with protobufjs decode and encode in place of the wire path's)`);
console.log('wire path vs object path, per record, same requests and enriched batches:');
for (let i = 0; i < PATHS.length; i += 2) {
  const [a, b] = [best.get(PATHS[i])!, best.get(PATHS[i + 1])!];
  console.log(`  ${PATHS[i].padEnd(26)}${us(a)}   ${PATHS[i + 1].padEnd(26)}${us(b)}   ×${(a / b).toFixed(2)}`);
}
console.log(`  structured clone of an enriched record (to hand it to another thread): ${us(best.get('clone out')!)} out + ${us(best.get('clone in')!)} in`);
if (touched === 0) console.log('(no record had attributes or a body)');
process.exit(0);
