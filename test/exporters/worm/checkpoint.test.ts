// Checkpoints: the archive's witness. Every seal signs a checkpoint that goes
// through the worm exporter's sibling exporters (here the file exporter, as a
// SIEM would keep it) and into metrics; `vigil verify --checkpoint` proves the
// archive reaches it. The scenario against real `vigil run` processes:
// run, SIGTERM, run, SIGTERM, delete the second run's segments.
import { existsSync } from 'node:fs';
import { readFile, readdir, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVigilProcess, listening, vigilSync } from '../../helpers/cli.js';
import { Telemetry } from '../../../src/telemetry/metrics.js';
import { generateKeyPairSync } from 'node:crypto';
import { checkCheckpointSignature, parseCheckpoint, signCheckpoint, CHECKPOINT_ATTRIBUTE, CHECKPOINT_EVENT } from '../../../src/exporters/worm/checkpoint.js';
import { keyIdOf } from '../../../src/exporters/worm/keys.js';
import { parseSegmentFileName } from '../../../src/exporters/worm/layout.js';
import type { LogBatch } from '../../../src/pipeline/record.js';
import { makeBatch, manualClock, newExporter, tempDir } from './helpers.js';

const built = existsSync(resolve('dist/src/cli/main.js'));
if (!built) console.warn('checkpoint process test skipped: run `npm run build` first (npm test does)');

function otlpJson(n: number, from: number): string {
  const logRecords = Array.from({ length: n }, (_, i) => ({
    timeUnixNano: `${(Date.now() + i) * 1_000_000}`,
    body: { stringValue: `GET /orders/${from + i} HTTP/1.1 200` },
    attributes: [{ key: 'user.id', value: { stringValue: 'alice' } }],
  }));
  return JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] }, scopeLogs: [{ logRecords }] }] });
}

async function send(url: string, n: number, from: number): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: otlpJson(n, from) });
  expect(res.status).toBe(200);
}

describe.skipIf(!built)('checkpoints against real vigil run processes', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('vigil-checkpoint-')));
  afterAll(async () => cleanup?.());

  it('a tail deleted after an earlier clean shutdown is caught with the checkpoint kept downstream', { timeout: 300_000 }, async () => {
    const archive = join(dir, 'archive');
    const siem = join(dir, 'siem.jsonl');
    const config = join(dir, 'vigil.yaml');
    await writeFile(
      config,
      `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
exporters:
  worm: { directory: ${archive}, signing: { key_file: ${join(dir, 'keys', 'archive.key')} } }
  file: { path: ${siem} }
service:
  telemetry: { metrics: { address: null } }
  pipelines: { logs: { receivers: [otlp], processors: [], exporters: [worm, file] } }
`,
    );
    const run = async (records: number, from: number) => {
      const v = await startVigilProcess(['run', '--config', config], { cwd: dir });
      await send(listening(v).http, records, from);
      v.child.kill('SIGTERM');
      expect(await v.exited).toBe(0);
    };
    await run(5, 0);
    const firstRun = (await readdir(archive)).filter((n) => parseSegmentFileName(n));
    const lastOfFirstRun = Math.max(...firstRun.map((n) => parseSegmentFileName(n)!.segment));
    await run(7, 5);

    // The downstream (here the file exporter) holds a checkpoint record per seal, the last one the shutdown seal's.
    const kept = (await readFile(siem, 'utf8'))
      .split('\n')
      .filter((l) => l.includes(CHECKPOINT_EVENT))
      .map((l) => {
        const rec = JSON.parse(l).resourceLogs[0].scopeLogs[0].logRecords[0];
        expect(rec.eventName).toBe(CHECKPOINT_EVENT);
        return rec.attributes.find((a: { key: string }) => a.key === CHECKPOINT_ATTRIBUTE).value.stringValue as string;
      });
    expect(kept.length).toBeGreaterThanOrEqual(2);
    const newest = parseCheckpoint(kept[kept.length - 1]);
    expect(newest).toMatchObject({ state: 'sealed', records: 12 });
    expect(newest.segment).toBeGreaterThan(lastOfFirstRun);
    const pub = join(dir, 'keys', 'archive.pub');
    expect(vigilSync(['verify', archive, '-k', pub, '--checkpoint', newest.text]).status).toBe(0);

    // The attacker deletes every segment of the second run, and the archive's own checkpoint file.
    for (const n of await readdir(archive)) {
      const p = parseSegmentFileName(n);
      if (p && p.segment > lastOfFirstRun) await unlink(join(archive, n));
    }
    await unlink(join(archive, 'checkpoint.txt'));

    // Without a checkpoint the archive looks whole (it ends in a clean shutdown seal); verify says how far that goes.
    const alone = vigilSync(['verify', archive, '-k', pub]);
    expect(alone.status, alone.stdout).toBe(0);
    expect(alone.stdout).toMatch(/last seal: clean shutdown/);
    expect(alone.stdout).toMatch(/Tail: proven only as far as the archive itself shows; give the newest checkpoint/);
    // With the checkpoint the second run left downstream: truncated, naming the missing segments.
    await writeFile(join(dir, 'newest-checkpoint.txt'), `${newest.text}\n`);
    for (const arg of [newest.text, `@${join(dir, 'newest-checkpoint.txt')}`, `@${siem}`]) {
      const r = vigilSync(['verify', archive, '-k', pub, '--checkpoint', arg]);
      expect(r.status, r.stdout).toBe(1);
      expect(r.stdout).toMatch(/Does NOT reach checkpoint/);
      const range = lastOfFirstRun + 1 === newest.segment ? `segment ${newest.segment} is missing` : `segments ${lastOfFirstRun + 1}–${newest.segment} are missing`;
      expect(r.stdout).toContain(range);
      expect(r.stdout).toMatch(/TRUNCATED/);
    }
    const json = JSON.parse(vigilSync(['verify', archive, '-k', pub, '--checkpoint', newest.text, '--json']).stdout);
    expect(json.archives[0].findings.filter((f: { severity: string }) => f.severity === 'break').map((f: { kind: string; segment: number }) => [f.kind, f.segment])).toEqual([
      ['truncated', lastOfFirstRun + 1],
    ]);
    // A checkpoint that does not parse, or is of another archive, is a usage error.
    expect(vigilSync(['verify', archive, '-k', pub, '--checkpoint', 'vigil-checkpoint/1 nonsense']).status).toBe(2);
    expect(vigilSync(['verify', archive, '-k', pub, '--checkpoint', newest.text.replace(`archive=${newest.archive}`, 'archive=other')]).status).toBe(2);
    // A forged checkpoint (any byte changed) fails its signature.
    const forged = vigilSync(['verify', archive, '-k', pub, '--checkpoint', newest.text.replace(/records=\d+/, 'records=5')]);
    expect(forged.status).toBe(1);
    expect(forged.stdout).toMatch(/BAD SIGNATURE/);
  });
});

