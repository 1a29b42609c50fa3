// Inclusion proofs (round trip, and a modified record failing) and queries.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPublicKeys, type PublicKeyEntry } from '../../../src/exporters/worm/keys.js';
import { buildProof, parseLocator, verifyProof } from '../../../src/exporters/worm/proof.js';
import { parsePredicate, queryArchive, type QueryStats } from '../../../src/exporters/worm/query.js';
import { LocalSource } from '../../../src/exporters/worm/source.js';
import { decodeJsonRequest } from '../../../src/otlp/json.js';
import { T0, editSealedLines, archivePath, makeBatch, manualClock, newExporter, tempDir } from './helpers.js';
import { generateKeyPairSync } from 'node:crypto';
import { keyIdOf } from '../../../src/exporters/worm/keys.js';

let dir: string;
let cleanup: () => Promise<void>;
let keys: Map<string, PublicKeyEntry>;
let source: LocalSource;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('vigil-proof-'));
  const clock = manualClock();
  const w = newExporter(dir, {}, { timers: false, clock: clock.now });
  await w.start();
  // March: alice and bob; April: alice only. Three sealed segments, plus an open one.
  await w.consume(makeBatch(20)); // rid-0..19, 2026-03-01
  await w.sealNow();
  await w.consume(makeBatch(7, { start: 20, time: Date.parse('2026-03-20T00:00:00Z') - 20_000 }));
  await w.sealNow();
  await w.consume(makeBatch(5, { start: 100, user: 'alice', time: Date.parse('2026-04-02T00:00:00Z') - 100_000 }));
  await w.sealNow();
  await w.consume(makeBatch(2, { start: 200 }));
  await w.crashForTest(); // leave segment 4 open (unsealed)
  keys = await loadPublicKeys([join(dir, 'keys', 'archive.pub')]);
  source = new LocalSource(join(dir, 'archive'));
});
afterAll(async () => cleanup());

describe('prove / verify-proof', () => {
  it('round trip by audit.record_id: the proof verifies offline with the public key', async () => {
    const { proof } = await buildProof(source, parseLocator('rid-23'));
    expect(proof).toMatchObject({ segment: 2, index: 3, tree_size: 7, format: 'vigil-inclusion-proof/1' });
    expect(proof.audit_path).toHaveLength(3);
    // Through JSON, as it would travel to an auditor.
    const verdict = verifyProof(JSON.parse(JSON.stringify(proof)), keys);
    expect(verdict.checks.filter((c) => !c.ok)).toEqual([]);
    expect(verdict.ok).toBe(true);
  });

  it('round trip by position segment:index, for every entry of a segment', async () => {
    for (let i = 0; i < 20; i++) {
      const { proof } = await buildProof(source, parseLocator(`1:${i}`));
      expect(verifyProof(proof, keys).ok).toBe(true);
    }
  });

  it('a proof of a modified record fails, and says which check', async () => {
    const { proof } = await buildProof(source, parseLocator('rid-4'));
    const tampered = structuredClone(proof);
    // The archived frame (v2) with one byte of the record changed, its stated hash kept.
    const frame = Buffer.from(tampered.frame!, 'base64');
    const at = frame.indexOf('/items/4');
    expect(at).toBeGreaterThan(0);
    frame[at + '/items/'.length] = '5'.charCodeAt(0);
    tampered.frame = frame.toString('base64');
    const v = verifyProof(tampered, keys);
    expect(v.ok).toBe(false);
    expect(v.checks.find((c) => c.name === 'entry hash')!.ok).toBe(false);
    // the readable copy changed but not the line: flagged as well
    const t2 = structuredClone(proof);
    (t2.record as any).resourceLogs[0].scopeLogs[0].logRecords[0].body.stringValue = 'edited';
    expect(verifyProof(t2, keys).checks.find((c) => c.name === 'record')!.ok).toBe(false);
    // a forged path
    const t3 = structuredClone(proof);
    t3.audit_path[0] = '0'.repeat(64);
    expect(verifyProof(t3, keys).checks.find((c) => c.name === 'Merkle inclusion')!.ok).toBe(false);
  });

  it('fails with the wrong public key', async () => {
    const { proof } = await buildProof(source, parseLocator('rid-4'));
    const { publicKey } = generateKeyPairSync('ed25519');
    const v = verifyProof(proof, new Map([[keyIdOf(publicKey), { keyId: keyIdOf(publicKey), key: publicKey, source: 'x' }]]));
    expect(v.ok).toBe(false);
    expect(v.checks.find((c) => c.name === 'manifest signature')!.detail).toMatch(/unknown key/);
  });

  it('refuses to prove a record that is not sealed yet, or that does not exist', async () => {
    await expect(buildProof(source, parseLocator('rid-200'))).rejects.toThrow(/open segment/);
    await expect(buildProof(source, parseLocator('nope'))).rejects.toThrow(/no record with audit.record_id nope/);
  });

  it('refuses to prove from a segment that no longer matches its manifest', async () => {
    const { dir: d2, cleanup: c2 } = await tempDir('vigil-proof2-');
    try {
      const w = newExporter(d2);
      await w.start();
      await w.consume(makeBatch(4));
      await w.shutdown(new AbortController().signal);
      await editSealedLines(archivePath(d2, 1, 'sealed'), (l) => [l[0], l[2], l[1], l[3]]);
      await expect(buildProof(new LocalSource(join(d2, 'archive')), parseLocator('rid-0'))).rejects.toThrow(/does not match its signed manifest/);
    } finally {
      await c2();
    }
  });
});

