// A local intruder with write access to the archive directory: links planted to
// make Vigil write elsewhere, stray files, a deleted tail hidden behind a
// planted empty open segment, unsealed records rewritten before a restart, the
// signing key removed. Each is refused or detected, never signed over.
import { mkdir, readFile, readdir, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCheckpoint } from '../../../src/exporters/worm/checkpoint.js';
import { loadPublicKeys } from '../../../src/exporters/worm/keys.js';
import { LocalSource } from '../../../src/exporters/worm/source.js';
import { type Finding, verifyArchive } from '../../../src/exporters/worm/verify.js';
import { vigilSync } from '../../helpers/cli.js';
import { archivePath, editOpenLines, forgeLine, makeBatch, manualClock, newExporter, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('vigil-intruder-')));
afterEach(async () => cleanup());

const archive = () => join(dir, 'archive');
async function verify(opts: { now?: number; keys?: string[]; checkpoints?: string[] } = {}) {
  const keys = await loadPublicKeys(opts.keys ?? [join(dir, 'keys', 'archive.pub')]);
  return verifyArchive(new LocalSource(archive()), { keys, now: opts.now, checkpoints: opts.checkpoints?.map(parseCheckpoint) });
}
const kinds = (fs: Finding[]) => fs.map((f) => `${f.severity}:${f.kind}${f.segment !== undefined ? `@${f.segment}` : ''}`);

/** One run: `n` records, then a clean shutdown (one segment). */
async function cleanRun(n = 3, start = 0, clock = manualClock()) {
  const w = newExporter(dir, {}, { timers: false, clock: clock.now });
  await w.start();
  await w.consume(makeBatch(n, { start }));
  await w.shutdown(new AbortController().signal);
}

