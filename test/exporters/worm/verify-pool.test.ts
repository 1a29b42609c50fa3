// The verify thread pool, for real: segment data checks on worker threads only
// run from the compiled code (dist/, built by npm test's pretest), so this test
// loads `verify` from there with two threads (this one and a worker) and checks
// that the pool gives the same report as the in-process checks, on an intact
// and on a tampered archive, and that a worker classifies a broken segment as
// this thread does.
import { existsSync } from 'node:fs';
import { cp, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPublicKeys, type PublicKeyEntry } from '../../../src/exporters/worm/keys.js';
import { LocalSource } from '../../../src/exporters/worm/source.js';
import type * as VerifyModule from '../../../src/exporters/worm/verify.js';
import type * as PoolModule from '../../../src/exporters/worm/verify-pool.js';
import type { Manifest } from '../../../src/exporters/worm/manifest.js';
import { checkSegmentBytes } from '../../../src/exporters/worm/verify-data.js';
import { archivePath, editSealedLines, makeBatch, manualClock, newExporter, tempDir } from './helpers.js';

const compiled = (rel: string) => resolve(process.cwd(), 'dist', 'src', 'exporters', 'worm', rel);
const built = existsSync(compiled('verify.js')) && existsSync(compiled('verify-worker.js'));
if (!built) console.warn('verify worker pool test skipped: run `npm run build` first (npm test does)');

let dir: string;
let cleanup: () => Promise<void>;
let keys: Map<string, PublicKeyEntry>;
let endTime: number;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('vigil-verify-pool-'));
  const clock = manualClock();
  const w = newExporter(dir, { heartbeat: '1m', segment: { max_bytes: '1MiB', max_age: '5m' } }, { timers: false, clock: clock.now });
  await w.start();
  for (let s = 0; s < 4; s++) {
    await w.consume(makeBatch(25, { start: s * 25 }));
    clock.advance(30_000);
    await w.sealNow();
  }
  await w.shutdown(new AbortController().signal);
  endTime = clock.now();
  keys = await loadPublicKeys([join(dir, 'keys', 'archive.pub')]);
});
afterAll(async () => cleanup?.());

