// S3 down, at the process level (the worm tests cover the exporter alone):
// `vigil run` archives to S3 through a radosgw gateway of this test's own; the
// gateway stops while clients send, so sealed segments wait locally; Vigil is
// killed -9 during the outage and restarted while S3 is still down (it must
// start); when the gateway returns the backlog uploads, and the S3 copy
// verifies and holds every acknowledged record.
// Needs S3_ENDPOINT and a cluster started by scripts/s3/start-rgw.sh (RGW_BASE);
// skips, saying so, otherwise.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/harness/ports.js';
import { queryArchive, verifyArchive } from '../helpers/harness/archive.js';
import { Load } from '../helpers/harness/client.js';
import { archiveDirOf, publicKeyOf, writeHarnessConfig, type HarnessConfigOptions } from '../helpers/harness/config.js';
import { reconcile } from '../helpers/harness/reconcile.js';
import { createLockedBucket } from '../helpers/harness/s3.js';
import { VigilChild, vigilBuilt } from '../helpers/harness/vigil.js';
import { until } from '../helpers/harness/wait.js';

const run = promisify(execFile);
const endpoint = process.env.S3_ENDPOINT;
const rgwBase = process.env.RGW_BASE ?? join(homedir(), '.cache/vigil-rgw');
const scripts = resolve(process.cwd(), 'scripts/s3');
const skip = !vigilBuilt()
  ? 'reliability S3 outage test skipped: run `npm run build` first (npm test does)'
  : !endpoint
    ? 'reliability S3 outage test skipped: S3_ENDPOINT is not set (start radosgw with scripts/s3/start-rgw.sh and export what it prints)'
    : !existsSync(join(rgwBase, 'ceph.conf'))
      ? `reliability S3 outage test skipped: no cluster started by scripts/s3/start-rgw.sh at ${rgwBase} (set RGW_BASE): cannot stop and restart a gateway`
      : '';
if (skip) console.warn(skip);

describe.skipIf(skip !== '')('S3 down (vigil run archiving through its own radosgw gateway)', () => {
  let root = '';
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'vigil-reliability-s3-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('sealed segments wait, survive kill -9, and upload when S3 returns; the S3 copy verifies and holds every acknowledged record', { timeout: 300_000 }, async () => {
    // A gateway of this test's own on the running cluster, so stopping it disturbs nobody else.
    const port = await freePort();
    const gw = `rel${process.pid}`;
    const env = { ...process.env, RGW_BASE: rgwBase };
    const gwEndpoint = `http://127.0.0.1:${port}`;
    const startGw = () => run('bash', [join(scripts, 'start-rgw.sh'), '--gateway', gw, '--port', String(port)], { env, timeout: 60_000 });
    const stopGw = () => run('bash', [join(scripts, 'stop-rgw.sh'), '--gateway', gw], { env, timeout: 60_000 });
    await startGw();
    let vigil: VigilChild | undefined;
    let load: Load | undefined;
    try {
      const bucket = await createLockedBucket(gwEndpoint, 'vigil-s3down');
      const cfg: HarnessConfigOptions = { dir: join(root, 'work'), downstream: undefined, s3: { endpoint: gwEndpoint, bucket, prefix: 'rel/' }, segmentMaxBytes: '256KiB', segmentMaxAge: '1s' };
      mkdirSync(cfg.dir);
      const config = writeHarnessConfig(cfg);
      const start = () => VigilChild.start({ config, cwd: cfg.dir, logFile: join(cfg.dir, 'vigil.log') });
      vigil = await start();
      // Bounded far past need (100,000 requests, and killed at cleanup): the load must still run after the
      // restart, however long stopping the gateway and restarting Vigil took on a slow machine; l.finish() ends it.
      const l = (load = new Load([{ name: 'g', transport: 'grpc', target: () => vigil?.endpoints, recordsPerRequest: 20, maxRequests: 100_000, seed: 9, intervalMs: 20, maxRetryDelayMs: 250 }]));
      let waiting = -1;
      const backlog = async () => (waiting = (await vigil!.metric('vigil_worm_upload_backlog_segments')) ?? -1);
      l.start();
      await until(async () => ((await vigil!.metric('vigil_worm_uploaded_segments_total')) ?? 0) >= 1, 30_000, 'a first upload');

      await stopGw();
      // S3 is down: acknowledgements go on, sealed segments pile up locally.
      await until(async () => (await backlog()) >= 2, 30_000, () => `sealed segments to wait for S3 (backlog ${waiting})`);
      const ackedDuringOutage = l.acked.size;
      await vigil.kill9();
      vigil = undefined;
      vigil = await start(); // S3 still down: Vigil must start anyway
      await until(async () => (await backlog()) >= 2, 30_000, () => `the backlog to be picked up again after the restart (backlog ${waiting})`);
      await until(() => l.acked.size >= ackedDuringOutage + 100, 30_000, () => `acknowledgements with S3 down after the restart (${l.acked.size - ackedDuringOutage} of 100 records)`);

      await l.finish(30_000);
      await startGw();
      await until(async () => (await backlog()) === 0, 60_000, () => `the backlog to drain after S3 returned (backlog ${waiting})`);
      expect(await vigil.terminate()).toBe(0);
      vigil = undefined;

      const names = readdirSync(archiveDirOf(cfg));
      const manifests = names.filter((n) => n.endsWith('.manifest.json'));
      expect(manifests.filter((m) => !names.includes(m.replace('.manifest.json', '.uploaded.json')))).toEqual([]);
      const remote = `s3://${bucket}/rel/`;
      const v = await verifyArchive(remote, publicKeyOf(cfg), { endpoint: gwEndpoint });
      expect(v.exitCode, v.text).toBe(0);
      expect(v.uncleanStops + v.repairedTruncations, v.text).toBe(1);
      const archived = await queryArchive(remote, { endpoint: gwEndpoint });
      const r = reconcile(l.acked, archived.byTestId, undefined, archived.idConflicts);
      expect(r.lost, JSON.stringify(r)).toBe(0);
      console.info(`S3 outage: ${manifests.length} segments, all uploaded and locked after the outage; ${r.acked} acked records all in S3; verify s3:// exit 0`);
    } finally {
      await load?.kill();
      if (vigil?.running) await vigil.kill9();
      await stopGw().catch(() => undefined);
    }
  });
});
