// The WORM archive's costs, for both entry formats (v2 `encoding: proto`, v1
// `encoding: json`) side by side in one run: the per-record cost of building
// entries, append throughput with fsync group commit, seal cost, `verify`
// throughput on local files (MB/s of segment data), upload throughput to S3
// (the local radosgw when S3_ENDPOINT is set). Figures are printed; nothing is asserted.
//   npm run bench -- worm          (WORM_BENCH_VERIFY_MB: segment data per format for verify, default 128)
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { wormConfigSchema } from '../src/exporters/worm/config.js';
import { RecordJsonEncoder, encodeEntry, recordPayload, GENESIS_HASH } from '../src/exporters/worm/entry.js';
import { KIND_RECORD, encodeFrame } from '../src/exporters/worm/frame.js';
import { parseSegmentFileName } from '../src/exporters/worm/layout.js';
import { encodeBatchProtobuf, encodeRecordRequest } from '../src/otlp/convert.js';
import { decodeProtobufBatch } from '../src/otlp/wire-decode.js';
import { loadPublicKeys } from '../src/exporters/worm/keys.js';
import { createS3Client } from '../src/exporters/worm/s3.js';
import { LocalSource } from '../src/exporters/worm/source.js';
import { verifyArchive } from '../src/exporters/worm/verify.js';
import { WormExporter } from '../src/exporters/worm/worm.js';
import { type LogBatch, type ResourceContext, type ScopeContext, anyValue, appendAttribute, intAttribute, millisToNanos } from '../src/pipeline/record.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { Telemetry } from '../src/telemetry/metrics.js';

const resource: ResourceContext = {
  resource: {
    attributes: [
      { key: 'service.name', value: { stringValue: 'storefront' } },
      { key: 'deployment.environment.name', value: { stringValue: 'production' } },
      { key: 'k8s.pod.name', value: { stringValue: 'storefront-7c9f8d5b6-x2x9q' } },
    ],
  },
  schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
};
const scope: ScopeContext = { scope: { name: 'access', version: '1.0.0' }, schemaUrl: '' };
const PATHS = ['/api/cart', '/api/items/{id}', '/login', '/api/orders/{id}', '/static/app.js', '/api/search'];
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36', 'curl/8.5.0', 'okhttp/4.12.0'];

/**
 * Access-log records as `vigil run` hands them to the worm: decoded from the wire (so they
 * remember their bytes and take the splice path), then enriched by appending attributes, as
 * the audit and anomaly processors do (~900 bytes of canonical JSON each).
 */
function batch(n: number, start: number): LogBatch {
  const received = receivedBatch(n, start);
  const records = decodeProtobufBatch(encodeBatchProtobuf(received)).records;
  records.forEach((rec) => {
    const status = intAttribute(rec.log.attributes, 'http.response.status_code') ?? 200;
    appendAttribute(rec.log.attributes, { key: 'audit.record_id', value: anyValue(randomBytes(12).toString('base64url')) });
    appendAttribute(rec.log.attributes, { key: 'audit.outcome', value: anyValue(status < 400 ? 'success' : 'failure') });
    appendAttribute(rec.log.attributes, { key: 'audit.action', value: anyValue('read') });
    appendAttribute(rec.log.attributes, { key: 'anomaly.score', value: anyValue(Math.round(Math.random() * 1000) / 1000) });
  });
  return records;
}

/** The records as the sender wrote them. */
function receivedBatch(n: number, start: number): LogBatch {
  const out: LogBatch = [];
  for (let i = 0; i < n; i++) {
    const k = start + i;
    const t = Date.UTC(2026, 2, 1) + k * 7;
    const path = PATHS[k % PATHS.length].replace('{id}', String(k % 9973));
    const status = k % 17 === 0 ? 500 : k % 5 === 0 ? 404 : 200;
    out.push({
      resource,
      scope,
      log: {
        timeUnixNano: millisToNanos(t),
        observedTimeUnixNano: millisToNanos(t + 3),
        severityNumber: 9,
        severityText: 'INFO',
        body: { stringValue: `10.${k % 251}.${k % 13}.${k % 7} - u${k % 997} [01/Mar/2026:09:00:00 +0000] "GET ${path} HTTP/1.1" ${status} ${k % 4096}` },
        attributes: [
          { key: 'http.request.method', value: anyValue('GET') },
          { key: 'url.path', value: anyValue(path) },
          { key: 'http.response.status_code', value: anyValue(status) },
          { key: 'client.address', value: anyValue(`10.${k % 251}.${k % 13}.${k % 7}`) },
          { key: 'user.id', value: anyValue(`u${k % 997}`) },
          { key: 'user_agent.original', value: anyValue(AGENTS[k % AGENTS.length]) },
        ],
        traceId: randomBytes(16),
        spanId: randomBytes(8),
      },
    });
  }
  return out;
}

