// The fan-out's copy for a mutating consumer (src/pipeline/clone.ts), per record,
// on the spine benchmark's 512-record access-log requests, for each build named in
// BENCH_BUILDS (name=dir with dist/, e.g. main=/tmp/main-build,this=.; default:
// this one), builds interleaved pass by pass so they share the machine's load.
// For the receiver's batch as it comes (decoded lazily, or at once for a pipeline
// that reads every record), each with: the copy alone; the copy then every
// record's attributes read (what a processor such as audit does first); the copy
// with an attribute appended to each record and encoded as the otlp exporter
// encodes (a raw copy forwarded); and the original's encoding after the copy (a
// copy that decodes the original leaves it to be encoded from its objects).
//
//   BENCH_BUILDS  BENCH_PASSES (default 7)
//
// Best of the passes, µs per record (noise only adds time). Prints figures; asserts nothing.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodedRequests } from './lib/workload.js';

type Batch = { log: { attributes: unknown[] } }[];
interface Build {
  name: string;
  cloneBatch(batch: Batch, eager?: boolean): Batch;
  decodeProtobufBatch(bytes: Uint8Array, eager?: boolean): { records: Batch };
  encodeBatchProtobuf(batch: Batch): Uint8Array;
  appendAttribute(log: unknown, kv: unknown): void;
}

const here = dirname(fileURLToPath(import.meta.url));
const PASSES = Number(process.env.BENCH_PASSES ?? 7);
const requests = encodedRequests(8, 512);
const RECORDS = requests.length * 512;

async function load(name: string, dir: string): Promise<Build> {
  const src = join(dir, 'dist', 'src');
  const clone = await import(join(src, 'pipeline', 'clone.js'));
  const wire = await import(join(src, 'otlp', 'wire-decode.js'));
  const convert = await import(join(src, 'otlp', 'convert.js'));
  const record = await import(join(src, 'pipeline', 'record.js'));
  return { name, cloneBatch: clone.cloneBatch, decodeProtobufBatch: wire.decodeProtobufBatch, encodeBatchProtobuf: convert.encodeBatchProtobuf, appendAttribute: record.appendAttribute };
}

function builds(): Promise<Build[]> {
  const spec = process.env.BENCH_BUILDS ?? `this=${join(here, '..', '..')}`;
  return Promise.all(spec.split(',').map((s) => s.split('=')).map(([name, dir]) => load(name, resolve(dir))));
}

/** What is timed for one batch: everything after `prepare` (the receiver's decode, untimed). */
type Case = { name: string; eager: boolean; run(b: Build, batch: Batch): void };

const tag = { key: 'fanout.tag', value: { stringValue: 'x' } };
const cases: Case[] = [];
for (const eager of [false, true]) {
  const decoded = eager ? 'decoded at once' : 'decoded lazily';
  cases.push(
    { name: `${decoded}: copy`, eager, run: (b, batch) => void b.cloneBatch(batch) },
    {
      name: `${decoded}: copy, then read every record`,
      eager,
      run: (b, batch) => {
        for (const r of b.cloneBatch(batch)) void r.log.attributes.length;
      },
    },
    {
      name: `${decoded}: copy, append one, encode it`,
      eager,
      run: (b, batch) => {
        const copy = b.cloneBatch(batch);
        for (const r of copy) b.appendAttribute(r.log, tag);
        b.encodeBatchProtobuf(copy);
      },
    },
    {
      name: `${decoded}: copy, then encode the original`,
      eager,
      run: (b, batch) => {
        b.cloneBatch(batch);
        b.encodeBatchProtobuf(batch);
      },
    },
  );
}

function time(b: Build, c: Case): number {
  const batches = requests.map((q) => b.decodeProtobufBatch(q, c.eager).records);
  const t0 = process.hrtime.bigint();
  for (const batch of batches) c.run(b, batch);
  return Number(process.hrtime.bigint() - t0) / 1e3 / RECORDS;
}

const list = await builds();
console.log(`cloneBatch per record, ${RECORDS} access-log records in ${requests.length} requests, best of ${PASSES} passes (builds interleaved)`);
for (const c of cases) {
  const best = new Map(list.map((b) => [b.name, Infinity]));
  for (let p = 0; p < PASSES; p++) {
    for (const b of p % 2 ? [...list].reverse() : list) best.set(b.name, Math.min(best.get(b.name)!, time(b, c)));
  }
  console.log(`  ${c.name.padEnd(48)} ${list.map((b) => `${b.name} ${best.get(b.name)!.toFixed(2)} µs`).join('   ')}`);
}
