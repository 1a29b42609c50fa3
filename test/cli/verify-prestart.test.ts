// bin/vigil.js starts verify's worker threads ahead only for `vigil verify` of
// a local archive with enough sealed data for workers to pay (as verify itself
// decides), wherever the archive stands among the options.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { closeSync, constants, existsSync, openSync } from 'node:fs';
import { mkdir, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prestartVerify } from '../../src/cli/verify-prestart.js';
import { segmentFileName } from '../../src/exporters/worm/layout.js';
import { tempDir } from '../exporters/worm/helpers.js';
import { VIGIL_BIN, vigilSync } from '../helpers/cli.js';

let dir: string;
let cleanup: () => Promise<void>;

/** An archive directory of `n` sealed v2 segment files of `mib` MiB each (sparse: only their sizes matter here). */
async function archive(name: string, n: number, mib: number): Promise<string> {
  const d = join(dir, name);
  await mkdir(d);
  for (let s = 1; s <= n; s++) {
    const f = join(d, segmentFileName(s, 'sealed', 2));
    await writeFile(f, '');
    await truncate(f, mib * 1024 * 1024);
    await writeFile(join(d, segmentFileName(s, 'manifest', 2)), '{}');
  }
  return d;
}

beforeAll(async () => ({ dir, cleanup } = await tempDir('vigil-prestart-')));
afterAll(async () => cleanup?.());

describe('prestartVerify', () => {
  it('starts them for a local archive of at least 16 MiB in 3 or more sealed segments, the archive anywhere among the options', async () => {
    const big = await archive('big', 3, 6);
    const argv = (...a: string[]) => ['node', 'vigil', ...a];
    expect(prestartVerify(argv('verify', big))).toBe(true);
    expect(prestartVerify(argv('--debug', 'verify', '-k', join(dir, 'archive.pub'), big, '--json'))).toBe(true);
    expect(prestartVerify(argv('verify', '--public-key', big, big))).toBe(true);
  });

  it('not for a small archive, too few segments, S3, a missing directory or another command', async () => {
    const small = await archive('small', 3, 5);
    const few = await archive('few', 2, 20);
    const argv = (...a: string[]) => ['node', 'vigil', ...a];
    expect(prestartVerify(argv('verify', small))).toBe(false);
    expect(prestartVerify(argv('verify', few))).toBe(false);
    expect(prestartVerify(argv('verify', 's3://bucket/prefix', '--endpoint', 'http://127.0.0.1:7480'))).toBe(false);
    expect(prestartVerify(argv('verify', join(dir, 'nothing')))).toBe(false);
    expect(prestartVerify(argv('query', await archive('queried', 4, 8)))).toBe(false);
    expect(prestartVerify(argv())).toBe(false);
  });
});

/** Makes a named pipe (mkfifo(1)); false where there is none. */
function mkfifo(path: string): boolean {
  try {
    execFileSync('mkfifo', [path]);
    return true;
  } catch {
    return false;
  }
}

/** Lets go of a reader blocked opening the pipe (a writer that opens and closes at once: the reader sees its end). */
function releasePipe(path: string): void {
  try {
    closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // no reader waiting on it: nothing held
  }
}

const built = existsSync(join(VIGIL_BIN, '../../dist/src/cli/verify-prestart.js'));

/** A public key file verify accepts (the archive's own key is not needed to see what it names as foreign). */
async function publicKeyFile(): Promise<string> {
  const path = join(dir, 'some.pub');
  await writeFile(path, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
  return path;
}

// The workers started ahead must not keep the process alive: verify may stop
// before taking them into a pool (a usage error), and then it must still exit.
// The bound on the child (vigilSync's 60 s) only catches a hang.
describe.skipIf(!built)('`vigil verify` of a local archive large enough for the head start', () => {
  it('exits 2 on a usage error found before any segment is checked (no --public-key)', async () => {
    const d = await archive('usage', 3, 6);
    expect(prestartVerify(['node', 'vigil', 'verify', d])).toBe(true); // the head start does apply
    const r = vigilSync(['verify', d]);
    expect(r.signal).toBeNull();
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--public-key');
  }, 90_000);

  // The archive's safe-fs rules hold for the head start too: verify never opens a
  // link or anything but a regular file (LocalSource.list takes only regular
  // files, foreign() names the rest). A named pipe under a manifest's or a
  // segment's name blocked the head start's open for ever (until a writer comes),
  // so `vigil verify` hung instead of naming the foreign file.
  it('names a named pipe under a manifest\'s or a segment\'s name and a link under a manifest\'s name, and finishes', async () => {
    const d = await archive('pipes', 4, 6);
    await writeFile(join(d, segmentFileName(2, 'manifest', 2)), '{"manifest":{}}');
    const manifestPipe = join(d, segmentFileName(1, 'manifest', 2));
    const sealedPipe = join(d, segmentFileName(2, 'sealed', 2));
    await rm(manifestPipe);
    await rm(sealedPipe);
    if (!mkfifo(manifestPipe) || !mkfifo(sealedPipe)) {
      console.warn('skipped: no mkfifo here');
      return;
    }
    const linked = join(d, segmentFileName(3, 'manifest', 2));
    await rm(linked);
    await symlink(join(d, segmentFileName(2, 'manifest', 2)), linked);
    try {
      // One thread-pool thread: a head start blocked opening the segment's pipe would hold every file operation of verify.
      const r = vigilSync(['verify', d, '--public-key', await publicKeyFile()], { env: { UV_THREADPOOL_SIZE: '1' } });
      expect(r.signal).toBeNull();
      expect(r.status).toBe(1);
      for (const [name, what] of [
        [segmentFileName(1, 'manifest', 2), 'not a regular file'],
        [segmentFileName(2, 'sealed', 2), 'not a regular file'],
        [segmentFileName(3, 'manifest', 2), 'a symbolic link'],
      ]) {
        expect(r.stdout).toContain(`${name} is ${what}`);
      }
    } finally {
      releasePipe(manifestPipe);
      releasePipe(sealedPipe);
    }
  }, 90_000);
});