function exporter(dir: string, extra: Record<string, unknown> = {}, telemetry?: Telemetry): WormExporter {
  const config = wormConfigSchema.parse({ directory: join(dir, 'archive'), signing: { key_file: join(dir, 'keys', 'archive.key') }, retention: '1d', ...extra });
  return new WormExporter('worm', config, telemetry ?? new Telemetry({ processMetrics: false }), silentLogger(), { timers: false });
}

type Encoding = 'proto' | 'json';
const ENCODINGS: Encoding[] = ['proto', 'json'];
const label = (e: Encoding) => (e === 'proto' ? 'v2 proto' : 'v1 json ');

async function dirBytes(d: string, kind: 'sealed' | 'manifest'): Promise<number> {
  let total = 0;
  for (const f of await readdir(d)) if (parseSegmentFileName(f)?.kind === kind) total += (await stat(join(d, f))).size;
  return total;
}

async function appendedBytes(t: Telemetry): Promise<number> {
  return (await t.registry.getSingleMetric('vigil_worm_appended_bytes_total')!.get()).values[0]?.value ?? 0;
}

/**
 * What the exporter does per record before the write, in one thread: v1 builds the
 * OTLP/JSON text and the JSON line around it; v2 encodes the protobuf request and
 * frames it. Both hash the entry (SHA-256). Interleaved runs, best of 5.
 */
