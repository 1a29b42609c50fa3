// Tampering, each detected with the right kind and location: what an
// administrator with write access to the archive directory could do. Every
// case runs on an archive of each format (v2 framed protobuf, v1 JSON lines).
import { copyFile, readFile, rename, truncate, unlink, writeFile } from 'node:fs/promises';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cp, rm } from 'node:fs/promises';
import { gunzipSync, gzipSync, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { exportRecords } from '../../../src/exporters/worm/export.js';
import { keyIdOf, loadPublicKeys, type PublicKeyEntry } from '../../../src/exporters/worm/keys.js';
import { canonicalJson, serializeSignedManifest, signManifest, type Manifest } from '../../../src/exporters/worm/manifest.js';
import { LocalSource } from '../../../src/exporters/worm/source.js';
import { type Finding, verifyArchive } from '../../../src/exporters/worm/verify.js';
import { ENCODINGS, archivePath, editSealedLines, forgeLine, formatOf, makeBatch, manualClock, newExporter, tempDir } from './helpers.js';

describe.each(ENCODINGS)('encoding: %s', (encoding) => {
  // One pristine archive (4 segments × 10 records, then a clean shutdown seal), copied per test.
  let pristine: string;
  let cleanupPristine: () => Promise<void>;
  let endTime: number;
  let work: string;
  let keys: Map<string, PublicKeyEntry>;

  beforeAll(async () => {
    ({ dir: pristine, cleanup: cleanupPristine } = await tempDir('vigil-tamper-'));
    const clock = manualClock();
    const w = newExporter(pristine, { encoding, heartbeat: '1m', segment: { max_bytes: '1MiB', max_age: '5m' } }, { timers: false, clock: clock.now });
    await w.start();
    for (let s = 0; s < 4; s++) {
      await w.consume(makeBatch(10, { start: s * 10 }));
      clock.advance(30_000);
      await w.sealNow();
    }
    await w.shutdown(new AbortController().signal); // segment 5: empty, reason shutdown
    endTime = clock.now();
    keys = await loadPublicKeys([join(pristine, 'keys', 'archive.pub')]);
  });
  afterAll(async () => cleanupPristine());

  beforeEach(async () => {
    work = join(pristine, `copy-${Math.random().toString(36).slice(2)}`);
    await cp(join(pristine, 'archive'), join(work, 'archive'), { recursive: true });
    return () => rm(work, { recursive: true, force: true });
  });

  async function verify(now = endTime, k = keys) {
    return verifyArchive(new LocalSource(join(work, 'archive')), { keys: k, now });
  }

  function breaks(findings: Finding[]) {
    return findings.filter((f) => f.severity === 'break').map(({ kind, segment, index, seq }) => ({ kind, segment, index, seq }));
  }

  const seg = (n: number, kind: 'sealed' | 'manifest') => archivePath(work, n, kind, formatOf(encoding));

  describe('verify names each break', () => {
    it('an untouched archive verifies clean', async () => {
      const r = await verify();
      expect(r.findings).toEqual([]);
      expect(r).toMatchObject({ ok: true, segments: { total: 5, checked: 5, valid: 5 }, records: { checked: 40, valid: 40 } });
    });

    it('one byte flipped in a record: modified, at its segment and index', async () => {
      await editSealedLines(seg(2, 'sealed'), (lines) => {
        lines[4] = lines[4].replace('/items/14', '/items/15');
        return lines;
      });
      const r = await verify();
      expect(r.ok).toBe(false);
      expect(breaks(r.findings)).toEqual([{ kind: 'modified', segment: 2, index: 4, seq: 15 }]);
      expect(r.records.valid).toBe(39);
    });

    it('one byte flipped in the compressed file: modified, in that segment', async () => {
      const buf = await readFile(seg(3, 'sealed'));
      buf[Math.floor(buf.length / 2)] ^= 0x01;
      await writeFile(seg(3, 'sealed'), buf);
      const r = await verify();
      const b = breaks(r.findings);
      expect(b.length).toBeGreaterThanOrEqual(1);
      expect(b.every((f) => f.segment === 3 && f.kind === 'modified')).toBe(true);
    });


    it('the file recompressed with every entry unchanged: modified (its signed SHA-256), the records themselves still valid', async () => {
      await editSealedLines(seg(3, 'sealed'), (lines) => lines);
      const r = await verify();
      expect(breaks(r.findings)).toEqual([{ kind: 'modified', segment: 3, index: undefined, seq: undefined }]);
      expect(r.findings.find((f) => f.severity === 'break')!.detail).toMatch(/differs from the SHA-256 in its signed manifest/);
      expect(r).toMatchObject({ ok: false, segments: { valid: 4 }, records: { valid: 40 } });
    });
    it('a record rewritten with its hash recomputed: modified (the next entry no longer links to it)', async () => {
      await editSealedLines(seg(2, 'sealed'), (lines) => {
        lines[6] = forgeLine(lines[6], (e) => (e.record.resourceLogs[0].scopeLogs[0].logRecords[0].body.stringValue = 'GET /nothing-to-see'));
        return lines;
      });
      expect(breaks((await verify()).findings)).toEqual([{ kind: 'modified', segment: 2, index: 6, seq: 17 }]);
    });

    it('the last record rewritten with its hash recomputed: modified (differs from the signed last hash)', async () => {
      await editSealedLines(seg(2, 'sealed'), (lines) => {
        lines[9] = forgeLine(lines[9], (e) => (e.record.resourceLogs[0].scopeLogs[0].logRecords[0].severityText = 'DEBUG'));
        return lines;
      });
      expect(breaks((await verify()).findings)).toEqual([{ kind: 'modified', segment: 2, index: 9, seq: 20 }]);
    });

    it('a record rewritten and the chain recomputed after it: reported from the start of the unproven run, never from its end, none of it valid', async () => {
      // Before, verify named only the last entry of the run (where the link broke), and counted the rest valid.
      const recompute = (to: number) =>
        editSealedLines(seg(2, 'sealed'), (lines) => {
          let prev: string | undefined;
          for (let i = 3; i <= to; i++) {
            lines[i] = forgeLine(lines[i], (e) => {
              if (i === 3) e.record.resourceLogs[0].scopeLogs[0].logRecords[0].body.stringValue = 'GET /nothing-to-see';
              if (prev) e.prev = prev;
            });
            prev = JSON.parse(lines[i]).hash;
          }
          return lines;
        });
      await recompute(5); // links recomputed up to seq 16; seq 17 still names the original
      const r = await verify();
      expect(breaks(r.findings)).toEqual([{ kind: 'modified', segment: 2, index: 0, seq: 11 }]);
      expect(r.findings[0].detail).toMatch(/entries seq 11–16 \(index 0–5\) are not the signed ones: .*seq 17 does not link to; the first rewritten entry is at or after index 0/);
      expect(r.records.valid).toBe(34);
      await cp(join(pristine, 'archive'), join(work, 'archive'), { recursive: true, force: true });
      await recompute(9); // …through the end of the segment
      const all = await verify();
      expect(breaks(all.findings)).toEqual([{ kind: 'modified', segment: 2, index: 0, seq: 11 }]);
      expect(all.findings[0].detail).toMatch(/entries seq 11–20 .* differs from the signed last_hash/);
      expect(all.records.valid).toBe(30);
    });

    it('two separate records rewritten (hashes recomputed, links not): each named exactly, the Merkle root proves nothing else changed', async () => {
      await editSealedLines(seg(2, 'sealed'), (lines) => {
        for (const i of [2, 7]) lines[i] = forgeLine(lines[i], (e) => (e.record.resourceLogs[0].scopeLogs[0].logRecords[0].severityText = 'DEBUG'));
        return lines;
      });
      const r = await verify();
      expect(breaks(r.findings)).toEqual([
        { kind: 'modified', segment: 2, index: 2, seq: 13 },
        { kind: 'modified', segment: 2, index: 7, seq: 18 },
      ]);
      expect(r.records.valid).toBe(38);
    });

    it('a record deleted: missing, before the index where it was', async () => {
      await editSealedLines(seg(2, 'sealed'), (lines) => lines.filter((_, i) => i !== 3));
      expect(breaks((await verify()).findings)).toEqual([{ kind: 'missing', segment: 2, index: 3, seq: 14 }]);
    });

    it('a forged record inserted: inserted, at its index', async () => {
      await editSealedLines(seg(1, 'sealed'), (lines) => {
        const forged = forgeLine(lines[5], (e) => (e.record.resourceLogs[0].scopeLogs[0].logRecords[0].body.stringValue = 'GET /admin/export 200'));
        return [...lines.slice(0, 6), forged, ...lines.slice(6)];
      });
      expect(breaks((await verify()).findings)).toEqual([{ kind: 'inserted', segment: 1, index: 6, seq: 6 }]);
    });

    it('a forged record with a fresh seq appended: inserted', async () => {
      await editSealedLines(seg(4, 'sealed'), (lines) => [...lines, forgeLine(lines[9], (e) => (e.seq = 41))]);
      expect(breaks((await verify()).findings)).toEqual([{ kind: 'inserted', segment: 4, index: 10, seq: 41 }]);
    });

    it('a record duplicated: inserted (duplicate)', async () => {
      await editSealedLines(seg(2, 'sealed'), (lines) => [...lines.slice(0, 3), lines[2], ...lines.slice(3)]);
      const r = await verify();
      expect(breaks(r.findings)).toEqual([{ kind: 'inserted', segment: 2, index: 3, seq: 13 }]);
      expect(r.findings[0].detail).toMatch(/duplicate of the entry at index 2/);
    });

    it('two records swapped: reordered', async () => {
      await editSealedLines(seg(3, 'sealed'), (lines) => {
        [lines[3], lines[4]] = [lines[4], lines[3]];
        return lines;
      });
      expect(breaks((await verify()).findings)).toEqual([{ kind: 'reordered', segment: 3, index: 4, seq: 24 }]);
    });

    it('a segment cut short (its last records removed): truncated', async () => {
      await editSealedLines(seg(2, 'sealed'), (lines) => lines.slice(0, 6));
      expect(breaks((await verify()).findings)).toEqual([{ kind: 'truncated', segment: 2, index: 6, seq: 17 }]);
    });

    it('a segment file cut in the middle of its bytes: truncated', async () => {
      const size = (await readFile(seg(2, 'sealed'))).length;
      await truncate(seg(2, 'sealed'), Math.floor(size / 2));
      const b = breaks((await verify()).findings);
      expect(b).toHaveLength(1);
      expect(b[0]).toMatchObject({ kind: 'truncated', segment: 2 });
    });

    it('a sealed segment swapped for a decompression bomb (its entries, then 64 MiB of zeros): modified, inflated no further than its signed content_bytes allows; export refuses it', async () => {
      const path = seg(2, 'sealed');
      const v1 = formatOf(encoding) === 1;
      const content = v1 ? gunzipSync(await readFile(path)) : zstdDecompressSync(await readFile(path));
      const bomb = Buffer.concat([content, Buffer.alloc(64 * 1024 * 1024)]);
      await writeFile(path, v1 ? gzipSync(bomb) : zstdCompressSync(bomb));
      const before = (await verifyArchive(new LocalSource(join(pristine, 'archive')), { keys, now: endTime })).contentBytes;
      const r = await verify();
      expect(breaks(r.findings)).toMatchObject([{ kind: 'modified', segment: 2, index: 10 }]); // the zeros after its 10 entries
      expect(r.records.valid).toBe(40);
      // Segment 2 inflated to at most twice its signed content_bytes + 1 MiB, not its 64 MiB of zeros.
      expect(r.contentBytes - before).toBeLessThanOrEqual(content.length + 1024 * 1024);
      const exported = async () => {
        for await (const _ of exportRecords(new LocalSource(join(work, 'archive')), { keys })) void _;
      };
      await expect(exported()).rejects.toThrow(/segment 2 .*inflates far beyond the \d+ bytes its signed manifest states/);
    });

    it('a whole middle segment deleted with its manifest: missing segment', async () => {
      await unlink(seg(3, 'sealed'));
      await unlink(seg(3, 'manifest'));
      const r = await verify();
      expect(breaks(r.findings)).toEqual([{ kind: 'missing', segment: 3, index: undefined, seq: undefined }]);
      expect(r.findings[0].detail).toMatch(/segment 3 missing with its manifest, records seq 21–30 \(10 entries\)/);
    });

    it('a stop without a shutdown seal: an unproven tail once two heartbeats have passed since anything was signed', async () => {
      await unlink(seg(5, 'sealed'));
      await unlink(seg(5, 'manifest')); // the shutdown seal gone; checkpoint.txt (the writer's) is left
      await writeFile(join(work, 'archive', 'checkpoint.txt'), (await readFile(join(work, 'archive', 'checkpoint.txt'), 'utf8')).replace(/^.*segment=5 .*\n/m, ''));
      const sealed4 = Date.parse(JSON.parse(await readFile(seg(4, 'manifest'), 'utf8')).manifest.sealed_at);
      expect((await verify(sealed4 + 2 * 60_000)).ok).toBe(true);
      const r = await verify(sealed4 + 2 * 60_000 + 1);
      expect(breaks(r.findings)).toEqual([{ kind: 'gap', segment: 5, index: undefined, seq: undefined }]);
      expect(r.findings[0].detail).toMatch(/although a running Vigil signs at least every 60s/);
    });

    it('the newest segments deleted: a gap, caught by the heartbeat', async () => {
      for (const n of [4, 5]) {
        await unlink(seg(n, 'sealed'));
        await unlink(seg(n, 'manifest'));
      }
      // The archive's own checkpoint.txt still names segment 5: truncated at once.
      const own = await verify(endTime);
      expect(breaks(own.findings)).toEqual([{ kind: 'truncated', segment: 4, index: undefined, seq: undefined }]);
      expect(own.findings[0].detail).toMatch(/checkpoint\.txt .* is not reached: .*segments 4–5 are missing/);
      // Whoever deletes segments can delete that file too. Right after the last remaining seal nothing is overdue yet…
      await unlink(join(work, 'archive', 'checkpoint.txt'));
      expect((await verify(endTime)).ok).toBe(true);
      const sealed3 = Date.parse(JSON.parse(await readFile(seg(3, 'manifest'), 'utf8')).manifest.sealed_at);
      // Without the open segment's checkpoints a segment with records is sealed only by age (5m here): two of those.
      expect((await verify(sealed3 + 2 * 300_000)).ok).toBe(true);
      const r = await verify(sealed3 + 2 * 300_000 + 1);
      expect(breaks(r.findings)).toEqual([{ kind: 'gap', segment: 4, index: undefined, seq: undefined }]);
      expect(r.findings[0].detail).toMatch(/unproven tail: nothing signed since .* although a running Vigil signs at least every 5m/);
      // The intact archive, with its clean shutdown seal, is not overdue an hour later.
      await cp(join(pristine, 'archive'), join(work, 'archive'), { recursive: true, force: true });
      expect((await verify(endTime + 3_600_000)).ok).toBe(true);
    });

    it('a forged manifest re-signed with another key: unknown key; claiming the real key id: bad signature', async () => {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const original = JSON.parse(await readFile(seg(2, 'manifest'), 'utf8')).manifest as Manifest;
      // Hide a deleted record: recount and re-sign with the attacker's key.
      await editSealedLines(seg(2, 'sealed'), (lines) => lines.slice(0, 9));
      const forged = { ...original, entries: 9, records: 9, key_id: keyIdOf(publicKey) };
      await writeFile(seg(2, 'manifest'), serializeSignedManifest(signManifest(forged, privateKey)));
      let kinds = breaks((await verify()).findings).map((f) => `${f.kind}@${f.segment}`);
      expect(kinds).toContain('unknown key@2');
      const claimed = { ...forged, key_id: original.key_id };
      await writeFile(seg(2, 'manifest'), serializeSignedManifest(signManifest(claimed, privateKey)));
      kinds = breaks((await verify()).findings).map((f) => `${f.kind}@${f.segment}`);
      expect(kinds).toContain('bad signature@2');
      expect(canonicalJson(claimed)).not.toBe(canonicalJson(original));
    });

    it('a manifest replaced by an older one: modified, at the replaced segment', async () => {
      await copyFile(seg(1, 'manifest'), seg(3, 'manifest'));
      const r = await verify();
      const b = breaks(r.findings);
      expect(b[0]).toMatchObject({ kind: 'modified', segment: 3 });
      expect(r.findings[0].detail).toMatch(/replaced by an older manifest \(it is segment 1's\)/);
    });

    it('a segment file renamed into another position: detected', async () => {
      await unlink(seg(4, 'sealed'));
      await rename(seg(2, 'sealed'), seg(4, 'sealed'));
      const b = breaks((await verify()).findings);
      expect(b.some((f) => f.segment === 2 && f.kind === 'missing')).toBe(true);
      expect(b.some((f) => f.segment === 4)).toBe(true);
    });

    it('a public key for another archive: every manifest is by an unknown key', async () => {
      const { publicKey } = generateKeyPairSync('ed25519');
      const other = new Map([[keyIdOf(publicKey), { keyId: keyIdOf(publicKey), key: publicKey, source: 'other.pub' }]]);
      const r = await verify(endTime, other);
      expect(new Set(breaks(r.findings).map((f) => f.kind))).toEqual(new Set(['unknown key']));
    });
  });
});
