// The archive commands as a user runs them: `node bin/vigil.js verify | prove |
// verify-proof | query` on a real archive, exit codes included (0 intact,
// 1 broken, 2 usage). Needs the build (npm test runs it first).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archivePath, editSealedLines, makeBatch, newExporter, tempDir } from '../exporters/worm/helpers.js';

const root = resolve(import.meta.dirname, '../..');
const built = existsSync(join(root, 'dist/src/cli/main.js'));
if (!built) console.warn('CLI tests skipped: run `npm run build` first (npm test does)');

function vigil(args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [join(root, 'bin/vigil.js'), ...args], { cwd, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let dir: string;
let cleanup: () => Promise<void>;
let archive: string;
let pub: string;

describe.skipIf(!built)('vigil verify / prove / verify-proof / query', () => {
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('vigil-cli-'));
    const w = newExporter(dir);
    await w.start();
    await w.consume(makeBatch(10));
    await w.sealNow();
    await w.consume(makeBatch(10, { start: 10 }));
    await w.shutdown(new AbortController().signal);
    archive = join(dir, 'archive');
    pub = join(dir, 'keys', 'archive.pub');
  });
  afterAll(async () => cleanup?.());

  it('verify: a CloudTrail-style summary and exit 0 on an intact archive', async () => {
    const r = await vigil(['verify', archive, '--public-key', pub]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2\/2 segments valid/);
    expect(r.stdout).toMatch(/20\/20 records valid/);
    expect(r.stdout).toMatch(/Intact\./);
    expect(r.stderr).toBe(''); // no progress bar when not on a terminal
    const j = await vigil(['verify', archive, '-k', pub, '--json']);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: true, archives: [{ records: { checked: 20, valid: 20 } }] });
  });

  it('verify: usage errors exit 2 with a hint', async () => {
    const noKey = await vigil(['verify', archive]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/--public-key FILE.*found nearby: .*archive\.pub/);
    expect((await vigil(['verify', join(dir, 'nope'), '-k', pub])).code).toBe(2);
    expect((await vigil(['verify', archive, '-k', pub, '--from', 'yesterdayish'])).stderr).toMatch(/--from yesterdayish: use an ISO date/);
    expect((await vigil(['verify'])).code).toBe(2);
  });

  it('prove + verify-proof: a proof by audit.record_id verifies offline (exit 0); a tampered one fails (exit 1)', async () => {
    const p = await vigil(['prove', archive, 'rid-13']);
    expect(p.code).toBe(0);
    const proof = JSON.parse(p.stdout);
    expect(proof).toMatchObject({ segment: 2, index: 3 });
    const file = join(dir, 'proof.json');
    await writeFile(file, p.stdout);
    const ok = await vigil(['verify-proof', file, '-k', pub]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/The record is part of the signed archive/);
    // The archived frame (format v2) with one byte of the record changed, its stated hash kept.
    const frame = Buffer.from(proof.frame, 'base64');
    frame[frame.indexOf('/items/13') + '/items/'.length] = '9'.charCodeAt(0);
    proof.frame = frame.toString('base64');
    await writeFile(file, JSON.stringify(proof));
    const bad = await vigil(['verify-proof', file, '-k', pub]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/FAIL {2}entry hash/);
    expect((await vigil(['prove', archive, 'no-such-id'])).code).toBe(1);
    expect((await vigil(['prove', archive, '1:3', '-o', file])).code).toBe(0);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ segment: 1, index: 3 });
  });

  it('query: OTLP JSON lines for a filter and window', async () => {
    const r = await vigil(['query', archive, '--where', 'user.id=alice', '--from', '2026-03-01T09:00:04Z', '--limit', '3']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.resourceLogs[0].scopeLogs[0].logRecords[0].attributes[0].value.stringValue)).toEqual(['rid-4', 'rid-6', 'rid-8']);
    expect((await vigil(['query', archive, '--where', 'oops'])).code).toBe(2);
  });

  it('verify exits 1 and names the break once the archive is touched', async () => {
    await editSealedLines(archivePath(dir, 2, 'sealed'), (l) => l.filter((_, i) => i !== 5));
    const r = await vigil(['verify', archive, '-k', pub]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/segment 2, entry 5 \(seq 16\): MISSING: 1 entry \(seq 16\) missing before index 5/);
    expect(r.stdout).toMatch(/BROKEN: 1 break\./);
  });
});