describe('query', () => {
  async function run(opts: Parameters<typeof queryArchive>[1]) {
    const stats: QueryStats = { scanned: 0, matched: 0, segmentsRead: 0, segmentsSkipped: 0, damaged: [] };
    const out = [];
    for await (const hit of queryArchive(source, opts, stats)) out.push(hit);
    return { out, stats };
  }
  const ids = (hits: { json: string }[]) =>
    hits.map((h) => JSON.parse(h.json).resourceLogs[0].scopeLogs[0].logRecords[0].attributes.find((a: any) => a.key === 'audit.record_id').value.stringValue);

  it('"everything alice did in March" as OTLP JSON lines, skipping segments outside the window', async () => {
    const { out, stats } = await run({ from: Date.parse('2026-03-01'), to: Date.parse('2026-04-01'), where: [parsePredicate('user.id=alice')] });
    expect(ids(out)).toEqual(['rid-0', 'rid-2', 'rid-4', 'rid-6', 'rid-8', 'rid-10', 'rid-12', 'rid-14', 'rid-16', 'rid-18', 'rid-20', 'rid-22', 'rid-24', 'rid-26', 'rid-200']);
    expect(stats.segmentsSkipped).toBe(1); // April's segment is never read
    // each line is an ExportLogsServiceRequest any OTLP/JSON reader takes
    for (const h of out) expect(decodeJsonRequest(h.json).request.resourceLogs[0].scopeLogs[0].logRecords).toHaveLength(1);
  });

  it('filters by resource attributes, !=, regex, and limits', async () => {
    expect((await run({ where: [parsePredicate('service.name=shop')] })).out).toHaveLength(34);
    expect(ids((await run({ where: [parsePredicate('user.id!=alice')], limit: 3 })).out)).toEqual(['rid-1', 'rid-3', 'rid-5']);
    expect(ids((await run({ where: [parsePredicate('url.path~^/items/10[0-9]$')] })).out)).toEqual(['rid-100', 'rid-101', 'rid-102', 'rid-103', 'rid-104']);
    expect((await run({ unsealed: false })).out).toHaveLength(32);
    expect((await run({ from: T0 + 5000, to: T0 + 8000 })).out.map((h) => h.time)).toEqual([T0 + 5000, T0 + 6000, T0 + 7000]);
  });

  it('rejects malformed filters with a hint', () => {
    expect(() => parsePredicate('nonsense')).toThrow(/expected attr=value/);
    expect(() => parsePredicate('a~(')).toThrow(/invalid regular expression/);
  });

  it('finds a double attribute by the text OTLP JSON gives it, NaN and ±Infinity included, in either format', async () => {
    for (const encoding of ['proto', 'json']) {
      const { dir: d2, cleanup: c2 } = await tempDir('vigil-query-double-');
      try {
        const w = newExporter(d2, { encoding });
        await w.start();
        const batch = makeBatch(4);
        [NaN, Infinity, -Infinity, 0.25].forEach((d, i) => batch[i].log.attributes.push({ key: 'ratio', value: { doubleValue: d } }));
        await w.consume(batch);
        await w.shutdown(new AbortController().signal);
        const src = new LocalSource(join(d2, 'archive'));
        for (const [text, id] of [['NaN', 'rid-0'], ['Infinity', 'rid-1'], ['-Infinity', 'rid-2'], ['0.25', 'rid-3']]) {
          const stats: QueryStats = { scanned: 0, matched: 0, segmentsRead: 0, segmentsSkipped: 0, damaged: [] };
          const out = [];
          for await (const hit of queryArchive(src, { where: [parsePredicate(`ratio=${text}`)] }, stats)) out.push(hit);
          expect([encoding, text, ids(out)]).toEqual([encoding, text, [id]]);
        }
      } finally {
        await c2();
      }
    }
  });

  it('leaves out records that fail their hash, and names them', async () => {
    const { dir: d2, cleanup: c2 } = await tempDir('vigil-query2-');
    try {
      const w = newExporter(d2);
      await w.start();
      await w.consume(makeBatch(3));
      await w.shutdown(new AbortController().signal);
      await editSealedLines(archivePath(d2, 1, 'sealed'), (l) => [l[0], l[1].replace('/items/1', '/items/9'), l[2]]);
      const stats: QueryStats = { scanned: 0, matched: 0, segmentsRead: 0, segmentsSkipped: 0, damaged: [] };
      const out = [];
      for await (const hit of queryArchive(new LocalSource(join(d2, 'archive')), {}, stats)) out.push(hit);
      expect(out).toHaveLength(2);
      expect(stats.damaged).toEqual([{ segment: 1, index: 1 }]);
    } finally {
      await c2();
    }
  });
});