function entryCost(): void {
  console.log('entry building per record (encode + frame + SHA-256, no I/O), best of 5 interleaved runs of 20,000 records:');
  const recs = batch(20_000, 0);
  const at = Date.now();
  const run: Record<Encoding, () => number> = {
    json: () => {
      const enc = new RecordJsonEncoder();
      let prev = GENESIS_HASH;
      let bytes = 0;
      for (let i = 0; i < recs.length; i++) {
        const e = encodeEntry(i + 1, at, prev, recordPayload(enc.encode(recs[i])));
        prev = e.hash;
        bytes += e.line.length;
      }
      return bytes;
    },
    proto: () => {
      let prev: Buffer = Buffer.alloc(32);
      let bytes = 0;
      for (let i = 0; i < recs.length; i++) {
        const e = encodeFrame(KIND_RECORD, i + 1, at, prev, encodeRecordRequest(recs[i]));
        prev = e.raw;
        bytes += e.frame.length;
      }
      return bytes;
    },
  };
  const best: Record<Encoding, number> = { proto: Infinity, json: Infinity };
  const size: Record<Encoding, number> = { proto: 0, json: 0 };
  for (let r = 0; r < 5; r++) {
    for (const e of ENCODINGS) {
      const t0 = performance.now();
      size[e] = run[e]();
      best[e] = Math.min(best[e], performance.now() - t0);
    }
  }
  for (const e of ENCODINGS) console.log(`  ${label(e)}: ${fmt((best[e] * 1000) / recs.length, 2)} µs/record, ${fmt(size[e] / recs.length)} B/entry`);
  console.log(`  v2 / v1: ${fmt(best.proto / best.json, 2)}× the CPU per record`);
  // The split: encoding the record (the codec's part) and framing + hashing it (the archive's part).
  const enc = new RecordJsonEncoder();
  const payloads = { json: recs.map((r) => recordPayload(enc.encode(r))), proto: recs.map((r) => encodeRecordRequest(r)) };
  const split = { encode: { proto: Infinity, json: Infinity }, frame: { proto: Infinity, json: Infinity } };
  for (let r = 0; r < 5; r++) {
    let t0 = performance.now();
    for (const rec of recs) encodeRecordRequest(rec);
    split.encode.proto = Math.min(split.encode.proto, performance.now() - t0);
    t0 = performance.now();
    const j = new RecordJsonEncoder();
    for (const rec of recs) recordPayload(j.encode(rec));
    split.encode.json = Math.min(split.encode.json, performance.now() - t0);
    t0 = performance.now();
    let prev: Buffer = Buffer.alloc(32);
    for (let i = 0; i < recs.length; i++) prev = encodeFrame(KIND_RECORD, i + 1, at, prev, payloads.proto[i]).raw;
    split.frame.proto = Math.min(split.frame.proto, performance.now() - t0);
    t0 = performance.now();
    let h = GENESIS_HASH;
    for (let i = 0; i < recs.length; i++) h = encodeEntry(i + 1, at, h, payloads.json[i]).hash;
    split.frame.json = Math.min(split.frame.json, performance.now() - t0);
  }
  for (const e of ENCODINGS) {
    console.log(`  ${label(e)}: record encoding ${fmt((split.encode[e] * 1000) / recs.length, 2)} µs (${e === 'proto' ? 'encodeRecordRequest' : 'OTLP/JSON text'}), entry framing + SHA-256 ${fmt((split.frame[e] * 1000) / recs.length, 2)} µs`);
  }
}

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function appendThroughput(root: string): Promise<void> {
  console.log('append (consume → entry bytes → SHA-256 chain → write → fsync, group commit):');
  for (const [producers, size, encoding] of [[1, 512, 'proto'], [1, 512, 'json'], [8, 512, 'proto'], [8, 512, 'json'], [32, 100, 'proto']] as const) {
    const dir = join(root, `append-${producers}-${size}-${encoding}`);
    const telemetry = new Telemetry({ processMetrics: false });
    const w = exporter(dir, { encoding, segment: { max_bytes: '64MiB', max_age: '1h' } }, telemetry);
    await w.start();
    const perProducer = Math.ceil(120_000 / producers / size);
    const batches = Array.from({ length: producers }, (_, p) => Array.from({ length: perProducer }, (_, b) => batch(size, (p * perProducer + b) * size)));
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    await Promise.all(batches.map(async (list) => {
      for (const b of list) await w.consume(b);
    }));
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const records = producers * perProducer * size;
    const bytes = await appendedBytes(telemetry);
    console.log(
      `  ${label(encoding)} ${String(producers).padStart(2)} producers × ${size}-record batches: ${fmt(records / secs)} records/s, ${fmt(bytes / 1e6 / secs, 1)} MB/s, ${fmt(bytes / records)} B/record, CPU ${fmt(((cpu.user + cpu.system) / 1e6 / secs) * 100)}% of a core`,
    );
    await w.shutdown(new AbortController().signal);
  }
}

async function sealCost(root: string): Promise<void> {
  console.log('seal (zstd level 1 for v2, gzip level 3 for v1, of the closed segment + signed manifest; off the append path):');
  for (const [mb, encoding] of [[16, 'proto'], [16, 'json'], [64, 'proto'], [64, 'json']] as const) {
    const dir = join(root, `seal-${mb}-${encoding}`);
    const w = exporter(dir, { encoding, segment: { max_bytes: `${mb * 2}MiB`, max_age: '1h' } });
    await w.start();
    let k = 0;
    while (w.status().openSegment!.bytes < mb * 1024 * 1024) {
      await w.consume(batch(512, k));
      k += 512;
    }
    const content = w.status().openSegment!.bytes;
    const t0 = performance.now();
    await w.sealNow();
    const ms = performance.now() - t0;
    const gz = await dirBytes(join(dir, 'archive'), 'sealed');
    console.log(`  ${label(encoding)} ${fmt(content / 1e6, 1)} MB segment (${fmt(k)} records): sealed in ${fmt(ms)} ms (${fmt(content / 1e6 / (ms / 1000))} MB/s), ${fmt(gz / 1e6, 1)} MB on disk (${fmt(content / gz, 1)}×)`);
    await w.shutdown(new AbortController().signal);
  }
  const dir = join(root, 'seal-empty');
  const w = exporter(dir);
  await w.start();
  const n = 50;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await w.sealNow();
  console.log(`  empty heartbeat segment: ${fmt((performance.now() - t0) / n, 1)} ms per seal`);
  await w.shutdown(new AbortController().signal);
}