describe.skipIf(!built)('verify worker pool (compiled)', () => {
  it('runs the checks on worker threads', async () => {
    const pool = (await import(pathToFileURL(compiled('verify-pool.js')).href)) as typeof PoolModule;
    const checker = pool.createDataChecker(2);
    try {
      expect(checker.parallel).toBe(2);
    } finally {
      await checker.close();
    }
  });

  it('gives the in-process report, intact and tampered', async () => {
    const { verifyArchive } = (await import(pathToFileURL(compiled('verify.js')).href)) as typeof VerifyModule;
    const report = async (archive: string, workers: number) => {
      const { durationMs: _d, ...r } = await verifyArchive(new LocalSource(archive), { keys, now: endTime, workers });
      return r;
    };
    const intact = await report(join(dir, 'archive'), 2);
    expect(intact).toMatchObject({ ok: true, segments: { checked: 5, valid: 5 }, records: { checked: 100, valid: 100 } });
    expect(intact).toEqual(await report(join(dir, 'archive'), 0));

    const copy = join(dir, 'copy');
    const tampered = join(copy, 'archive');
    await cp(join(dir, 'archive'), tampered, { recursive: true });
    await editSealedLines(archivePath(copy, 3, 'sealed'), (lines) => {
      lines[7] = lines[7].replace('/items/', '/itemz/');
      return lines;
    });
    const broken = await report(tampered, 2);
    expect(broken.ok).toBe(false);
    expect(broken.findings.filter((f) => f.severity === 'break').map((f) => ({ kind: f.kind, segment: f.segment, index: f.index }))).toEqual([
      { kind: 'modified', segment: 3, index: 7 },
    ]);
    expect(broken).toEqual(await report(tampered, 0));
  });
  it('a check that throws on a worker (a manifest forged without chain_prev) fails that job only, as on this thread: the pool goes on', async () => {
    // verify starts the checks of the next segments before it has read their manifests, so a forged
    // one reaches a thread; it is then named as malformed and its job's failure never awaited.
    const pool = (await import(pathToFileURL(compiled('verify-pool.js')).href)) as typeof PoolModule;
    const path = archivePath(dir, 2, 'sealed');
    const object = path.split('/').pop()!;
    const data = await readFile(path);
    const m = (JSON.parse(await readFile(archivePath(dir, 2, 'manifest'), 'utf8')) as { manifest: Manifest }).manifest;
    const { chain_prev: _gone, ...forged } = m;
    const checker = pool.createDataChecker(2);
    try {
      // An idle worker takes the first job waiting, this thread the second: a forged manifest on each.
      const failed = await Promise.allSettled([checker.checkFile(2, object, path, forged as Manifest), checker.check(2, object, Buffer.from(data), forged as Manifest)]);
      expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      const expected = await checkSegmentBytes(2, object, Buffer.from(data), m);
      expect(expected.validRecords).toBe(25);
      expect(await Promise.all([checker.check(2, object, Buffer.from(data), m), checker.check(2, object, Buffer.from(data), m)])).toEqual([expected, expected]);
      expect(await Promise.all([checker.checkFile(2, object, path, m), checker.checkFile(2, object, path, m)])).toEqual([
        { ...expected, bytesRead: data.length },
        { ...expected, bytesRead: data.length },
      ]);
    } finally {
      await checker.close();
    }
  });

  it('a worker proves a local segment file intact as this thread does, and leaves a changed one to the bytes path', async () => {
    const pool = (await import(pathToFileURL(compiled('verify-pool.js')).href)) as typeof PoolModule;
    const path = archivePath(dir, 2, 'sealed');
    const object = path.split('/').pop()!;
    const data = await readFile(path);
    const m = (JSON.parse(await readFile(archivePath(dir, 2, 'manifest'), 'utf8')) as { manifest: Manifest }).manifest;
    const expected = { ...(await checkSegmentBytes(2, object, Buffer.from(data), m)), bytesRead: data.length };
    expect(expected.validRecords).toBe(25);
    const checker = pool.createDataChecker(2);
    try {
      // An idle worker takes the first job waiting, this thread the second.
      const [onWorker, onMain] = await Promise.all([checker.checkFile(2, object, path, m), checker.checkFile(2, object, path, m)]);
      expect(onWorker).toEqual(expected);
      expect(onMain).toEqual(expected);
      const other = { ...m, merkle_root: '0'.repeat(64) };
      expect(await Promise.all([checker.checkFile(2, object, path, other), checker.checkFile(2, object, path, other)])).toEqual([undefined, undefined]);
    } finally {
      await checker.close();
    }
  });

  it('takes the workers started ahead (prestartWorkers): the same report', async () => {
    const pool = (await import(pathToFileURL(compiled('verify-pool.js')).href)) as typeof PoolModule;
    const { verifyArchive } = (await import(pathToFileURL(compiled('verify.js')).href)) as typeof VerifyModule;
    const report = async (workers: number) => {
      const { durationMs: _d, ...r } = await verifyArchive(new LocalSource(join(dir, 'archive')), { keys, now: endTime, workers });
      return r;
    };
    const segmentAhead = async (n: number) => {
      const path = archivePath(dir, n, 'sealed');
      const { manifest } = JSON.parse(await readFile(archivePath(dir, n, 'manifest'), 'utf8')) as { manifest: Manifest };
      return { object: path.split('/').pop()!, path, manifest };
    };
    const inProcess = await report(0);
    // Started ahead, checking segment 1 meanwhile: verify takes that check.
    pool.prestartWorkers([await segmentAhead(1)]);
    const ahead = await report(2);
    expect(ahead).toMatchObject({ ok: true, records: { valid: 100 } });
    expect(ahead).toEqual(inProcess);
    // A check started ahead against other manifest fields than verify reads is not taken (verify checks segment 1 itself).
    const forged = await segmentAhead(1);
    pool.prestartWorkers([{ ...forged, manifest: { ...forged.manifest, merkle_root: '0'.repeat(64) } }]);
    expect(await report(2)).toEqual(inProcess);
    // Started ahead but not needed (this thread alone): stopped, and the process is not kept alive by them.
    pool.prestartWorkers([await segmentAhead(1)]);
    expect(await report(0)).toEqual(inProcess);
  });

  it('a worker classifies a broken segment (the full check it loads on demand) as this thread does', async () => {
    const copy = join(dir, 'copy-worker');
    await cp(join(dir, 'archive'), join(copy, 'archive'), { recursive: true });
    await editSealedLines(archivePath(copy, 2, 'sealed'), (lines) => {
      lines[3] = lines[3].replace('/items/', '/itemz/');
      return lines;
    });
    const data = await readFile(archivePath(copy, 2, 'sealed'));
    const m = (JSON.parse(await readFile(archivePath(copy, 2, 'manifest'), 'utf8')) as { manifest: Manifest }).manifest;
    const object = archivePath(copy, 2, 'sealed').split('/').pop()!;
    const expected = await checkSegmentBytes(2, object, Buffer.from(data), m);
    expect(expected.findings.map((f) => ({ kind: f.kind, index: f.index }))).toEqual([{ kind: 'modified', index: 3 }]);
    const pool = (await import(pathToFileURL(compiled('verify-pool.js')).href)) as typeof PoolModule;
    const checker = pool.createDataChecker(2);
    try {
      // An idle worker takes the first job waiting, this thread the second.
      const [onWorker, onMain] = await Promise.all([checker.check(2, object, Buffer.from(data), m), checker.check(2, object, Buffer.from(data), m)]);
      expect(onWorker).toEqual(expected);
      expect(onMain).toEqual(expected);
    } finally {
      await checker.close();
    }
  });
});
