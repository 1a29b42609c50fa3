// Crash safety: what an unclean stop leaves (a torn tail, a seal cut short) is
// repaired at start-up, the chain continues, and verify names the repair
// honestly. And a full disk refuses with a retryable status and corrupts nothing.
import { execFileSync } from 'node:child_process';
import { appendFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GENESIS_HASH } from '../../../src/exporters/worm/entry.js';
import { loadPublicKeys } from '../../../src/exporters/worm/keys.js';
import { LocalSource, readSegmentContent } from '../../../src/exporters/worm/source.js';
import { recordRequest, splitEntries, viewEntry } from '../../../src/exporters/worm/entries.js';
import { groupListing } from '../../../src/exporters/worm/layout.js';
import { verifyArchive, type Finding } from '../../../src/exporters/worm/verify.js';
import { Refusal } from '../../../src/pipeline/errors.js';
import { archivePath, makeBatch, manualClock, newExporter, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('vigil-recover-')));
afterEach(async () => cleanup());

async function verify(now?: number) {
  const keys = await loadPublicKeys([join(dir, 'keys', 'archive.pub')]);
  return verifyArchive(new LocalSource(join(dir, 'archive')), { keys, now });
}

const kinds = (fs: Finding[]) => fs.map((f) => `${f.severity}:${f.kind}`);

/** The record ids in the archive, in order, read through the entry reader (either format). */
async function allRecordIds(): Promise<string[]> {
  const source = new LocalSource(join(dir, 'archive'));
  const ids: string[] = [];
  for (const g of groupListing(await source.list())) {
    for (const u of splitEntries((await readSegmentContent(source, g)).content)) {
      const v = viewEntry(u);
      if (typeof v === 'string' || v.kind !== 'record') continue;
      const log = recordRequest(v).resourceLogs[0].scopeLogs[0].logRecords[0];
      ids.push(log.attributes!.find((a) => a.key === 'audit.record_id')!.value!.stringValue!);
    }
  }
  return ids;
}

