// bin/vigil.js starts verify's worker threads ahead only for `vigil verify` of
// a local archive with enough sealed data for workers to pay (as verify itself
// decides), wherever the archive stands among the options.
import { existsSync } from 'node:fs';
import { mkdir, truncate, writeFile } from 'node:fs/promises';
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

const built = existsSync(join(VIGIL_BIN, '../../dist/src/cli/verify-prestart.js'));

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
});
