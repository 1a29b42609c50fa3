// Archives of both entry formats in one directory: a v1 archive (encoding: json)
// continued after an upgrade by a v2 writer (encoding: proto), cleanly or after
// a crash, verifies as one chain; query and prove read both; a second data file
// for a segment is never silently chosen over the signed one.
import { copyFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPublicKeys } from '../../../src/exporters/worm/keys.js';
import { buildProof, verifyProof } from '../../../src/exporters/worm/proof.js';
import { type QueryStats, queryArchive } from '../../../src/exporters/worm/query.js';
import { LocalSource } from '../../../src/exporters/worm/source.js';
import { verifyArchive } from '../../../src/exporters/worm/verify.js';
import { batchToRequest } from '../../../src/otlp/convert.js';
import { encodeJsonRequest } from '../../../src/otlp/json.js';
import { archivePath, makeBatch, manualClock, newExporter, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('vigil-formats-')));
afterEach(async () => cleanup());

const source = () => new LocalSource(join(dir, 'archive'));
const keys = () => loadPublicKeys([join(dir, 'keys', 'archive.pub')]);

async function queryAll(): Promise<string[]> {
  const stats: QueryStats = { scanned: 0, matched: 0, segmentsRead: 0, segmentsSkipped: 0, damaged: [] };
  const out: string[] = [];
  for await (const h of queryArchive(source(), {}, stats)) out.push(h.json);
  expect(stats.damaged).toEqual([]);
  return out;
}

/** Two segments of 5 records written with `encoding`, then a clean shutdown or a crash. */
async function run(encoding: 'json' | 'proto', start: number, clock: ReturnType<typeof manualClock>, end: 'shutdown' | 'crash') {
  const w = newExporter(dir, { encoding, heartbeat: '1m', segment: { max_bytes: '1MiB', max_age: '5m' } }, { timers: false, clock: clock.now });
  await w.start();
  for (let s = 0; s < 2; s++) {
    await w.consume(makeBatch(5, { start: start + s * 5 }));
    clock.advance(10_000);
    if (s === 0 || end === 'shutdown') await w.sealNow();
  }
  if (end === 'shutdown') await w.shutdown(new AbortController().signal);
  else {
    await w.tick();
    await w.crashForTest();
  }
}

describe('a v1 archive continued by a v2 writer', () => {
  it('after a clean shutdown: one chain across formats; query renders the same OTLP JSON from both; prove works on both', async () => {
    const clock = manualClock();
    await run('json', 0, clock, 'shutdown');
    await run('proto', 10, clock, 'shutdown');
    const names = (await readdir(join(dir, 'archive'))).filter((n) => /\.(jsonl\.gz|vlog\.zst)$/.test(n)).sort();
    expect(names).toEqual([
      'segment-000000000001.jsonl.gz',
      'segment-000000000002.jsonl.gz',
      'segment-000000000003.jsonl.gz', // the v1 writer's shutdown seal (empty)
      'segment-000000000004.vlog.zst',
      'segment-000000000005.vlog.zst',
      'segment-000000000006.vlog.zst',
    ]);
    const r = await verifyArchive(source(), { keys: await keys(), now: clock.now() });
    expect(r.findings).toEqual([]);
    expect(r).toMatchObject({ ok: true, records: { checked: 20, valid: 20 } });
    // Every record as OTLP JSON, byte for byte what the OTLP/JSON encoder gives for it, whichever format holds it.
    const expected = [...makeBatch(10), ...makeBatch(10, { start: 10 })].map((rec) => encodeJsonRequest(batchToRequest([rec])));
    expect(await queryAll()).toEqual(expected);
    for (const id of ['rid-3', 'rid-13']) {
      const { proof } = await buildProof(source(), { recordId: id });
      expect(proof.segment).toBe(id === 'rid-3' ? 1 : 4);
      expect(id === 'rid-3' ? proof.line : proof.frame).toBeDefined();
      expect(verifyProof(JSON.parse(JSON.stringify(proof)), await keys()).ok).toBe(true);
    }
  });

  it('after a crash: the recovery note goes into the v1 open segment, which is sealed; v2 segments follow; verify names the unclean stop', async () => {
    const clock = manualClock();
    await run('json', 0, clock, 'crash');
    expect((await readdir(join(dir, 'archive'))).some((n) => n === 'segment-000000000002.jsonl')).toBe(true);
    clock.advance(30_000);
    await run('proto', 10, clock, 'shutdown');
    const r = await verifyArchive(source(), { keys: await keys(), now: clock.now() });
    // The 5 records of the crashed segment were written within a heartbeat of the last seal: no checkpoint of them yet.
    expect(r.findings.map((f) => `${f.severity}:${f.kind}@${f.segment}`)).toEqual(['note:unclean stop@2', 'note:recovered, unsigned before@2']);
    expect(r).toMatchObject({ ok: true, records: { checked: 20, valid: 20 } });
    const names = await readdir(join(dir, 'archive'));
    expect(names).toContain('segment-000000000002.jsonl.gz');
    expect(names).toContain('segment-000000000003.vlog.zst');
    expect((await queryAll()).length).toBe(20);
  });
});

describe('one data file per segment', () => {
  it('a copy of a sealed segment under the other format\'s name beside it is a break, not a silent choice', async () => {
    const clock = manualClock();
    await run('proto', 0, clock, 'shutdown');
    await copyFile(archivePath(dir, 1, 'sealed'), archivePath(dir, 1, 'sealed', 1));
    const r = await verifyArchive(source(), { keys: await keys(), now: clock.now() });
    expect(r.ok).toBe(false);
    const b = r.findings.filter((f) => f.severity === 'break');
    expect(b.map((f) => [f.kind, f.segment, f.object])).toContainEqual(['foreign file', 1, 'segment-000000000001.vlog.zst']);
  });
});