describe.skipIf(!built)('vigil verify / query --key-file on an encrypted archive', () => {
  let edir: string;
  let ecleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir: edir, cleanup: ecleanup } = await tempDir('vigil-cli-enc-'));
    await mkdir(join(edir, 'keys'), { recursive: true });
    await writeFile(join(edir, 'keys', 'data.key'), randomBytes(32).toString('base64'), { mode: 0o600 });
    const w = newExporter(edir, { encryption: { key_file: join(edir, 'keys', 'data.key') } });
    await w.start();
    await w.consume(makeBatch(6));
    await w.shutdown(new AbortController().signal);
  });
  afterAll(async () => ecleanup?.());

  it('verify without the key: intact as far as it can tell, and says what it did not check; with --key-file: every record', async () => {
    const a = join(edir, 'archive');
    const k = join(edir, 'keys', 'archive.pub');
    const without = await vigil(['verify', a, '-k', k]);
    expect(without.code).toBe(0);
    expect(without.stdout).toMatch(/0\/6 records valid/);
    expect(without.stdout).toMatch(/1 encrypted segment \(1\): ciphertexts match their signed SHA-256; records not checked: the segment is encrypted and no archive key was given \(--key-file\)\n/);
    const withKey = await vigil(['verify', a, '-k', k, '--key-file', join(edir, 'keys', 'data.key')]);
    expect(withKey.code).toBe(0);
    expect(withKey.stdout).toMatch(/6\/6 records valid/);
    const q = await vigil(['query', a]);
    expect(q.code).toBe(1);
    expect(q.stderr).toMatch(/segment 1 is encrypted: give the archive encryption key \(--key-file FILE\)/);
    const q2 = await vigil(['query', a, '--key-file', join(edir, 'keys', 'data.key'), '--where', 'user.id=alice']);
    expect(q2.code).toBe(0);
    expect(q2.stdout.trim().split('\n')).toHaveLength(3);
  });
  it('keys shred: refused while Vigil runs; shreds expired segments once stopped (verify then names them shredded); nothing more on a second run', async () => {
    const d = join(edir, 'old');
    const a = join(d, 'archive');
    const dataKey = join(edir, 'keys', 'data.key');
    const clock = { t: Date.parse('2020-01-01T10:00:00Z') };
    const past = newExporter(d, { retention: '1d', encryption: { key_file: dataKey, keyring: join(d, 'keys', 'ring.json') } }, { timers: false, clock: () => clock.t });
    await past.start();
    await past.consume(makeBatch(4));
    clock.t = Date.parse('2020-01-02T10:00:00Z');
    await past.shutdown(new AbortController().signal);
    const config = join(edir, 'vigil-old.yaml');
    const yaml = (enc: boolean) => `exporters:
  worm:
    directory: ${a}
    signing: { key_file: ${join(d, 'keys', 'archive.key')} }
    retention: 1d
${enc ? `    encryption: { key_file: ${dataKey}, keyring: ${join(d, 'keys', 'ring.json')} }\n` : ''}service:
  pipelines:
    logs: { exporters: [worm] }
`;
    await writeFile(config, yaml(true));
    const shred = () => vigil(['keys', 'shred', a, '--before', '2020-06-01', '--config', config]);
    const running = newExporter(d, { retention: '1d', encryption: { key_file: dataKey, keyring: join(d, 'keys', 'ring.json') } });
    await running.start();
    const locked = await shred();
    await running.shutdown(new AbortController().signal);
    expect(locked.code).toBe(2);
    expect(locked.stderr).toMatch(/is in use by process .*: stop Vigil first \(shredding is recorded in the chain/);
    const done = await shred();
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/^Shredded 1 day key\(s\) \(k-2020-01-01\): the records of segment\(s\) 1 are now unreadable\.\n {2}kept k-\d{4}-\d{2}-\d{2}: still wraps the data key of a segment being written\n$/);
    const v = await vigil(['verify', a, '-k', join(d, 'keys', 'archive.pub'), '--key-file', dataKey, '--keyring', join(d, 'keys', 'ring.json')]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/3\/3 segments valid\n {2}0\/4 records valid\n {2}1 shredded segment \(1\): data keys destroyed by `vigil keys shred`; proven intact by their ciphertext digests/);
    expect(v.stdout).toMatch(/Intact\./);
    const again = await shred();
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^Nothing to shred\.\n/);
    const segments = async () => (await readdir(a)).filter((f) => f.endsWith('.manifest.json')).length;
    const before = await segments();
    await shred();
    expect(await segments()).toBe(before); // a run with nothing to shred leaves the archive as it was
    await writeFile(config, yaml(false));
    const plain = await shred();
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/exporters\.worm\.encryption\.key_file is not configured/);
  });

});
