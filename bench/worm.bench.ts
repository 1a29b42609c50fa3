// The WORM archive's costs: append throughput with fsync group commit, seal
// cost, `verify` throughput on local files, upload throughput to S3 (the local
// radosgw when S3_ENDPOINT is set). Figures are printed; nothing is asserted.
//   npm run bench -- worm
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { wormConfigSchema } from '../src/exporters/worm/config.js';
import { loadPublicKeys } from '../src/exporters/worm/keys.js';
import { createS3Client } from '../src/exporters/worm/s3.js';
import { LocalSource } from '../src/exporters/worm/source.js';
import { verifyArchive } from '../src/exporters/worm/verify.js';
import { WormExporter } from '../src/exporters/worm/worm.js';
import { type LogBatch, type ResourceContext, type ScopeContext, anyValue, millisToNanos } from '../src/pipeline/record.js';
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

/** Access-log records enriched the way the audit processor leaves them (~900 bytes of canonical JSON each). */
function batch(n: number, start: number): LogBatch {
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
          { key: 'audit.record_id', value: anyValue(randomBytes(12).toString('base64url')) },
          { key: 'http.request.method', value: anyValue('GET') },
          { key: 'url.path', value: anyValue(path) },
          { key: 'http.response.status_code', value: anyValue(status) },
          { key: 'client.address', value: anyValue(`10.${k % 251}.${k % 13}.${k % 7}`) },
          { key: 'user.id', value: anyValue(`u${k % 997}`) },
          { key: 'user_agent.original', value: anyValue(AGENTS[k % AGENTS.length]) },
          { key: 'audit.outcome', value: anyValue(status < 400 ? 'success' : 'failure') },
          { key: 'audit.action', value: anyValue('read') },
          { key: 'anomaly.score', value: anyValue(Math.round(Math.random() * 1000) / 1000) },
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

async function dirBytes(d: string, suffix: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(d)) if (f.endsWith(suffix)) total += (await stat(join(d, f))).size;
  return total;
}

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function appendThroughput(root: string): Promise<void> {
  console.log('append (consume → canonical JSON → SHA-256 chain → write → fsync, group commit):');
  for (const [producers, size] of [[1, 512], [8, 512], [32, 100]] as const) {
    const dir = join(root, `append-${producers}-${size}`);
    const telemetry = new Telemetry({ processMetrics: false });
    const w = exporter(dir, { segment: { max_bytes: '64MiB', max_age: '1h' } }, telemetry);
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
    const bytes = (await telemetry.registry.getSingleMetric('vigil_worm_appended_bytes_total')!.get()).values[0].value;
    console.log(
      `  ${String(producers).padStart(2)} producers × ${size}-record batches: ${fmt(records / secs)} records/s, ${fmt(bytes / 1e6 / secs, 1)} MB/s, ${fmt(bytes / records)} B/record, CPU ${fmt(((cpu.user + cpu.system) / 1e6 / secs) * 100)}% of a core`,
    );
    await w.shutdown(new AbortController().signal);
  }
}

async function sealCost(root: string): Promise<void> {
  console.log('seal (gzip, default level 3, of the closed segment + signed manifest; off the append path):');
  for (const mb of [1, 16, 64]) {
    const dir = join(root, `seal-${mb}`);
    const w = exporter(dir, { segment: { max_bytes: `${mb * 2}MiB`, max_age: '1h' } });
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
    const gz = await dirBytes(join(dir, 'archive'), '.jsonl.gz');
    console.log(`  ${fmt(content / 1e6, 1)} MB segment (${fmt(k)} records): sealed in ${fmt(ms)} ms (${fmt(content / 1e6 / (ms / 1000))} MB/s), ${fmt(gz / 1e6, 1)} MB on disk (${fmt(content / gz, 1)}×)`);
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

async function verifyThroughput(root: string): Promise<string> {
  const dir = join(root, 'verify');
  const w = exporter(dir, { segment: { max_bytes: '32MiB', max_age: '1h' } });
  await w.start();
  let k = 0;
  const target = 256 * 1024 * 1024;
  let written = 0;
  while (written < target) {
    const b = batch(512, k);
    await w.consume(b);
    k += 512;
    written = k * 900;
  }
  await w.shutdown(new AbortController().signal);
  const keys = await loadPublicKeys([join(dir, 'keys', 'archive.pub')]);
  console.log('verify (gunzip, every entry hash and link, Merkle root, signature, manifest chain), local files:');
  for (const workers of [undefined, 0]) {
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
    const mb = report!.contentBytes / 1e6;
    console.log(
      `  ${workers === 0 ? 'in one thread' : `${availableParallelism()} worker threads`}: ${report!.segments.valid}/${report!.segments.checked} segments, ${fmt(report!.records.valid)} records, ${fmt(mb)} MB: ${fmt(mb / secs)} MB/s of log data (${fmt(report!.bytesRead / 1e6 / secs, 1)} MB/s compressed), ${fmt(report!.records.valid / secs)} records/s; ${fmt(mb / bestCpu)} MB per CPU-second (best of 3)`,
    );
  }
  return dir;
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
  const bytes = (await dirBytes(archive, '.jsonl.gz')) + (await dirBytes(archive, '.manifest.json'));
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
  await appendThroughput(root);
  await sealCost(root);
  await verifyThroughput(root);
  await uploadThroughput(root);
} finally {
  await rm(root, { recursive: true, force: true });
}