describe('start-up recovery', () => {
  it('after a crash with a clean tail: chain continues, verify notes the unclean stop', async () => {
    const clock = manualClock();
    const w = newExporter(dir, {}, { timers: false, clock: clock.now });
    await w.start();
    await w.consume(makeBatch(5));
    await w.tick(); // the heartbeat's signed checkpoint of the open segment covers the 5 records
    await w.crashForTest();
    clock.advance(600_000);
    const w2 = newExporter(dir, {}, { timers: false, clock: clock.now });
    await w2.start();
    await w2.consume(makeBatch(5, { start: 5 }));
    await w2.shutdown(new AbortController().signal);
    const r = await verify(clock.now());
    expect(kinds(r.findings)).toEqual(['note:unclean stop']);
    expect(r.ok).toBe(true);
    expect(r.records).toEqual({ checked: 10, valid: 10 });
    expect(r.findings[0].detail).toMatch(/Vigil was down from about 2026-03-01T09:00:00.000Z until 2026-03-01T09:10:00.000Z/);
    expect(await allRecordIds()).toEqual(Array.from({ length: 10 }, (_, i) => `rid-${i}`));
  });

  it('a torn tail is cut, the cut recorded in the chain, and verify names the repaired truncation', async () => {
    const w = newExporter(dir, { encoding: 'json' });
    await w.start();
    await w.consume(makeBatch(4));
    await w.tick();
    await w.crashForTest();
    // A write the crash interrupted: half a line, never acknowledged.
    const open = archivePath(dir, 1, 'open', 1);
    const lines = (await readFile(open, 'utf8')).split('\n');
    await appendFile(open, lines[1].slice(0, 120));
    const w2 = newExporter(dir, { encoding: 'json' });
    await w2.start();
    await w2.consume(makeBatch(2, { start: 4 }));
    await w2.shutdown(new AbortController().signal);
    const r = await verify();
    expect(r.ok).toBe(true);
    expect(kinds(r.findings)).toEqual(['note:repaired truncation']);
    expect(r.findings[0]).toMatchObject({ segment: 1, index: 4, seq: 5 });
    expect(r.findings[0].detail).toMatch(/cut a torn tail of 120 bytes/);
    expect(await allRecordIds()).toEqual(['rid-0', 'rid-1', 'rid-2', 'rid-3', 'rid-4', 'rid-5']);
  });

  it('garbage after the last good entry is cut too, counting the complete-looking lines', async () => {
    const w = newExporter(dir, { encoding: 'json' });
    await w.start();
    await w.consume(makeBatch(3));
    await w.crashForTest();
    const open = archivePath(dir, 1, 'open', 1);
    const lines = (await readFile(open, 'utf8')).split('\n');
    await appendFile(open, `${'\0'.repeat(64)}\n${lines[0]}\n`);
    const w2 = newExporter(dir, { encoding: 'json' });
    await w2.start();
    await w2.shutdown(new AbortController().signal);
    const r = await verify();
    expect(r.ok).toBe(true);
    expect(r.findings[0].detail).toMatch(/cut a torn tail of \d+ bytes \(2 complete-looking lines\)/);
    expect(await allRecordIds()).toEqual(['rid-0', 'rid-1', 'rid-2']);
  });

  it('v2: a torn frame is cut, the cut recorded in the chain, and verify names the repaired truncation', async () => {
    const w = newExporter(dir);
    await w.start();
    await w.consume(makeBatch(4));
    await w.tick();
    await w.crashForTest();
    const open = archivePath(dir, 1, 'open');
    const frames = [...splitEntries(await readFile(open))];
    expect(frames.map((u) => u.format)).toEqual([2, 2, 2, 2]);
    await appendFile(open, frames[1].bytes.subarray(0, 120)); // a frame the crash interrupted
    const w2 = newExporter(dir);
    await w2.start();
    await w2.consume(makeBatch(2, { start: 4 }));
    await w2.shutdown(new AbortController().signal);
    const r = await verify();
    expect(r.ok).toBe(true);
    expect(kinds(r.findings)).toEqual(['note:repaired truncation']);
    expect(r.findings[0]).toMatchObject({ segment: 1, index: 4, seq: 5 });
    expect(r.findings[0].detail).toMatch(/cut a torn tail of 120 bytes/);
    expect(await allRecordIds()).toEqual(['rid-0', 'rid-1', 'rid-2', 'rid-3', 'rid-4', 'rid-5']);
  });

  it('v2: a segment torn inside its header (the first write) is cut to nothing and written again', async () => {
    const w = newExporter(dir);
    await w.start();
    await w.crashForTest();
    await appendFile(archivePath(dir, 1, 'open'), Buffer.from([0x89, 0x56, 0x4c]));
    const w2 = newExporter(dir);
    await w2.start();
    await w2.consume(makeBatch(2));
    await w2.shutdown(new AbortController().signal);
    const r = await verify();
    expect(r.ok).toBe(true);
    expect(r.findings[0].detail).toMatch(/cut a torn tail of 3 bytes/);
    expect(await allRecordIds()).toEqual(['rid-0', 'rid-1']);
  });

  it('a seal cut short by a crash (intent written, manifest not) is finished at start-up', async () => {
    const clock = manualClock();
    const w = newExporter(dir, {}, { timers: false, clock: clock.now });
    await w.start();
    await w.consume(makeBatch(3));
    await w.tick();
    await w.crashForTest();
    // What the loop leaves between closing segment 1 and its background seal.
    const archive = join(dir, 'archive');
    const intent = { segment: 1, opened_at: clock.now(), sealed_at: clock.now() + 1000, seal_reason: 'size', first_seq: 1, chain_prev: GENESIS_HASH };
    await writeFile(join(archive, 'segment-000000000001.sealing.json'), JSON.stringify(intent));
    await writeFile(join(archive, 'segment-000000000002.jsonl'), '');
    await writeFile(join(archive, 'segment-000000000001.jsonl.gz.tmp'), 'partial');
    const w2 = newExporter(dir, {}, { timers: false, clock: clock.now });
    await w2.start();
    await w2.shutdown(new AbortController().signal);
    const m1 = JSON.parse(await readFile(archivePath(dir, 1, 'manifest'), 'utf8')).manifest;
    expect(m1).toMatchObject({ seal_reason: 'size', entries: 3, sealed_at: new Date(clock.now() + 1000).toISOString() });
    const names = await readdir(archive);
    expect(names.filter((n) => n.endsWith('.tmp') || n.endsWith('.sealing.json') || n.endsWith('.jsonl'))).toEqual([]);
    const r = await verify(clock.now());
    expect(r.ok).toBe(true);
    expect(kinds(r.findings)).toEqual(['note:unclean stop']);
  });

  it('an unsealed tail is reported as unsealed, not as valid', async () => {
    const w = newExporter(dir);
    await w.start();
    await w.consume(makeBatch(3));
    const r = await verify();
    expect(r.unsealed).toEqual({ segment: 1, records: 3 });
    expect(r.records.valid).toBe(0);
    expect(kinds(r.findings)).toEqual(['note:unsealed']);
    await w.shutdown(new AbortController().signal);
  });

  it('refuses a second writer on the same directory', async () => {
    const w = newExporter(dir);
    await w.start();
    await expect(newExporter(dir).start()).rejects.toThrow(/in use by this process/);
    await w.shutdown(new AbortController().signal);
  });

  it('takes over a stale lock: a dead pid, or this pid from an earlier incarnation (a restarted container)', async () => {
    await mkdir(join(dir, 'archive'), { recursive: true });
    for (const stale of [`${process.pid} 1\n`, '2147483646\n']) {
      await writeFile(join(dir, 'archive', '.lock'), stale);
      const w = newExporter(dir);
      await w.start();
      await w.shutdown(new AbortController().signal);
    }
  });
});

