// `vigil query` into a slow reader: every back-pressure wait must clean up
// after itself. It used to add an 'error' listener to stdout per wait (a race
// of once('drain') and once('error')), which leaks and, past ten waits, makes
// Node print MaxListenersExceededWarning.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBatch, newExporter, tempDir } from '../exporters/worm/helpers.js';

const root = resolve(import.meta.dirname, '../..');
const built = existsSync(join(root, 'dist/src/cli/main.js'));
if (!built) console.warn('query back-pressure test skipped: run `npm run build` first (npm test does)');

const RECORDS = 20_000;
let dir: string;
let cleanup: () => Promise<void>;

describe.skipIf(!built)('vigil query into a slow reader', () => {
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('vigil-query-bp-'));
    const w = newExporter(dir);
    await w.start();
    for (let i = 0; i < RECORDS; i += 2000) await w.consume(makeBatch(2000, { start: i }));
    await w.shutdown(new AbortController().signal);
  }, 120_000);
  afterAll(async () => cleanup?.());

  it('writes every record and leaks no listener however often stdout pushes back', async () => {
    const child = spawn(process.execPath, [join(root, 'bin/vigil.js'), 'query', join(dir, 'archive')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A slow reader: each chunk is held a few milliseconds, so the pipe stays full and the writer keeps waiting for 'drain'.
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => {
      chunks.push(c);
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 3);
    });
    const ended = new Promise<void>((res) => child.stdout.once('end', res));
    const code = await new Promise<number | null>((res) => child.once('exit', res));
    await ended;
    const out = Buffer.concat(chunks).toString('utf8');
    expect(code).toBe(0);
    const records = out.split('\n').filter((l) => l !== '').reduce((n, l) => n + (l.match(/"logRecords":\[/g) ? (l.match(/"audit\.record_id"/g)?.length ?? 0) : 0), 0);
    expect(records).toBe(RECORDS);
    expect(out.length).toBeGreaterThan(20 * 64 * 1024); // far more than a pipe holds: many waits for 'drain'
    expect(stderr).not.toMatch(/MaxListenersExceededWarning/);
  }, 120_000);
});