describe('symbolic links and foreign files', () => {
  it('a link planted as the next segment file: vigil run refuses to start naming it, and the target is untouched', async () => {
    await cleanRun();
    const target = join(dir, 'precious.txt');
    await writeFile(target, 'not Vigil’s to touch\n');
    const link = archivePath(dir, 2, 'open');
    await symlink(target, link);
    const config = join(dir, 'vigil.yaml');
    await writeFile(
      config,
      `receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
exporters: { worm: { directory: ${archive()}, signing: { key_file: ${join(dir, 'keys', 'archive.key')} } } }
service: { telemetry: { metrics: { address: null } }, pipelines: { logs: { receivers: [otlp], processors: [], exporters: [worm] } } }
`,
    );
    const r = vigilSync(['run', '--config', config], { cwd: dir });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${link} is a symbolic link: Vigil never follows links in its archive`);
    expect(await readFile(target, 'utf8')).toBe('not Vigil’s to touch\n');
    // verify names it as foreign, beside the intact archive.
    const v = await verify();
    expect(kinds(v.findings)).toEqual(['break:foreign file']);
    expect(v.findings[0].detail).toMatch(/segment-000000000002\.vlog is a symbolic link/);
  });

  it('a link planted while running is never written through: the next segment does not open, appends are refused', async () => {
    const w = newExporter(dir);
    await w.start();
    await w.consume(makeBatch(2));
    const target = join(dir, 'precious.txt');
    await writeFile(target, 'keep\n');
    await symlink(target, archivePath(dir, 2, 'open'));
    await w.sealNow(); // closes segment 1; segment 2 cannot be opened through the link
    await expect(w.consume(makeBatch(1, { start: 2 }))).rejects.toThrow(/no open segment could be created/);
    await w.crashForTest();
    expect(await readFile(target, 'utf8')).toBe('keep\n');
  });

  it('stray files, links and directories in an archive are breaks of kind foreign file', async () => {
    await cleanRun();
    await writeFile(join(archive(), 'notes.txt'), 'hello');
    await mkdir(join(archive(), 'stash'));
    await symlink('/etc/hostname', join(archive(), 'segment-000000000009.manifest.json'));
    const r = await verify();
    expect(r.ok).toBe(false);
    expect(r.findings.filter((f) => f.kind === 'foreign file').map((f) => f.object)).toEqual(['notes.txt', 'segment-000000000009.manifest.json', 'stash']);
    // Files Vigil writes itself are not foreign (checkpoint.txt, archive.json).
    await unlink(join(archive(), 'notes.txt'));
    await unlink(join(archive(), 'segment-000000000009.manifest.json'));
    const { rmdir } = await import('node:fs/promises');
    await rmdir(join(archive(), 'stash'));
    expect((await verify()).findings).toEqual([]);
  });
});

describe('a deleted tail behind a planted empty open segment', () => {
  it('with the archive’s own checkpoint left in place, the restart records the loss in the chain: truncated', async () => {
    const clock = manualClock();
    await cleanRun(3, 0, clock);
    await cleanRun(3, 3, clock); // segment 2
    for (const n of await readdir(archive())) if (n.startsWith('segment-000000000002')) await unlink(join(archive(), n));
    await writeFile(archivePath(dir, 2, 'open'), ''); // as if the second run had just opened it and crashed
    await cleanRun(1, 6, clock);
    const r = await verify({ now: clock.now() });
    expect(r.ok).toBe(false);
    const t = r.findings.find((f) => f.kind === 'truncated')!;
    expect(t.detail).toMatch(/at restart the archive ended before its own signed checkpoint .*segment 2, seq 6/);
  });

  it('with that file removed too, the checkpoint kept downstream catches it', async () => {
    const clock = manualClock();
    await cleanRun(3, 0, clock);
    await cleanRun(3, 3, clock);
    const kept = (await readFile(join(archive(), 'checkpoint.txt'), 'utf8')).split('\n').find((l) => l.includes('state=sealed'))!;
    for (const n of await readdir(archive())) if (n.startsWith('segment-000000000002') || n === 'checkpoint.txt') await unlink(join(archive(), n));
    await writeFile(archivePath(dir, 2, 'open'), '');
    await cleanRun(1, 6, clock);
    expect((await verify({ now: clock.now() })).ok).toBe(true); // nothing local shows it…
    const r = await verify({ now: clock.now(), checkpoints: [kept] }); // …the witness does: segment 2 is not the one it signed
    expect(r.ok).toBe(false);
    expect(kinds(r.findings.filter((f) => f.severity === 'break'))).toEqual(['break:modified@2']);
    expect(r.findings.find((f) => f.severity === 'break')!.detail).toMatch(/the manifest was replaced/);
  });
});

describe('unsealed records rewritten before a restart', () => {
  /** A crash with 5 records covered by the open segment's signed checkpoint and 2 written after it. */
  async function crashWithUnsealed(clock = manualClock()) {
    const w = newExporter(dir, {}, { timers: false, clock: clock.now });
    await w.start();
    await w.consume(makeBatch(5));
    await w.tick(); // signs a checkpoint of the open segment (seq 5)
    await w.consume(makeBatch(2, { start: 5 }));
    await w.crashForTest();
  }

  /** The intruder's rewrite: entry `index` edited, its hash and every later link recomputed. */
  async function rewrite(index: number) {
    await editOpenLines(archivePath(dir, 1, 'open'), (lines) => {
      let prev: string | undefined;
      for (let i = index; i < lines.length; i++) {
        lines[i] = forgeLine(lines[i], (e) => {
          if (i === index) e.record.resourceLogs[0].scopeLogs[0].logRecords[0].body.stringValue = 'GET /admin HTTP/1.1 200';
          if (prev) e.prev = prev;
        });
        prev = JSON.parse(lines[i]).hash;
      }
      return lines;
    });
  }

  it('a rewrite before the checkpoint: verify flags it, and the restart refuses to seal (sign) it', async () => {
    await crashWithUnsealed();
    await rewrite(1);
    const v = await verify();
    expect(kinds(v.findings.filter((f) => f.severity === 'break'))).toEqual(['break:modified@1']);
    expect(v.findings.find((f) => f.severity === 'break')!.detail).toMatch(/entry seq 5 has hash .* entries up to it were rewritten/);
    const w2 = newExporter(dir);
    await expect(w2.start()).rejects.toThrow(/segment-000000000001\.vlog does not match the signed checkpoint .* Vigil will not seal \(sign\) them/);
    expect((await readdir(archive())).filter((n) => n.endsWith('.manifest.json'))).toEqual([]);
  });

  it('a rewrite after the checkpoint (the remaining window) is sealed as recovered, unsigned before, and verify says so', async () => {
    const clock = manualClock();
    await crashWithUnsealed(clock);
    await rewrite(6);
    const w2 = newExporter(dir, {}, { timers: false, clock: clock.now });
    await w2.start();
    await w2.shutdown(new AbortController().signal);
    const r = await verify({ now: clock.now() });
    expect(r.ok).toBe(true);
    expect(kinds(r.findings)).toEqual(['note:unclean stop@1', 'note:recovered, unsigned before@1']);
    expect(r.findings[1]).toMatchObject({ seq: 6 });
    expect(r.findings[1].detail).toMatch(/entries seq 6–7 \(2\) were written after the last signed checkpoint/);
  });
});

describe('the signing key removed', () => {
  it('refuses to start (vigil run exits non-zero naming the key file and how to rotate); a rotation asked for is recorded in the chain', async () => {
    await cleanRun();
    const keyFile = join(dir, 'keys', 'archive.key');
    const oldPub = await readFile(join(dir, 'keys', 'archive.pub'), 'utf8');
    await unlink(keyFile);
    const config = (rotate: boolean) => {
      const file = join(dir, `vigil-${rotate}.yaml`);
      return writeFile(
        file,
        `receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
exporters: { worm: { directory: ${archive()}, signing: { key_file: ${keyFile}, rotate: ${rotate} } } }
service: { telemetry: { metrics: { address: null } }, pipelines: { logs: { receivers: [otlp], processors: [], exporters: [worm] } } }
`,
      ).then(() => file);
    };
    const refused = vigilSync(['run', '--config', await config(false)], { cwd: dir });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain(`the signing key ${keyFile} (signing.key_file) is missing, but the archive ${archive()} holds signed manifests`);
    expect(refused.stderr).toMatch(/signing\.rotate: true/);
    expect((await readdir(join(dir, 'keys'))).sort()).toEqual(['archive.pub']); // nothing generated

    // Rotation when asked: a new pair, the old public key kept under its key id, the change recorded.
    const w = newExporter(dir, { signing: { key_file: keyFile, rotate: true } });
    await w.start();
    await w.consume(makeBatch(2, { start: 3 }));
    await w.shutdown(new AbortController().signal);
    const retired = (await readdir(join(dir, 'keys'))).find((n) => /^archive-[0-9a-f]{16}\.pub$/.test(n))!;
    expect(await readFile(join(dir, 'keys', retired), 'utf8')).toBe(oldPub);
    const r = await verify({ keys: [join(dir, 'keys', retired), join(dir, 'keys', 'archive.pub')] });
    expect(r.ok).toBe(true);
    expect(kinds(r.findings)).toEqual(['note:key rotation@2']);
    expect(r.records).toEqual({ checked: 5, valid: 5 });
  });

  it('another key in place of the archive’s is refused unless rotating; a key change the chain does not record is a break', async () => {
    const clock = manualClock();
    await cleanRun(3, 0, clock);
    await cleanRun(3, 3, clock);
    const { generateKeyPairSync } = await import('node:crypto');
    const other = generateKeyPairSync('ed25519');
    const otherKey = join(dir, 'other.key');
    await writeFile(otherKey, other.privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    await expect(newExporter(dir, { signing: { key_file: otherKey } }).start()).rejects.toThrow(
      /was signed by key [0-9a-f]{16} .* but the configured signing key is [0-9a-f]{16}: restore the archive's key file, or rotate deliberately with `vigil keys rotate --config FILE` or `signing\.rotate: true`/,
    );
    // An intruder re-signs segment 2's manifest with their own key: it verifies with that key, but no rotation is recorded.
    const { keyIdOf } = await import('../../../src/exporters/worm/keys.js');
    const { serializeSignedManifest, signManifest } = await import('../../../src/exporters/worm/manifest.js');
    const m2 = JSON.parse(await readFile(archivePath(dir, 2, 'manifest'), 'utf8')).manifest;
    await writeFile(archivePath(dir, 2, 'manifest'), serializeSignedManifest(signManifest({ ...m2, key_id: keyIdOf(other.publicKey) }, other.privateKey)));
    const otherPub = join(dir, 'other.pub');
    await writeFile(otherPub, other.publicKey.export({ format: 'pem', type: 'spki' }));
    await unlink(join(archive(), 'checkpoint.txt'));
    const r = await verify({ now: clock.now(), keys: [join(dir, 'keys', 'archive.pub'), otherPub] });
    expect(kinds(r.findings)).toEqual(['break:bad signature@2']);
    expect(r.findings[0].detail).toMatch(/no key rotation is recorded here/);
  });
});

describe('a sealed entry rewritten and the chain recomputed after it', () => {
  it('is reported from the start of the unproven run; an open-segment checkpoint kept downstream moves that start past what it proves', async () => {
    const clock = manualClock();
    const published: string[] = [];
    const w = newExporter(dir, {}, { timers: false, clock: clock.now, publish: async (b) => void published.push(...b.map((r) => r.log.attributes[0].value!.stringValue!)) });
    await w.start();
    await w.consume(makeBatch(10)); // seq 1–10
    await w.tick(); // the open segment's checkpoint at seq 10 goes downstream
    await w.consume(makeBatch(10, { start: 10 })); // seq 11–20
    await w.shutdown(new AbortController().signal);
    const kept = published.find((t) => t.includes('state=open'))!;
    expect(kept).toMatch(/segment=1 state=open entries=10 /);
    const { editSealedLines } = await import('./helpers.js');
    await editSealedLines(archivePath(dir, 1, 'sealed'), (lines) => {
      let prev: string | undefined;
      for (let i = 14; i < lines.length; i++) {
        lines[i] = forgeLine(lines[i], (e) => {
          if (i === 14) e.record.resourceLogs[0].scopeLogs[0].logRecords[0].body.stringValue = 'GET /nothing-to-see';
          if (prev) e.prev = prev;
        });
        prev = JSON.parse(lines[i]).hash;
      }
      return lines;
    });
    await unlink(join(archive(), 'checkpoint.txt'));
    const alone = await verify({ now: clock.now() });
    expect(alone.findings.filter((f) => f.severity === 'break').map((f) => [f.kind, f.segment, f.index, f.seq])).toEqual([['modified', 1, 0, 1]]);
    const witnessed = await verify({ now: clock.now(), checkpoints: [kept] });
    expect(witnessed.findings.filter((f) => f.severity === 'break').map((f) => [f.kind, f.segment, f.index, f.seq])).toEqual([['modified', 1, 10, 11]]);
    expect(witnessed.findings.find((f) => f.severity === 'break')!.detail).toMatch(/^entries seq 11–20 \(index 10–19\) .* at or after index 10 .*proves the entries up to seq 10\)$/);
  });
});

describe('vigil keys rotate', () => {
  it('replaces the key with Vigil stopped; the rotation is sealed in the chain and verifies with both public keys', async () => {
    await cleanRun();
    const keyFile = join(dir, 'keys', 'archive.key');
    const config = join(dir, 'vigil.yaml');
    await writeFile(
      config,
      `receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
exporters: { worm: { directory: ${archive()}, signing: { key_file: ${keyFile} } } }
service: { telemetry: { metrics: { address: null } }, pipelines: { logs: { receivers: [otlp], processors: [], exporters: [worm] } } }
`,
    );
    const r = vigilSync(['keys', 'rotate', '--config', config], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const [, from, to] = /from ([0-9a-f]{16}) to ([0-9a-f]{16})/.exec(r.stdout)!;
    expect(from).not.toBe(to);
    const names = (await readdir(join(dir, 'keys'))).sort();
    expect(names).toEqual([`archive-${from}.key.retired`, `archive-${from}.pub`, 'archive.key', 'archive.pub']);
    const v = await verify({ keys: [join(dir, 'keys', `archive-${from}.pub`), join(dir, 'keys', 'archive.pub')] });
    expect(v.ok).toBe(true);
    expect(kinds(v.findings)).toEqual(['note:key rotation@2']);
    // The next start needs no flag: the configured key is the newest manifest's.
    await cleanRun(1, 3);
  });
});

describe('unsealed records rewritten after kill -9 of a real vigil run', () => {
  it('the restart refuses to sign the forgery, naming the file', { timeout: 90_000 }, async () => {
    const { startVigilProcess, listening } = await import('../../helpers/cli.js');
    const { waitFor } = await import('./helpers.js');
    const config = join(dir, 'vigil.yaml');
    await writeFile(
      config,
      `receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
exporters: { worm: { directory: ${archive()}, heartbeat: 1s, segment: { max_age: 1h }, signing: { key_file: ${join(dir, 'keys', 'archive.key')} } } }
service: { telemetry: { metrics: { address: null } }, pipelines: { logs: { receivers: [otlp], processors: [], exporters: [worm] } } }
`,
    );
    const v = await startVigilProcess(['run', '--config', config], { cwd: dir });
    const logRecords = Array.from({ length: 5 }, (_, i) => ({ body: { stringValue: `GET /orders/${i} HTTP/1.1 200` } }));
    const res = await fetch(listening(v).http, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ resourceLogs: [{ resource: {}, scopeLogs: [{ logRecords }] }] }) });
    expect(res.status).toBe(200);
    // Within a heartbeat the open segment's checkpoint covers the 5 acknowledged records.
    const openSegment = async () => (await readdir(archive())).find((n) => n.endsWith('.vlog'));
    await waitFor(async () => {
      const text = await readFile(join(archive(), 'checkpoint.txt'), 'utf8').catch(() => '');
      const open = await openSegment();
      return open !== undefined && text.split('\n').some((l) => l.includes('state=open') && l.includes(`segment=${Number(open.slice(8, 20))} `) && /entries=(\d+)/.exec(l)![1] !== '0');
    }, 20_000, 'a signed checkpoint of the open segment');
    v.child.kill('SIGKILL');
    await v.exited;
    const open = (await openSegment())!;
    const path = join(archive(), open);
    await editOpenLines(path, (lines) => {
      let prev: string | undefined;
      for (let i = 0; i < lines.length; i++) {
        lines[i] = forgeLine(lines[i], (e) => {
          if (i === 0 && e.record) e.record.resourceLogs[0].scopeLogs[0].logRecords[0].body.stringValue = 'GET /orders/999 HTTP/1.1 200';
          if (prev) e.prev = prev;
        });
        prev = JSON.parse(lines[i]).hash;
      }
      return lines;
    });
    const r = vigilSync(['run', '--config', config], { cwd: dir });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${path} does not match the signed checkpoint`);
    expect(r.stderr).toMatch(/Vigil will not seal \(sign\) them/);
    const verify = vigilSync(['verify', archive(), '-k', join(dir, 'keys', 'archive.pub')]);
    expect(verify.status).toBe(1);
    expect(verify.stdout).toMatch(/MODIFIED: .*entries up to it were rewritten/);
  });
});