describe('disk full', () => {
  const mnt = () => join(dir, 'small');
  let mounted = false;
  beforeEach(async () => {
    await mkdir(mnt());
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt()], { stdio: 'ignore' });
      mounted = true;
    } catch {
      mounted = false;
    }
  });
  afterEach(() => {
    if (mounted) execFileSync('umount', [mnt()]);
    mounted = false;
  });

  it('refuses with a retryable status, corrupts nothing, and takes data again once space returns', async (ctx) => {
    if (!mounted) {
      ctx.skip(true, 'needs root to mount a small tmpfs; skipped');
      return;
    }
    const w = newExporter(dir, { directory: join(mnt(), 'archive'), segment: { max_bytes: '64MiB', max_age: '5m' } });
    await w.start();
    await w.consume(makeBatch(20));
    // Fill the disk, leaving a few hundred bytes.
    const filler = join(mnt(), 'filler');
    await writeFile(filler, Buffer.alloc(1)).catch(() => undefined);
    for (let chunk = 64 * 1024; chunk >= 64; chunk = Math.floor(chunk / 2)) {
      while (await appendFile(filler, Buffer.alloc(chunk)).then(() => true, () => false));
    }
    let refused = 0;
    for (let i = 0; i < 5; i++) {
      const err = await w.consume(makeBatch(20, { start: 1000 + i * 20 })).catch((e) => e);
      if (err) {
        expect(err).toBeInstanceOf(Refusal);
        expect((err as Refusal).retryable).toBe(true);
        expect((err as Refusal).message).toMatch(/storage is full/);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
    await rm(filler);
    await w.consume(makeBatch(5, { start: 20 }));
    await w.shutdown(new AbortController().signal);
    const keys = await loadPublicKeys([join(dir, 'keys', 'archive.pub')]);
    const r = await verifyArchive(new LocalSource(join(mnt(), 'archive')), { keys });
    expect(r.findings.filter((f) => f.severity === 'break')).toEqual([]);
    expect(r.records.valid).toBeGreaterThanOrEqual(25);
  });
});
