// Encrypted local segments (worm.encryption.key_file): no plaintext on disk,
// open or sealed; verify with and without the key; tampering; recovery of a
// torn encrypted tail; key-file permissions; no key material in the logs.
import { randomBytes } from 'node:crypto';
import { appendFile, chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadArchiveKey, parseArchiveKey } from '../../../src/exporters/worm/encryption.js';
import { assessEncryption } from '../../../src/exporters/worm/encryption-check.js';
import { loadPublicKeys } from '../../../src/exporters/worm/keys.js';
import { buildProof } from '../../../src/exporters/worm/proof.js';
import { type QueryStats, queryArchive } from '../../../src/exporters/worm/query.js';
import { LocalSource } from '../../../src/exporters/worm/source.js';
import { verifyArchive } from '../../../src/exporters/worm/verify.js';
import { WormExporter } from '../../../src/exporters/worm/worm.js';
import { Telemetry } from '../../../src/telemetry/metrics.js';
import { archivePath, makeBatch, manualClock, tempDir, wormConfig } from './helpers.js';

const MARKER = 'MARKER-7f3a-do-not-leak';

let root: string;
let cleanup: () => Promise<void>;
let n = 0;

/** A fresh archive dir with a 0600 key file (base64, as `openssl rand -base64 32` writes it). */
async function setup(): Promise<{ d: string; keyFile: string; keyBytes: Buffer }> {
  const d = join(root, `a${n++}`);
  await mkdir(join(d, 'keys'), { recursive: true });
  const keyBytes = randomBytes(32);
  const keyFile = join(d, 'keys', 'archive.enc.key');
  await writeFile(keyFile, `${keyBytes.toString('base64')}\n`, { mode: 0o600 });
  return { d, keyFile, keyBytes };
}

function capturingLogger(lines: string[]) {
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return pino({ level: 'debug' }, sink);
}

function exporter(d: string, keyFile: string, logs: string[] = []) {
  return new WormExporter('worm', wormConfig(d, { encryption: { key_file: keyFile } }), new Telemetry({ processMetrics: false }), capturingLogger(logs), { timers: false });
}

function markedBatch(count: number, start = 0) {
  const b = makeBatch(count, { start });
  for (const r of b) r.log.attributes.push({ key: 'note', value: { stringValue: `${MARKER}-${start}` } });
  return b;
}

async function source(d: string, keyFile?: string): Promise<LocalSource> {
  const s = new LocalSource(join(d, 'archive'));
  if (keyFile) s.archiveKey = await loadArchiveKey(keyFile);
  return s;
}

async function verify(d: string, keyFile?: string) {
  return verifyArchive(await source(d, keyFile), { keys: await loadPublicKeys([join(d, 'keys', 'archive.pub')]), workers: 0 });
}

async function allArchiveBytes(d: string): Promise<Buffer> {
  const dir = join(d, 'archive');
  return Buffer.concat(await Promise.all((await readdir(dir)).map((f) => readFile(join(dir, f)))));
}

async function queryAll(s: LocalSource): Promise<string[]> {
  const stats: QueryStats = { scanned: 0, matched: 0, segmentsRead: 0, segmentsSkipped: 0, damaged: [] };
  const out: string[] = [];
  for await (const hit of queryArchive(s, {}, stats)) out.push(hit.json);
  return out;
}