/** An archive of about `mb` MB of segment data (uncompressed entries) written with `encoding`, in 32 MiB segments. */
async function archiveOf(root: string, encoding: Encoding, mb: number): Promise<string> {
  const dir = join(root, `verify-${encoding}`);
  const telemetry = new Telemetry({ processMetrics: false });
  const w = exporter(dir, { encoding, segment: { max_bytes: '32MiB', max_age: '1h' } }, telemetry);
  await w.start();
  for (let k = 0; (await appendedBytes(telemetry)) < mb * 1e6; k += 512) await w.consume(batch(512, k));
  await w.shutdown(new AbortController().signal);
  return dir;
}

async function verifyThroughput(root: string): Promise<void> {
  const mb = Number(process.env.WORM_BENCH_VERIFY_MB ?? 128);
  const dirs = { proto: await archiveOf(root, 'proto', mb), json: await archiveOf(root, 'json', mb) };
  console.log(`verify (decompress, every entry hash and link, Merkle root, signature, manifest chain), local files, ~${mb} MB of segment data per format; MB/s of segment data (uncompressed entries), best of 3 interleaved:`);
  for (const workers of [undefined, 0]) {
    for (const encoding of ENCODINGS) {
      const dir = dirs[encoding];
      const keys = await loadPublicKeys([join(dir, 'keys', 'archive.pub')]);
      let best = Infinity;
      let bestCpu = Infinity;
      let report;
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        report = await verifyArchive(new LocalSource(join(dir, 'archive')), { keys, workers });
        const c = process.cpuUsage(c0);
        best = Math.min(best, performance.now() - t0);
        bestCpu = Math.min(bestCpu, (c.user + c.system) / 1e6);
      }
      const secs = best / 1000;
      const data = report!.contentBytes / 1e6;
      console.log(
        `  ${label(encoding)}, ${workers === 0 ? 'in one thread' : `on ${availableParallelism()} threads (main + workers)`}: ${report!.segments.valid}/${report!.segments.checked} segments, ${fmt(report!.records.valid)} records, ${fmt(data)} MB: ${fmt(data / secs)} MB/s of segment data (${fmt(report!.bytesRead / 1e6 / secs, 1)} MB/s as stored), ${fmt(report!.records.valid / secs)} records/s; ${fmt(data / bestCpu)} MB per CPU-second${report!.ok ? '' : ' BROKEN'}`,
      );
    }
  }
}

async function uploadThroughput(root: string): Promise<void> {
  const endpoint = process.env.S3_ENDPOINT;
  if (!endpoint) {
    console.log('upload: skipped (S3_ENDPOINT not set; start radosgw with scripts/s3/start-rgw.sh)');
    return;
  }
  const dir = join(root, 'upload');
  // Seal segments locally first, then start with S3 configured: the uploader takes the backlog.
  const local = exporter(dir, { segment: { max_bytes: '8MiB', max_age: '1h' } });
  await local.start();
  for (let k = 0; k < 80_000; k += 512) await local.consume(batch(512, k));
  await local.shutdown(new AbortController().signal);
  const archive = join(dir, 'archive');
  const segments = (await readdir(archive)).filter((f) => f.endsWith('.manifest.json')).length;
  const bytes = (await dirBytes(archive, 'sealed')) + (await dirBytes(archive, 'manifest'));
  const client = await createS3Client({ endpoint, forcePathStyle: true });
  const bucket = `vigil-bench-${randomBytes(4).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  client.destroy();
  const w = exporter(dir, { segment: { max_bytes: '8MiB', max_age: '1h' }, s3: { bucket, endpoint, force_path_style: true, encryption: { mode: 'sse-kms', kms_key_id: 'testkey-1' } } });
  const t0 = performance.now();
  await w.start();
  const left = await w.drainUploads();
  const secs = (performance.now() - t0) / 1000;
  await w.shutdown(new AbortController().signal);
  console.log('upload to S3 (single PUT + Content-MD5 + COMPLIANCE lock, lock read back, receipt fsync\'d), local radosgw:');
  console.log(`  ${segments} segments + manifests, ${fmt(bytes / 1e6, 1)} MB: ${fmt(bytes / 1e6 / secs, 1)} MB/s, ${fmt(segments / secs, 1)} segments/s${left ? ` (${left} left)` : ''}`);
}

const root = await mkdtemp(join(tmpdir(), 'vigil-worm-bench-'));
try {
  entryCost();
  await appendThroughput(root);
  await sealCost(root);
  await verifyThroughput(root);
  await uploadThroughput(root);
} finally {
  await rm(root, { recursive: true, force: true });
}
