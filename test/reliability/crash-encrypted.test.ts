// kill -9 with encrypted segments (worm.encryption.key_file): the same harness
// as crash.test.ts, the open segment encrypted per group commit. A kill can
// tear a chunk (and the harness appends torn bytes): start-up cuts it, and
// nothing acknowledged is lost; `vigil verify --key-file` exits 0 naming each
// recovery, `vigil query --key-file` finds every record, and no record is on
// the disk in clear.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crashVerdict, runCrashTrials } from '../helpers/harness/crash.js';
import { formatReconciliation } from '../helpers/harness/reconcile.js';
import { vigilBuilt } from '../helpers/harness/vigil.js';

const built = vigilBuilt();
if (!built) console.warn('reliability kill -9 test (encrypted) skipped: run `npm run build` first (npm test does)');

describe.skipIf(!built)('kill -9 under load with encrypted segments', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-reliability-crash-enc-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loses no acknowledged record, cuts torn chunks, verifies with the key, and keeps no plaintext on disk', { timeout: 300_000 }, async () => {
    const lines: string[] = [];
    const report = await runCrashTrials({ dir, kills: 3, seed: 20261204, moments: ['append', 'seal', 'append'], tornTailRatio: 0.5, encrypted: true, log: (l) => lines.push(l) });
    const summary = `${lines.join('\n')}\n${formatReconciliation(report.reconciliation)}\n${report.verify.text}`;
    expect(crashVerdict(report), summary).toEqual([]);
    expect(report.kills.some((k) => k.tornTail), summary).toBe(true);
    expect(report.verify.repairedTruncations, summary).toBeGreaterThanOrEqual(1);
    expect(report.reconciliation.acked).toBeGreaterThan(0);
    const archive = join(dir, 'archive');
    const segments = readdirSync(archive).filter((n) => /^segment-\d+\.(jsonl(\.gz)?|vlog(\.zst)?)$/.test(n));
    expect(segments.length).toBeGreaterThan(3);
    for (const name of segments) {
      const bytes = readFileSync(join(archive, name));
      expect(bytes.subarray(0, 10).toString(), name).toBe('VIGILENC1\n');
      expect(bytes.includes('test.id'), name).toBe(false);
    }
  });
});
