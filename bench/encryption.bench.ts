// What encrypting local segments costs (worm.encryption.key_file): append
// throughput and CPU with and without it (AES-256-GCM per group-commit chunk),
// the seal (decrypt, gzip, encrypt), and verify with the key. Figures are
// printed; nothing is asserted. Kept small: the machine is shared.
//   npm run bench -- encryption
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wormConfigSchema } from '../src/exporters/worm/config.js';
import { loadArchiveKey } from '../src/exporters/worm/encryption.js';
import { loadPublicKeys } from '../src/exporters/worm/keys.js';
import { LocalSource } from '../src/exporters/worm/source.js';
import { verifyArchive } from '../src/exporters/worm/verify.js';
import { WormExporter } from '../src/exporters/worm/worm.js';
import { type LogBatch, anyValue, millisToNanos } from '../src/pipeline/record.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { Telemetry } from '../src/telemetry/metrics.js';

const RECORDS = 60_000;
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/** ~700-byte access-log records. */
function batch(n: number, start: number): LogBatch {
  return Array.from({ length: n }, (_, i) => {
    const k = start + i;
    return {
      resource: { resource: { attributes: [{ key: 'service.name', value: { stringValue: 'storefront' } }] }, schemaUrl: '' },
      scope: { scope: { name: 'access' }, schemaUrl: '' },
      log: {
        timeUnixNano: millisToNanos(Date.UTC(2026, 2, 1) + k),
        body: { stringValue: `10.0.${k % 251}.${k % 7} - u${k % 997} [01/Mar/2026:09:00:00 +0000] "GET /api/items/${k % 9973} HTTP/1.1" 200 ${k % 4096} "-" "curl/8.5.0"` },
        attributes: [
          { key: 'audit.record_id', value: anyValue(randomBytes(12).toString('base64url')) },
          { key: 'url.path', value: anyValue(`/api/items/${k % 9973}`) },
          { key: 'user.id', value: anyValue(`u${k % 997}`) },
          { key: 'http.response.status_code', value: anyValue(200) },
        ],
      },
    };
  });
}

async function run(root: string, encrypted: boolean): Promise<void> {
  const dir = join(root, encrypted ? 'enc' : 'plain');
  await mkdir(join(dir, 'keys'), { recursive: true });
  const keyFile = join(dir, 'keys', 'data.key');
  await writeFile(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
  const config = wormConfigSchema.parse({
    directory: join(dir, 'archive'),
    signing: { key_file: join(dir, 'keys', 'archive.key') },
    segment: { max_bytes: '64MiB', max_age: '1h' },
    ...(encrypted ? { encryption: { key_file: keyFile } } : {}),
  });
  const w = new WormExporter('worm', config, new Telemetry({ processMetrics: false }), silentLogger(), { timers: false });
  await w.start();
  const producers = 8;
  const size = 250;
  const per = Math.ceil(RECORDS / producers / size);
  const lists = Array.from({ length: producers }, (_, p) => Array.from({ length: per }, (_, b) => batch(size, (p * per + b) * size)));
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await Promise.all(lists.map(async (l) => {
    for (const b of l) await w.consume(b);
  }));
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const content = w.status().openSegment!.bytes;
  const s0 = performance.now();
  await w.sealNow();
  const sealMs = performance.now() - s0;
  await w.shutdown(new AbortController().signal);
  const records = producers * per * size;
  console.log(
    `  ${encrypted ? 'encrypted' : 'plain    '}: append ${fmt(records / secs)} records/s, CPU ${fmt(((cpu.user + cpu.system) / 1e6 / secs) * 100)}% of a core; seal of ${fmt(content / 1e6, 1)} MB in ${fmt(sealMs)} ms`,
  );
  const source = new LocalSource(join(dir, 'archive'));
  if (encrypted) source.archiveKey = await loadArchiveKey(keyFile);
  const v0 = performance.now();
  const r = await verifyArchive(source, { keys: await loadPublicKeys([join(dir, 'keys', 'archive.pub')]), workers: 0 });
  const vs = (performance.now() - v0) / 1000;
  console.log(`             verify${encrypted ? ' --key-file' : ''}: ${fmt(r.records.valid)} records, ${fmt(r.contentBytes / 1e6 / vs)} MB/s in one thread${r.ok ? '' : ' (NOT intact)'}`);
}

const root = await mkdtemp(join(tmpdir(), 'vigil-enc-bench-'));
try {
  console.log(`encrypted local segments vs plain (${fmt(RECORDS)} records, 8 producers × 250-record batches, fsync group commit):`);
  await run(root, false);
  await run(root, true);
} finally {
  await rm(root, { recursive: true, force: true });
}
