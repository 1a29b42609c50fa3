// kill -9 for real, at the process level: `vigil run` (otlp receiver → audit →
// worm archive [+ S3 Object Lock when S3_ENDPOINT is set] + otlp_grpc with a
// persistent queue to a downstream that sometimes answers UNAVAILABLE) under
// load from clients that retry until acknowledged; killed during a seal, during
// downstream retries, during appends (and during an S3 upload when S3 is
// there), restarted each time, one kill followed by a torn tail. Then: every
// acknowledged record is in the archive (`vigil query`) and was delivered
// downstream, `vigil verify` exits 0 and names one recovery per kill.
// `npm run soak` runs the same harness with 20 kills.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crashVerdict, runCrashTrials } from '../helpers/harness/crash.js';
import { formatReconciliation } from '../helpers/harness/reconcile.js';
import { vigilBuilt } from '../helpers/harness/vigil.js';

const built = vigilBuilt();
if (!built) console.warn('reliability kill -9 test skipped: run `npm run build` first (npm test does)');
const s3Endpoint = process.env.S3_ENDPOINT;
if (built && !s3Endpoint) console.warn('reliability kill -9 test: S3_ENDPOINT is not set, so the archive stays local and no kill lands in an S3 upload');

describe.skipIf(!built)('kill -9 under load (vigil run as a child process)', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-reliability-crash-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loses no acknowledged record: all archived and delivered, verify exits 0 and names every recovery', { timeout: 300_000 }, async () => {
    const lines: string[] = [];
    const report = await runCrashTrials({
      dir,
      kills: 4,
      seed: 20260601,
      s3Endpoint,
      moments: ['seal', 'downstream-retry', 'append', s3Endpoint ? 's3-upload' : 'seal'],
      tornTailRatio: 0.3,
      log: (l) => lines.push(l),
    });
    const summary = `${lines.join('\n')}\n${formatReconciliation(report.reconciliation)}\n${report.verify.text}${report.verifyS3 ? `\n${report.verifyS3.text}` : ''}`;
    expect(crashVerdict(report), summary).toEqual([]);
    expect(report.kills).toHaveLength(4);
    expect(report.kills.some((k) => k.tornTail), summary).toBe(true);
    expect(report.verify.repairedTruncations, summary).toBeGreaterThanOrEqual(1);
    // Retries went on in both places: the clients' (kills) and Vigil's own towards the downstream.
    expect(report.downstream.refused).toBeGreaterThan(0);
    expect(report.reconciliation.acked).toBeGreaterThan(0);
    console.info(`reliability kill -9: ${report.kills.length} kills in ${Math.round(report.durationMs / 1000)} s\n${summary}`);
  });
});