describe('checkpoints in process', () => {
  it('every seal publishes one to the sibling exporters and sets the metrics; the open segment gets one every heartbeat', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const clock = manualClock();
      const published: LogBatch[] = [];
      const telemetry = new Telemetry({ processMetrics: false });
      const w = newExporter(dir, { heartbeat: '1m' }, { timers: false, clock: clock.now, publish: async (b) => void published.push(b) }, telemetry);
      await w.start();
      await w.consume(makeBatch(4));
      await w.tick(); // an open-segment checkpoint: nothing signed covered these records yet
      clock.advance(30_000);
      await w.tick(); // within the heartbeat: none
      await w.sealNow();
      clock.advance(60_000);
      await w.tick(); // the empty segment 2 seals on the heartbeat
      await w.shutdown(new AbortController().signal);
      const texts = published.flat().map((r) => r.log.attributes.find((a) => a.key === CHECKPOINT_ATTRIBUTE)!.value!.stringValue!);
      expect(texts.map((t) => { const c = parseCheckpoint(t); return `${c.state}:${c.segment}:${c.entries}:${c.records}`; })).toEqual([
        'open:1:4:4',
        'sealed:1:4:4',
        'sealed:2:4:4',
        'sealed:3:4:4',
      ]);
      expect(published.flat().every((r) => r.log.eventName === CHECKPOINT_EVENT)).toBe(true);
      expect(w.status().lastCheckpoint).toBe(texts[texts.length - 1]); // shown on the status page, for auditors to copy
      const metrics = await telemetry.registry.metrics();
      expect(metrics).toMatch(/vigil_archive_checkpoint_segment\{exporter="worm"\} 3/);
      expect(metrics).toMatch(new RegExp(`vigil_archive_checkpoint_timestamp_seconds\\{exporter="worm"\\} ${(clock.now() / 1000).toFixed(0)}`));
    } finally {
      await cleanup();
    }
  });

  // Found by `npm run fuzz` (archive.checkpoint-parse): "records=0100" parsed to 100 and the signature,
  // checked over the re-rendered text, verified: a text other than the signed one passed as signed.
  it('only the exact signed text verifies: leading zeros or a re-spelled signature do not', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const keyId = keyIdOf(publicKey);
    const keys = new Map([[keyId, { keyId, key: publicKey, source: 'test' }]]);
    const key = { keyId, privateKey, publicKey, publicKeyPem: '', publicKeyPath: '' };
    const { text } = signCheckpoint(
      { archive: 'a1', segment: 3, state: 'sealed', entries: 60, records: 100, head: 'b'.repeat(64), manifest: 'c'.repeat(64), time: '2026-03-01T09:01:00.000Z' },
      key,
    );
    expect(checkCheckpointSignature(parseCheckpoint(text), keys)).toBeUndefined();
    expect(checkCheckpointSignature(parseCheckpoint(`  ${text}\n`), keys)).toBeUndefined(); // surrounding whitespace is not part of it
    const zeros = text.replace('records=100 ', 'records=0100 ');
    expect(parseCheckpoint(zeros).records).toBe(100);
    expect(checkCheckpointSignature(parseCheckpoint(zeros), keys)?.kind).toBe('bad signature');
    const unpadded = text.replace(/=+$/, '');
    expect(unpadded).not.toBe(text);
    expect(checkCheckpointSignature(parseCheckpoint(unpadded), keys)?.kind).toBe('bad signature');
  });
});
