// The write side end to end: appends acknowledged only once durable, the
// canonical line format, sealing (size, age, heartbeat, shutdown), manifests
// and their signatures, keys, and an untouched archive verifying clean.
import { chmod, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENTRY_OFFSET, GENESIS_HASH } from '../../../src/exporters/worm/entry.js';
import { loadPublicKeys } from '../../../src/exporters/worm/keys.js';
import { canonicalJson } from '../../../src/exporters/worm/manifest.js';
import { LocalSource } from '../../../src/exporters/worm/source.js';
import { verifyArchive } from '../../../src/exporters/worm/verify.js';
import { batchToRequest, encodeRecordRequest } from '../../../src/otlp/convert.js';
import { encodeJsonRequest } from '../../../src/otlp/json.js';
import { Refusal } from '../../../src/pipeline/errors.js';
import { T0, archivePath, makeBatch, manualClock, newExporter, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

async function keys() {
  return loadPublicKeys([join(dir, 'keys', 'archive.pub')]);
}

describe('worm exporter: write side', () => {
  it('encoding: json stores each record as a hash-chained OTLP JSON line that ordinary tools can check (format v1)', async () => {
    const w = newExporter(dir, { encoding: 'json' });
    await w.start();
    const batch = makeBatch(3);
    await w.consume(batch);
    const open = await readFile(archivePath(dir, 1, 'open', 1));
    const lines = open.toString('utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    let prev = GENESIS_HASH;
    lines.forEach((line, i) => {
      const o = JSON.parse(line);
      // hash = SHA-256(0x00 || entry bytes), entry bytes = line[83 : -1]
      const entry = Buffer.from(line).subarray(ENTRY_OFFSET, Buffer.byteLength(line) - 1);
      expect(createHash('sha256').update(Buffer.of(0)).update(entry).digest('hex')).toBe(o.hash);
      expect(o.entry.seq).toBe(i + 1);
      expect(o.entry.prev).toBe(prev);
      prev = o.hash;
      // the record is the one-record ExportLogsServiceRequest, byte for byte what encodeJsonRequest gives
      expect(JSON.stringify(o.entry.record)).toBe(encodeJsonRequest(batchToRequest([batch[i]])));
    });
    await w.shutdown(new AbortController().signal);
    const sealed = gunzipSync(await readFile(archivePath(dir, 1, 'sealed', 1)));
    expect(sealed.equals(open)).toBe(true);
  });

  it('by default stores each record as a hash-chained frame holding its stand-alone protobuf request (format v2), sealed with zstd', async () => {
    const w = newExporter(dir, {}, { timers: false, clock: manualClock().now });
    await w.start();
    const batch = makeBatch(3);
    await w.consume(batch);
    const open = await readFile(archivePath(dir, 1, 'open'));
    // docs/archive-format.md, read by hand: header, then length | hash | kind seq at prev | payload.
    expect(open.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x56, 0x4c, 0x4f, 0x47, 0x0d, 0x0a, 0x02]));
    let pos = 8;
    let prev = Buffer.alloc(32);
    for (let i = 0; i < 3; i++) {
      const length = open.readUInt32BE(pos);
      const hash = open.subarray(pos + 4, pos + 36);
      const body = open.subarray(pos + 36, pos + 36 + length);
      expect(createHash('sha256').update(Buffer.of(0)).update(body).digest()).toEqual(hash);
      expect(body[0]).toBe(1); // a record
      expect(Number(body.readBigUInt64BE(1))).toBe(i + 1);
      expect(Number(body.readBigUInt64BE(9))).toBe(T0); // append time, ms
      expect(body.subarray(17, 49)).toEqual(prev);
      // the payload is the one-record ExportLogsServiceRequest, byte for byte what encodeRecordRequest gives
      expect(body.subarray(49)).toEqual(Buffer.from(encodeRecordRequest(batch[i])));
      prev = hash;
      pos += 36 + length;
    }
    expect(pos).toBe(open.length);
    await w.shutdown(new AbortController().signal);
    expect(zstdDecompressSync(await readFile(archivePath(dir, 1, 'sealed'))).equals(open)).toBe(true);
  });

  it('seals on shutdown with a signed manifest and verifies clean', async () => {
    const w = newExporter(dir, { retention: '400d' });
    await w.start();
    await w.consume(makeBatch(10));
    await w.consume(makeBatch(5, { start: 10 }));
    await w.shutdown(new AbortController().signal);
    const files = await readdir(join(dir, 'archive'));
    expect(files.sort()).toEqual(['archive.json', 'checkpoint.txt', 'segment-000000000001.manifest.json', 'segment-000000000001.vlog.zst']);
    const signed = JSON.parse(await readFile(archivePath(dir, 1, 'manifest'), 'utf8'));
    const m = signed.manifest;
    expect(m).toMatchObject({ segment: 1, entries: 15, records: 15, notes: 0, first_seq: 1, chain_prev: GENESIS_HASH, seal_reason: 'shutdown', prev_manifest: GENESIS_HASH });
    expect(m.segment_sha256).toBe(createHash('sha256').update(await readFile(archivePath(dir, 1, 'sealed'))).digest('hex'));
    expect(Date.parse(m.retain_until) - Date.parse(m.sealed_at)).toBeGreaterThanOrEqual(400 * 86_400_000);
    expect(canonicalJson(m)).toBe(JSON.stringify(m)); // stored in canonical key order
    const report = await verifyArchive(new LocalSource(join(dir, 'archive')), { keys: await keys() });
    expect(report.findings).toEqual([]);
    expect(report).toMatchObject({ ok: true, segments: { total: 1, checked: 1, valid: 1 }, records: { checked: 15, valid: 15 } });
  });

  it('generates the key pair 0600 with the public key beside it, and refuses a key others can read', async () => {
    const w = newExporter(dir);
    await w.start();
    await w.shutdown(new AbortController().signal);
    expect((await stat(join(dir, 'keys', 'archive.key'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dir, 'keys', 'archive.pub'), 'utf8')).toMatch(/BEGIN PUBLIC KEY/);
    await chmod(join(dir, 'keys', 'archive.key'), 0o644);
    const w2 = newExporter(dir);
    await expect(w2.start()).rejects.toThrow(/accessible by group or others.*chmod 600/);
  });

  it('seals on size, age and heartbeat; manifests chain', async () => {
    const clock = manualClock();
    const w = newExporter(dir, { segment: { max_bytes: '8KiB', max_age: '5m' }, heartbeat: '1m' }, { timers: false, clock: clock.now });
    await w.start();
    // size: ~50 records of ~450 bytes exceed 8 KiB
    for (let i = 0; i < 5; i++) await w.consume(makeBatch(10, { start: i * 10 }));
    expect(w.status().openSegment!.segment).toBeGreaterThan(1);
    // heartbeat: an empty segment is sealed after 1m
    await w.sealNow();
    clock.advance(61_000);
    await w.tick();
    // age: a segment with records is sealed after 5m, not at the heartbeat
    await w.consume(makeBatch(1, { start: 100 }));
    clock.advance(61_000);
    await w.tick();
    expect(w.status().openSegment!.records).toBe(1);
    clock.advance(240_000);
    await w.tick();
    await w.shutdown(new AbortController().signal);
    const reasons: string[] = [];
    const names = (await readdir(join(dir, 'archive'))).filter((f) => f.endsWith('.manifest.json')).sort();
    for (const f of names) reasons.push(JSON.parse(await readFile(join(dir, 'archive', f), 'utf8')).manifest.seal_reason);
    expect(reasons).toContain('size');
    expect(reasons).toContain('heartbeat');
    expect(reasons).toContain('age');
    expect(reasons[reasons.length - 1]).toBe('shutdown');
    const report = await verifyArchive(new LocalSource(join(dir, 'archive')), { keys: await keys(), now: clock.now() });
    expect(report.findings).toEqual([]);
    expect(report.records).toEqual({ checked: 51, valid: 51 });
  });

  it('refuses with a retryable status when not started or shutting down', async () => {
    const w = newExporter(dir);
    const err = await w.consume(makeBatch(1)).catch((e) => e);
    expect(err).toBeInstanceOf(Refusal);
    expect((err as Refusal).retryable).toBe(true);
  });
});

describe('verify options', () => {
  it('key rotation: manifests name their key; verify takes several public keys', async () => {
    const { copyFile, rename: mv } = await import('node:fs/promises');
    const w = newExporter(dir);
    await w.start();
    await w.consume(makeBatch(3));
    await w.shutdown(new AbortController().signal);
    // Rotate: keep the old public key, let Vigil generate a new pair.
    await copyFile(join(dir, 'keys', 'archive.pub'), join(dir, 'old.pub'));
    await mv(join(dir, 'keys', 'archive.key'), join(dir, 'old.key'));
    await mv(join(dir, 'keys', 'archive.pub'), join(dir, 'old-copy.pub'));
    // Asked for (signing.rotate): the new key signs from a segment sealed for reason `rotation`.
    const w2 = newExporter(dir, { signing: { key_file: join(dir, 'keys', 'archive.key'), rotate: true } });
    await w2.start();
    await w2.consume(makeBatch(3, { start: 3 }));
    await w2.shutdown(new AbortController().signal);
    const both = await loadPublicKeys([join(dir, 'old.pub'), join(dir, 'keys', 'archive.pub')]);
    const src = new LocalSource(join(dir, 'archive'));
    const r = await verifyArchive(src, { keys: both });
    expect(r.findings.map((f) => `${f.severity}:${f.kind}@${f.segment}`)).toEqual(['note:key rotation@2']);
    expect(r.ok).toBe(true);
    expect(r.records).toEqual({ checked: 6, valid: 6 });
    const onlyNew = await verifyArchive(src, { keys: await loadPublicKeys([join(dir, 'keys', 'archive.pub')]) });
    expect(onlyNew.findings.map((f) => `${f.kind}@${f.segment}`)).toEqual(['unknown key@1', 'key rotation@2']);
  });

  it('--from/--to checks the records of the segments in the window; manifests are always checked', async () => {
    const clock = manualClock();
    const w = newExporter(dir, {}, { timers: false, clock: clock.now });
    await w.start();
    for (let s = 0; s < 3; s++) {
      await w.consume(makeBatch(4, { start: s * 4, time: clock.now() }));
      clock.advance(3_600_000);
      await w.sealNow();
    }
    await w.shutdown(new AbortController().signal);
    const src = new LocalSource(join(dir, 'archive'));
    const r = await verifyArchive(src, { keys: await keys(), from: T0_PLUS(3_600_000), to: T0_PLUS(7_200_000 - 1), now: clock.now() });
    expect(r.ok).toBe(true);
    expect(r.records).toEqual({ checked: 4, valid: 4 });
    expect(r.segments.total).toBe(4);
  });
});

function T0_PLUS(ms: number): number {
  return Date.parse('2026-03-01T09:00:00.000Z') + ms;
}
