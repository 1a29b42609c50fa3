// Disk full, at the process level: the archive of a running `vigil run` lives
// on a small tmpfs mounted for this test; a filler file takes the last free
// bytes while clients send. Export is refused with a retryable status (gRPC
// UNAVAILABLE + RetryInfo, HTTP 503 + Retry-After), Vigil stays up, and once
// the filler is deleted it takes data again by itself; every acknowledged
// record is archived and `vigil verify` finds no damaged segment.
// Needs root (mount); skips, saying so, otherwise.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryArchive, verifyArchive } from '../helpers/harness/archive.js';
import { Load } from '../helpers/harness/client.js';
import { archiveDirOf, publicKeyOf, writeHarnessConfig, type HarnessConfigOptions } from '../helpers/harness/config.js';
import { FlakyDownstream } from '../helpers/harness/downstream.js';
import { reconcile } from '../helpers/harness/reconcile.js';
import { VigilChild, vigilBuilt } from '../helpers/harness/vigil.js';
import { until, waitDelivered } from '../helpers/harness/wait.js';
import { retryDelayFromStatusDetails } from '../../src/exporters/otlp/status.js';
import { encodeProtobufRequest } from '../../src/otlp/convert.js';
import { grpcExport, httpPost } from '../receivers/otlp/clients.js';

const built = vigilBuilt();
if (!built) console.warn('reliability disk-full test skipped: run `npm run build` first (npm test does)');

let root = '';
let mnt = '';
let mounted = false;
let skipReason = '';
let vigil: VigilChild | undefined;
let downstream: FlakyDownstream | undefined;
let load: Load | undefined;

beforeAll(() => {
  if (!built) return;
  root = mkdtempSync(join(tmpdir(), 'vigil-reliability-diskfull-'));
  mnt = join(root, 'tmpfs');
  mkdirSync(mnt);
  if (process.getuid?.() !== 0) {
    skipReason = 'disk-full test skipped: mounting a tmpfs needs root';
    return;
  }
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m,mode=0700', 'tmpfs', mnt], { stdio: 'pipe' });
    mounted = true;
  } catch (err) {
    skipReason = `disk-full test skipped: cannot mount a tmpfs (${(err as Error).message.split('\n')[0]})`;
  }
  if (skipReason) console.warn(skipReason);
});

afterAll(async () => {
  // Processes first (they hold files on the tmpfs), then the mount, then the directory.
  await load?.kill();
  if (vigil?.running) await vigil.kill9();
  await downstream?.stop();
  if (mounted) execFileSync('umount', [mnt]);
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Fills the file system at `dir` with one file, down to the last few bytes. */
function fill(path: string): number {
  let written = 0;
  writeFileSync(path, Buffer.alloc(0));
  for (let chunk = 256 * 1024; chunk >= 16; chunk = Math.floor(chunk / 2)) {
    // Bounded: 6 MiB in 256 KiB chunks at most, then halving.
    for (let i = 0; i < 64; i++) {
      try {
        appendFileSync(path, Buffer.alloc(chunk));
        written += chunk;
      } catch {
        break;
      }
    }
  }
  return written;
}

describe.skipIf(!built)('disk full (a tmpfs holding the archive of vigil run)', () => {
  it('refuses with a retryable status, corrupts no segment, and takes data again by itself once space returns', async (ctx) => {
    if (!mounted) {
      ctx.skip(true, skipReason);
      return;
    }
    downstream = await FlakyDownstream.start({ seed: 5 });
    const cfg: HarnessConfigOptions = { dir: join(root, 'work'), archiveDir: join(mnt, 'archive'), downstream: downstream.address, segmentMaxBytes: '128KiB' };
    mkdirSync(cfg.dir);
    vigil = await VigilChild.start({ config: writeHarnessConfig(cfg), cwd: cfg.dir, logFile: join(cfg.dir, 'vigil.log') });
    const v = vigil;
    load = new Load(
      (['grpc', 'http'] as const).map((transport, i) => ({
        name: `${transport}${i}`,
        transport,
        target: () => v.endpoints,
        recordsPerRequest: 20,
        maxRequests: 400,
        seed: 21 + i,
        intervalMs: 15,
        // Vigil asks for 5 s on a full disk; the test keeps its clients' waits short.
        maxRetryDelayMs: 200,
      })),
    );
    const l = load;
    l.start();
    await until(() => l.acked.size >= 200, 20_000, () => `load to be acknowledged (${l.acked.size} of 200 records)`);

    const filler = join(mnt, 'filler');
    fill(filler);
    const refusals = () => l.stats().refusals;
    await until(() => (refusals()['gRPC UNAVAILABLE'] ?? 0) >= 3 && (refusals()['HTTP 503'] ?? 0) >= 3, 20_000, () => `both transports to be refused three times (refusals: ${JSON.stringify(refusals())})`);
    // What a client is told, exactly: retryable, with a delay, saying why.
    const body = encodeProtobufRequest({ resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ scope: {}, logRecords: Array.from({ length: 50 }, (_, i) => ({ body: { stringValue: 'x'.repeat(500) }, attributes: [{ key: 'test.id', value: { stringValue: `probe-${i}` } }] })) }] }] });
    const g = await grpcExport(v.endpoints.grpc, body);
    expect(g.code).toBe(14); // UNAVAILABLE
    expect(g.details).toMatch(/storage is full/);
    expect(retryDelayFromStatusDetails(g.metadata.get('grpc-status-details-bin')[0] as Buffer)).toBeGreaterThan(0);
    const h = await httpPost(v.endpoints.http, body, { 'content-type': 'application/x-protobuf' });
    expect(h.status).toBe(503);
    expect(Number(h.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(v.running).toBe(true);
    expect(await v.metric('vigil_worm_append_failures_total')).toBeGreaterThan(0);

    // Space returns: Vigil takes data again without being touched.
    rmSync(filler);
    const ackedAtFree = l.acked.size;
    await until(() => l.acked.size >= ackedAtFree + 400, 30_000, () => `acknowledgements to resume after space returned (${l.acked.size - ackedAtFree} of 400 records)`);
    await l.finish(30_000);
    expect(l.stats().permanent).toEqual([]);
    expect(await waitDelivered(l.acked, downstream.deliveries, 30_000)).toBe(0);
    expect(await v.terminate()).toBe(0);

    const verify = await verifyArchive(archiveDirOf(cfg), publicKeyOf(cfg));
    expect(verify.exitCode, verify.text).toBe(0);
    expect(verify.breaks).toEqual([]);
    expect(verify.uncleanStops + verify.repairedTruncations).toBe(0);
    const archived = await queryArchive(archiveDirOf(cfg));
    const r = reconcile(l.acked, archived.byTestId, downstream.deliveries);
    expect(r.lost, JSON.stringify(r)).toBe(0);
    expect(archived.exitCode).toBe(0);
    console.info(`disk full: ${JSON.stringify(l.stats().refusals)} refusals; ${r.acked} acked, all archived and delivered; ${verify.records.valid} records verified`);
  });
});
