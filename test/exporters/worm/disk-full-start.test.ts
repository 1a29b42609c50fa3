// A start-up on a full disk after a crash: the archive (on a small tmpfs) cannot
// be recovered, so `vigil run` starts degraded instead of not at all. It names
// the file and the component, refuses exports with a retryable status, and the
// otlp exporter still delivers its persistent queue; once space is freed the
// archive recovers by itself and verify passes. Needs root (mount); skips, saying so, otherwise.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, unlink, writeFile, appendFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listening, startVigilProcess, vigilSync, type VigilProcess } from '../../helpers/cli.js';
import { startGrpcDownstream, until, withoutCheckpoints, type Downstream } from '../../helpers/downstream.js';
import { tempDir } from './helpers.js';

const built = existsSync(resolve('dist/src/cli/main.js'));
let dir = '';
let cleanup: () => Promise<void> = async () => {};
let mnt = '';
let mounted = false;
let skip = built ? '' : 'disk-full start-up test skipped: run `npm run build` first';
let vigil: VigilProcess | undefined;
let downstream: Downstream | undefined;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('vigil-diskfull-start-'));
  mnt = join(dir, 'small');
  await mkdir(mnt);
  if (!skip && process.getuid?.() !== 0) skip = 'disk-full start-up test skipped: mounting a tmpfs needs root';
  if (!skip) {
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', mnt], { stdio: 'pipe' });
      mounted = true;
    } catch (err) {
      skip = `disk-full start-up test skipped: cannot mount a tmpfs (${(err as Error).message.split('\n')[0]})`;
    }
  }
  if (skip) console.warn(skip);
});

afterAll(async () => {
  if (vigil && vigil.child.exitCode === null) vigil.child.kill('SIGKILL');
  await vigil?.exited;
  await downstream?.stop();
  if (mounted) execFileSync('umount', [mnt]);
  await cleanup();
});

async function post(url: string, n: number, from: number): Promise<number> {
  const logRecords = Array.from({ length: n }, (_, i) => ({ body: { stringValue: `GET /r/${from + i} HTTP/1.1 200` }, attributes: [{ key: 'audit.record_id', value: { stringValue: `r-${from + i}` } }] }));
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ resourceLogs: [{ resource: {}, scopeLogs: [{ logRecords }] }] }) });
  return res.status;
}

/** Fills the tmpfs to the last byte. */
async function fill(path: string): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, 1);
  for (;;) {
    try {
      await appendFile(path, chunk);
    } catch {
      break;
    }
  }
  for (let size = 4096; size >= 1; size = Math.floor(size / 2)) {
    while (await appendFile(path, Buffer.alloc(size, 1)).then(() => true, () => false));
  }
}

describe('start-up on a full disk after a crash', () => {
  it('starts degraded, naming the file and component; the downstream queue is delivered; the archive recovers once space returns', { timeout: 120_000 }, async (ctx) => {
    if (skip) return ctx.skip(true, skip);
    downstream = await startGrpcDownstream();
    downstream.failNext(1_000_000); // run 1: the downstream is down, so records stay in the persistent queue
    const archive = join(mnt, 'archive');
    const config = join(dir, 'vigil.yaml');
    await writeFile(
      config,
      `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
exporters:
  worm: { directory: ${archive}, signing: { key_file: ${join(dir, 'keys', 'archive.key')} } }
  otlp_grpc:
    endpoint: ${downstream.address}
    tls: { insecure: true }
    retry_on_failure: { initial_interval: 50ms, max_interval: 200ms }
    sending_queue: { storage: file_storage }
extensions:
  file_storage: { directory: ${join(dir, 'queue')} }
service:
  extensions: [file_storage]
  telemetry: { metrics: { address: null } }
  pipelines: { logs: { receivers: [otlp], processors: [], exporters: [worm, otlp_grpc] } }
`,
    );
    const run1 = await startVigilProcess(['run', '--config', config], { cwd: dir });
    expect(await post(listening(run1).http, 20, 0)).toBe(200); // archived and queued
    run1.child.kill('SIGKILL');
    await run1.exited;

    const filler = join(mnt, 'filler');
    await fill(filler);
    downstream.failNext(0);
    vigil = await startVigilProcess(['run', '--config', config], { cwd: dir });
    const errLog = `${vigil.stdout()}${vigil.stderr()}`;
    expect(errLog).toContain('exporters.worm: cannot open the archive, the disk is full; running degraded');
    expect(errLog).toContain(`"component":"worm"`);
    expect(errLog).toMatch(new RegExp(`"file":"${archive}/(\\.lock|segment-000000000001\\.vlog)"`));
    // The queue of the crashed run still goes downstream…
    // Records only: the first run's archive checkpoints go down the same queue, and one (no record id)
    // counted as a record would let this pass with a record missing.
    const delivered = () => new Set(withoutCheckpoints(downstream!.records()).map((r) => r.log.attributes.find((a) => a.key === 'audit.record_id')?.value?.stringValue)).size;
    await until(() => delivered() >= 20, () => `the queued records delivered (${delivered()} of 20)`);
    // …while new exports are refused, retryably, since they cannot be archived.
    expect(await post(listening(vigil).http, 1, 100)).toBe(503);

    await unlink(filler);
    await until(async () => (await post(listening(vigil!).http, 1, 200)) === 200, 'the archive to recover once space is back', 30_000);
    vigil.child.kill('SIGTERM');
    expect(await vigil.exited).toBe(0);
    const v = vigilSync(['verify', archive, '-k', join(dir, 'keys', 'archive.pub')]);
    expect(v.status, v.stdout).toBe(0);
    expect(v.stdout).toMatch(/unclean stop/);
    await rm(join(dir, 'queue'), { recursive: true, force: true });
  });
});