describe('encrypted local segments', () => {
  beforeAll(async () => ({ dir: root, cleanup } = await tempDir('vigil-enc-')));
  afterAll(async () => cleanup?.());

  it('neither the open segment nor the sealed one holds the plaintext of a record', async () => {
    const { d, keyFile } = await setup();
    const w = exporter(d, keyFile);
    await w.start();
    await w.consume(markedBatch(5));
    // Acknowledged, still open: on disk only as ciphertext.
    const openFile = await readFile(archivePath(d, 1, 'open'));
    expect(openFile.subarray(0, 10).toString()).toBe('VIGILENC1\n');
    expect(openFile.includes(MARKER)).toBe(false);
    expect(openFile.includes('alice')).toBe(false);
    await w.sealNow();
    await w.consume(markedBatch(5, 5));
    await w.shutdown(new AbortController().signal);
    const everything = await allArchiveBytes(d);
    expect(everything.includes(MARKER)).toBe(false);
    expect(everything.includes('/items/3')).toBe(false);
    const m = JSON.parse(await readFile(archivePath(d, 1, 'manifest'), 'utf8')).manifest;
    expect(m.encryption).toMatchObject({ alg: 'AES-256-GCM', key_id: (await loadArchiveKey(keyFile)).keyId });
    expect(m.content_bytes).toBeGreaterThan(m.segment_bytes - 200); // plaintext size, signed
  });

  it('verify without the key proves ciphertexts and signatures and says the records were not checked; with the key, everything; query and prove need the key', async () => {
    const { d, keyFile } = await setup();
    const w = exporter(d, keyFile);
    await w.start();
    await w.consume(markedBatch(6));
    await w.sealNow();
    await w.consume(markedBatch(4, 6));
    await w.shutdown(new AbortController().signal);

    const without = await verify(d);
    expect(without.ok).toBe(true);
    expect(without.records).toEqual({ checked: 10, valid: 0 });
    expect(without.findings.map((f) => `${f.severity}:${f.kind}@${f.segment}`)).toEqual(['note:encrypted@1', 'note:encrypted@2']);
    expect(without.findings[0].detail).toMatch(/6 records not checked: .*no archive key was given \(--key-file\); its ciphertext matches the signed SHA-256/);

    const withKey = await verify(d, keyFile);
    expect(withKey.findings).toEqual([]);
    expect(withKey).toMatchObject({ ok: true, segments: { valid: 2 }, records: { checked: 10, valid: 10 } });
    const item = assessEncryption(wormConfig(d, { encryption: { key_file: keyFile } }), [withKey]);
    expect(item).toMatchObject({ id: 'encryption', status: 'pass', details: { local: 'AES-256-GCM' } });
    expect(item.summary).toMatch(/^local segments encrypted \(AES-256-GCM, a data key per segment/);
    expect(assessEncryption(wormConfig(d), [withKey]).status).toBe('info');

    await expect(queryAll(await source(d))).rejects.toThrow(/segment 1 is encrypted: give the archive encryption key \(--key-file FILE\)/);
    const hits = await queryAll(await source(d, keyFile));
    expect(hits).toHaveLength(10);
    expect(hits[7]).toContain(`${MARKER}-6`);
    const { proof } = await buildProof(await source(d, keyFile), { segment: 2, index: 1 });
    expect(JSON.stringify(proof)).toContain(`${MARKER}-6`);
  });

  it('the open segment verifies with the key (decrypted chunk by chunk) and is noted unchecked without it', async () => {
    const { d, keyFile } = await setup();
    const w = exporter(d, keyFile);
    await w.start();
    await w.consume(markedBatch(3));
    await w.consume(markedBatch(2, 3)); // a second group commit: a second chunk
    const withKey = await verify(d, keyFile);
    expect(withKey.unsealed).toEqual({ segment: 1, records: 5 });
    const without = await verify(d);
    expect(without.findings.find((f) => f.kind === 'unsealed')?.detail).toMatch(/encrypted: not checked without the archive key/);
    await w.crashForTest();
  });

  it('a changed byte of ciphertext: modified without the key (SHA-256) and with it (AES-GCM authentication)', async () => {
    const { d, keyFile } = await setup();
    const w = exporter(d, keyFile);
    await w.start();
    await w.consume(markedBatch(8));
    await w.shutdown(new AbortController().signal);
    const path = archivePath(d, 1, 'sealed');
    const buf = await readFile(path);
    buf[buf.length - 40] ^= 0x01; // inside the last chunk's ciphertext
    await writeFile(path, buf);
    const without = await verify(d);
    expect(without.ok).toBe(false);
    expect(without.findings.filter((f) => f.severity === 'break').map((f) => `${f.kind}@${f.segment}`)).toEqual(['modified@1']);
    const withKey = await verify(d, keyFile);
    const b = withKey.findings.filter((f) => f.severity === 'break');
    expect(b.map((f) => f.kind)).toEqual(['modified', 'modified']);
    expect(b.map((f) => f.detail).join(' | ')).toMatch(/SHA-256 of its ciphertext.*\| segment 1 chunk 0 fails AES-GCM authentication/);
    expect(withKey.records.valid).toBe(0);
  });

  it('after a crash, a torn encrypted chunk is cut and the archive carries on; verify with the key names the repaired truncation', async () => {
    const { d, keyFile } = await setup();
    const w = exporter(d, keyFile);
    await w.start();
    await w.consume(markedBatch(4));
    await w.tick(); // the open segment's signed checkpoint covers the 4 records
    await w.crashForTest();
    // A write torn mid-chunk: a frame length promising more than was written.
    await appendFile(archivePath(d, 1, 'open'), Buffer.from([0, 0, 1, 0, 0xde, 0xad, 0xbe, 0xef]));
    const w2 = exporter(d, keyFile);
    await w2.start();
    await w2.consume(markedBatch(3, 4));
    await w2.shutdown(new AbortController().signal);
    const r = await verify(d, keyFile);
    expect(r.ok).toBe(true);
    expect(r.records).toEqual({ checked: 7, valid: 7 });
    expect(r.findings.map((f) => f.kind)).toEqual(['repaired truncation']);
    expect(r.findings[0].detail).toMatch(/torn tail of 8 bytes/);
    expect((await allArchiveBytes(d)).includes(MARKER)).toBe(false);
  });

  it('refuses a key file readable by group or others, and one that is not a 256-bit key, without printing it', async () => {
    const { d, keyFile, keyBytes } = await setup();
    await chmod(keyFile, 0o640);
    await expect(exporter(d, keyFile).start()).rejects.toThrow(/exporters\.worm\.encryption\.key_file: archive encryption key .* is accessible by group or others \(mode 640\): run chmod 600/);
    await chmod(keyFile, 0o600);
    await writeFile(keyFile, 'not-a-key-but-a-secret-anyway\n');
    const err = await exporter(d, keyFile)
      .start()
      .catch((e: Error) => e);
    expect(String(err)).toMatch(/does not hold a 256-bit key: write one with `openssl rand -base64 32/);
    expect(String(err)).not.toContain('not-a-key-but-a-secret-anyway');
    expect(() => parseArchiveKey(keyBytes.subarray(0, 16), 'short')).toThrow(/256-bit/);
    expect(parseArchiveKey(Buffer.from(keyBytes.toString('hex')), 'hex').keyId).toBe(parseArchiveKey(Buffer.from(keyBytes.toString('base64')), 'b64').keyId);
  });

  it('no log line carries the key, in hex or base64, through start, appends, seals, a crash and its recovery', async () => {
    const { d, keyFile, keyBytes } = await setup();
    const logs: string[] = [];
    const w = exporter(d, keyFile, logs);
    await w.start();
    await w.consume(markedBatch(5));
    await w.sealNow();
    await w.consume(markedBatch(5, 5));
    await w.crashForTest();
    await appendFile(archivePath(d, 2, 'open'), Buffer.from([0, 0, 0, 9, 1]));
    const w2 = exporter(d, keyFile, logs);
    await w2.start();
    expect(w2.describe().join('\n')).toMatch(/encrypted \(AES-256-GCM/);
    expect(w2.status().encryptionKeyId).toBe((await loadArchiveKey(keyFile)).keyId);
    logs.push(...w2.describe(), JSON.stringify(w2.status()));
    await w2.shutdown(new AbortController().signal);
    expect(logs.some((l) => l.includes('cutting a torn tail'))).toBe(true); // the logs were captured
    const text = logs.join('\n');
    for (const form of [keyBytes.toString('hex'), keyBytes.toString('base64'), keyBytes.toString('base64url'), keyBytes.toString('hex').toUpperCase()]) {
      expect(text.includes(form)).toBe(false);
      expect(text.includes(form.slice(0, 16))).toBe(false);
    }
    expect(text.includes(MARKER)).toBe(false);
  });
});

describe('crypto-shredding', () => {
  beforeAll(async () => ({ dir: root, cleanup } = await tempDir('vigil-shred-')));
  afterAll(async () => cleanup?.());

  it('destroys the day keys of segments whose retention ended, records it in the chain; verify reports them shredded, not broken', async () => {
    const { d, keyFile, keyBytes } = await setup();
    const clock = manualClock(Date.parse('2020-01-01T10:00:00Z'));
    const past = new WormExporter('worm', wormConfig(d, { retention: '1d', encryption: { key_file: keyFile } }), new Telemetry({ processMetrics: false }), capturingLogger([]), { timers: false, clock: clock.now });
    await past.start();
    await past.consume(markedBatch(4)); // segment 1, key of 2020-01-01, retained until 2020-01-02
    await past.sealNow();
    clock.set(Date.parse('2020-01-03T10:00:00Z'));
    await past.sealNow(); // segment 2 (empty): opened on 01-01, so under that day's key; retained until 01-04
    await past.consume(markedBatch(3, 4)); // segment 3, key of 2020-01-03
    clock.set(Date.parse('2020-01-10T10:00:00Z'));
    await past.shutdown(new AbortController().signal); // segment 3 sealed, retained until 2020-01-11
    const keyringPath = join(d, 'keys', 'archive.enc.keyring.json');
    const before = JSON.parse(await readFile(keyringPath, 'utf8'));
    expect(Object.keys(before.keks).sort()).toEqual(['k-2020-01-01', 'k-2020-01-03']);
    expect(JSON.stringify(before).includes(keyBytes.toString('base64'))).toBe(false);

    const w = exporter(d, keyFile);
    await w.start();
    const r = await w.shredKeys(Date.parse('2020-01-05T00:00:00Z'));
    await w.shutdown(new AbortController().signal);
    expect(r.keks).toEqual(['k-2020-01-01']);
    expect(r.segments).toEqual([1, 2]);
    expect(r.kept).toEqual([{ kek: 'k-2020-01-03', reason: expect.stringMatching(/^segment 3 is retained until 2020-01-11/) }]);
    const after = JSON.parse(await readFile(keyringPath, 'utf8'));
    expect(after.keks['k-2020-01-01']).toEqual({ created_at: before.keks['k-2020-01-01'].created_at, shredded_at: r.at });
    expect(after.keks['k-2020-01-03'].wrapped).toBe(before.keks['k-2020-01-03'].wrapped);

    const report = await verify(d, keyFile);
    expect(report.ok).toBe(true);
    expect(report.findings.filter((f) => f.kind === 'shredded').map((f) => f.segment)).toEqual([1, 2]);
    expect(report.findings.find((f) => f.kind === 'shredded')!.detail).toMatch(/^4 records unreadable: segment 1: day key k-2020-01-01, which wrapped its data key, was destroyed by `vigil keys shred` at .*still matches the signed SHA-256/);
    expect(report.findings.filter((f) => f.severity === 'break')).toEqual([]);
    expect(report.records.valid).toBe(3); // segment 3's records; the shred note's segment holds no records
    // The shredding is in the chain: the note in the segment the shred run sealed.
    const hits = await queryAll(await source(d, keyFile));
    expect(hits).toHaveLength(3);
    await expect(buildProof(await source(d, keyFile), { segment: 1, index: 0 })).rejects.toThrow(/^segment 1: day key k-2020-01-01, which wrapped its data key, was destroyed/);
    const shredSegment = (await readdir(join(d, 'archive'))).filter((f) => f.endsWith('.manifest.json')).length; // the shred run's own (last) segment
    const content = (await import('../../../src/exporters/worm/source.js')).readSegmentContent;
    const { groupListing } = await import('../../../src/exporters/worm/layout.js');
    const s = await source(d, keyFile);
    const g = groupListing(await s.list()).find((x) => x.segment === shredSegment)!;
    const { splitEntries, viewEntry, noteOf } = await import('../../../src/exporters/worm/entries.js');
    const notes = [...splitEntries((await content(s, g)).content)].map(viewEntry).filter((v) => typeof v !== 'string' && v.kind === 'note');
    expect(notes.map((v) => noteOf(v as Exclude<typeof v, string>))).toContainEqual(expect.objectContaining({ kind: 'shred', keks: ['k-2020-01-01'], segments: [1, 2], before: '2020-01-05T00:00:00.000Z' }));
    // Shredding again finds nothing new; without the key verify still proves every ciphertext.
    const w2 = exporter(d, keyFile);
    await w2.start();
    expect((await w2.shredKeys(Date.parse('2020-01-05T00:00:00Z'))).keks).toEqual([]);
    await w2.shutdown(new AbortController().signal);
    expect((await verify(d)).ok).toBe(true);
  });

  it('a day key destroyed before its segments\' retention ended (by hand, not by keys shred) is a break: records erased within retention', async () => {
    const { d, keyFile } = await setup();
    const w = new WormExporter('worm', wormConfig(d, { retention: '400d', encryption: { key_file: keyFile } }), new Telemetry({ processMetrics: false }), capturingLogger([]), { timers: false });
    await w.start();
    await w.consume(markedBatch(3));
    await w.shutdown(new AbortController().signal);
    const key = await loadArchiveKey(keyFile);
    await key.keyring!.shred(key.keyring!.ids(), new Date().toISOString());
    const r = await verify(d, keyFile);
    expect(r.ok).toBe(false);
    const b = r.findings.filter((f) => f.severity === 'break');
    expect(b.map((f) => `${f.kind}@${f.segment}`)).toEqual(['missing@1']);
    expect(b[0].detail).toMatch(/^3 records erased within retention: segment 1: day key k-\d{4}-\d{2}-\d{2}, which wrapped its data key, was destroyed .* but the segment is retained until \d{4}/);
  });
});
