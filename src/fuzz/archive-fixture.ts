// A small real archive for the archive fuzz targets: written by the real worm
// exporter (segment log, seals, manifests, checkpoints, a generated Ed25519
// key) under a hand-moved clock, in both entry formats as an upgrade leaves
// them: a v1 run (encoding: json) of one sealed segment of 20 records and its
// empty shutdown seal, continued by a v2 run (encoding: proto) of two sealed
// segments of 20 records and an open one of 5 with a signed checkpoint of it,
// left as a crash leaves it. Built once per session, in memory-backed storage
// when there is some (/dev/shm), and copied per case.
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wormConfigSchema } from '../exporters/worm/config.js';
import { loadPublicKeys, type PublicKeyEntry } from '../exporters/worm/keys.js';
import { LocalSource } from '../exporters/worm/source.js';
import { verifyArchive, type VerifyReport } from '../exporters/worm/verify.js';
import { WormExporter } from '../exporters/worm/worm.js';
import { anyValue, millisToNanos, type LogBatch, type ResourceContext, type ScopeContext } from '../pipeline/record.js';
import { silentLogger } from '../telemetry/logger.js';
import { Telemetry } from '../telemetry/metrics.js';

/** Sealed segments with records, of which the first is v1 (followed by the v1 run's empty shutdown seal). */
export const SEALED_SEGMENTS = 3;
export const RECORDS_PER_SEGMENT = 20;
export const OPEN_RECORDS = 5;
const T0 = Date.parse('2026-03-01T09:00:00.000Z');

export interface ArchiveFixture {
  /** The pristine archive directory (never mutated). */
  archive: string;
  keys: Map<string, PublicKeyEntry>;
  /** The time verification is judged at: just after the crash, inside the heartbeat. */
  now: number;
  /** The pristine files by name, sorted (segments, manifests, the open segment, archive.json, checkpoint.txt…). */
  files: Map<string, Buffer>;
  /** Scratch space for per-case copies. */
  scratch: string;
  cleanup(): Promise<void>;
}

function batch(start: number, n: number): LogBatch {
  const resource: ResourceContext = { resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] }, schemaUrl: '' };
  const scope: ScopeContext = { scope: { name: 'access', version: '1' }, schemaUrl: '' };
  return Array.from({ length: n }, (_, i) => {
    const k = start + i;
    const t = T0 + k * 1000;
    return {
      resource,
      scope,
      log: {
        timeUnixNano: millisToNanos(t),
        observedTimeUnixNano: millisToNanos(t + 5),
        severityNumber: 9,
        severityText: 'INFO',
        body: { stringValue: `GET /items/${k} HTTP/1.1 200` },
        attributes: [
          { key: 'user.id', value: anyValue(k % 2 === 0 ? 'alice' : 'bob') },
          { key: 'url.path', value: anyValue(`/items/${k}`) },
        ],
      },
    };
  });
}

/** Verifies an archive directory the way `vigil verify` does, in-process. */
export function verifyDirectory(dir: string, fixture: Pick<ArchiveFixture, 'keys' | 'now'>): Promise<VerifyReport> {
  return verifyArchive(new LocalSource(dir), { keys: fixture.keys, now: fixture.now, workers: 0 });
}

export async function readArchiveFiles(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isFile()) files.set(e.name, await readFile(join(dir, e.name)));
  }
  return files;
}

export async function buildArchiveFixture(): Promise<ArchiveFixture> {
  const root = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'vigil-fuzz-archive-'));
  const cleanup = () => rm(root, { recursive: true, force: true });
  try {
    let t = T0;
    const config = (encoding: 'json' | 'proto') =>
      wormConfigSchema.parse({
        directory: join(root, 'archive'),
        signing: { key_file: join(root, 'keys', 'archive.key') },
        heartbeat: '1m',
        segment: { max_bytes: '1MiB', max_age: '5m' },
        encoding,
      });
    const exporter = (encoding: 'json' | 'proto') => new WormExporter('worm', config(encoding), new Telemetry({ processMetrics: false }), silentLogger(), { timers: false, clock: () => t });
    const v1 = exporter('json');
    await v1.start();
    await v1.consume(batch(0, RECORDS_PER_SEGMENT));
    t += 20_000;
    await v1.sealNow();
    await v1.shutdown(new AbortController().signal);
    const w = exporter('proto');
    await w.start();
    for (let s = 1; s < SEALED_SEGMENTS; s++) {
      await w.consume(batch(s * RECORDS_PER_SEGMENT, RECORDS_PER_SEGMENT));
      t += 20_000;
      await w.sealNow();
    }
    await w.consume(batch(SEALED_SEGMENTS * RECORDS_PER_SEGMENT, OPEN_RECORDS));
    t += 61_000; // a heartbeat after the last seal, before the segment's max age
    await w.tick(); // signs a checkpoint of the open segment
    await w.crashForTest();
    const archive = join(root, 'archive');
    const fixture: ArchiveFixture = {
      archive,
      keys: await loadPublicKeys([join(root, 'keys', 'archive.pub')]),
      now: t + 1000,
      files: await readArchiveFiles(archive),
      scratch: join(root, 'cases'),
      cleanup,
    };
    // The oracle's premise: the untouched archive verifies intact.
    const copy = join(fixture.scratch, 'pristine');
    await cp(archive, copy, { recursive: true });
    const r = await verifyDirectory(copy, fixture);
    if (!r.ok) throw new Error(`fuzz: the pristine archive does not verify: ${r.findings.map((f) => `${f.kind}: ${f.detail}`).join('; ')}`);
    await rm(copy, { recursive: true, force: true });
    return fixture;
  } catch (err) {
    await cleanup();
    throw err;
  }
}
