// Baselines survive restarts: a processor that snapshots at shutdown and
// restores at start scores exactly like one that never stopped; a corrupt or
// incompatible snapshot is reported and ignored, never fatal.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { getAttribute, type VigilRecord } from '../../../src/pipeline/record.js';
import { anomalyConfigSchema } from '../../../src/processors/anomaly/config.js';
import { AnomalyProcessor } from '../../../src/processors/anomaly/processor.js';
import { compileDetectors } from '../../../src/processors/anomaly/scorer.js';
import { encodeSnapshot, restoreSnapshot, SnapshotError } from '../../../src/processors/anomaly/snapshot.js';
import type { Logger } from '../../../src/telemetry/logger.js';
import { Telemetry } from '../../../src/telemetry/metrics.js';
import { tempDir } from '../../helpers/tmp.js';
import { DAY, type Event, makeUsers, normalTraffic, Rng, START, toRecord } from './traffic.js';

const rng = new Rng(7);
const users = makeUsers(60, rng);
const traffic = normalTraffic(users, 8, rng);
const SPLIT = START + 5 * DAY + 12 * 3_600_000;
const before = traffic.filter((e) => e.t < SPLIT);
const after = traffic.filter((e) => e.t >= SPLIT);
// A burst after the restart, so that alerts and high scores are compared too.
for (let i = 0; i < 30; i++) after.push({ t: SPLIT + 3_600_000 + i * 1000, attrs: { ...after[0].attrs, 'client.address': '203.0.113.9', 'audit.action': 'login', 'audit.outcome': 'failure' } });
after.sort((a, b) => a.t - b.t);

function capturingLogger(): { logger: Logger; lines: () => { msg: string; err?: string }[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines: () => chunks.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

function processor(dir: string | undefined, logger: Logger = pino({ level: 'silent' }), extra: object = {}): AnomalyProcessor {
  const cfg = anomalyConfigSchema.parse({ state: dir ? { directory: dir, interval: 0 } : undefined, ...extra });
  return new AnomalyProcessor('anomaly', cfg, logger, new Telemetry({ processMetrics: false }));
}

function feed(p: AnomalyProcessor, events: Event[], prefix: string): { scores: number[]; alerts: string[] } {
  const scores: number[] = [];
  const alerts: string[] = [];
  for (let i = 0; i < events.length; i += 250) {
    const out: VigilRecord[] = p.process(events.slice(i, i + 250).map((e, j) => toRecord(e, `${prefix}${i + j}`)));
    for (const r of out) {
      if (r.log.eventName === 'vigil.anomaly') alerts.push(String(getAttribute(r.log.attributes, 'audit.record_id')));
      else scores.push(Number(getAttribute(r.log.attributes, 'anomaly.score')));
    }
  }
  return { scores, alerts };
}

describe('anomaly snapshots', () => {
  it('scores after a restore equal the scores without a restart', async () => {
    const dir = tempDir('vigil-anomaly-');
    const reference = processor(undefined);
    await reference.start();
    feed(reference, before, 'a');
    const expected = feed(reference, after, 'b');

    const first = processor(dir);
    await first.start();
    feed(first, before, 'a');
    await first.shutdown();
    expect(existsSync(join(dir, 'anomaly.snapshot'))).toBe(true);

    const { logger, lines } = capturingLogger();
    const second = processor(dir, logger);
    await second.start();
    const got = feed(second, after, 'b');
    await second.shutdown();

    expect(got.scores).toEqual(expected.scores);
    expect(got.alerts).toEqual(expected.alerts);
    expect(expected.scores.some((s) => s >= 0.9)).toBe(true);
    const restored = lines().find((l) => l.msg === 'anomaly baselines restored from snapshot') as { restored: { name: string; keys: number }[] } | undefined;
    expect(restored?.restored.map((r) => r.name)).toContain('route_latency');
    expect(restored?.restored.find((r) => r.name === 'new_country')?.keys).toBe(users.length);
  });

  it('writes snapshots periodically, atomically (no temp file left)', async () => {
    const dir = tempDir('vigil-anomaly-');
    const cfg = anomalyConfigSchema.parse({ state: { directory: dir, interval: 20 } });
    const p = new AnomalyProcessor('anomaly/edge', cfg, pino({ level: 'silent' }), new Telemetry({ processMetrics: false }));
    await p.start();
    feed(p, before.slice(0, 2000), 'a');
    const file = join(dir, 'anomaly_edge.snapshot');
    const deadline = Date.now() + 10_000;
    while (!existsSync(file) && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(existsSync(file)).toBe(true);
    await p.shutdown();
    const check = compileDetectors(cfg);
    const r = restoreSnapshot(readFileSync(file), check);
    expect(r.skipped).toEqual([]);
    expect(check.find((c) => c.name === 'new_country')!.table.size).toBeGreaterThan(0);
    const leftovers = (await import('node:fs')).readdirSync(dir).filter((f) => f.includes('.tmp-'));
    expect(leftovers).toEqual([]);
  });

  it('ignores a corrupt snapshot with a warning and starts fresh', async () => {
    const dir = tempDir('vigil-anomaly-');
    const p1 = processor(dir);
    await p1.start();
    feed(p1, before.slice(0, 3000), 'a');
    await p1.shutdown();
    const file = join(dir, 'anomaly.snapshot');
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(file, bytes);

    const { logger, lines } = capturingLogger();
    const p2 = processor(dir, logger);
    await p2.start();
    const warn = lines().find((l) => l.msg.startsWith('anomaly snapshot is corrupt or incompatible'));
    expect(warn?.err).toMatch(/checksum mismatch/);
    expect(p2.detectors.every((c) => c.table.size === 0)).toBe(true);
    // It still works.
    const { scores } = feed(p2, before.slice(0, 100), 'c');
    expect(scores).toHaveLength(100);
    await p2.shutdown();

    writeFileSync(file, 'not a snapshot at all');
    const { logger: l3, lines: lines3 } = capturingLogger();
    const p3 = processor(dir, l3);
    await p3.start();
    expect(lines3().find((l) => l.msg.startsWith('anomaly snapshot is corrupt'))?.err).toMatch(/not a Vigil anomaly snapshot/);
    await p3.shutdown();
  });

  it('leaves the snapshot to the running Vigil that holds its lock, and takes over a stale lock', async () => {
    const dir = tempDir('vigil-anomaly-');
    const file = join(dir, 'anomaly.snapshot');
    // A live owner: our parent process.
    writeFileSync(`${file}.lock`, String(process.ppid));
    const { logger, lines } = capturingLogger();
    const p = processor(dir, logger);
    await p.start();
    feed(p, before.slice(0, 500), 'a');
    await p.shutdown();
    expect(existsSync(file)).toBe(false);
    expect(lines().some((l) => l.msg.startsWith('anomaly state is owned by another running Vigil'))).toBe(true);
    expect(readFileSync(`${file}.lock`, 'utf8')).toBe(String(process.ppid));

    // A stale owner: a process that has exited.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(`${file}.lock`, String(gone));
    const q = processor(dir);
    await q.start();
    feed(q, before.slice(0, 500), 'a');
    await q.shutdown();
    expect(existsSync(file)).toBe(true);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('refuses a snapshot holding a key twice (a detector block repeated, checksum recomputed) rather than corrupt the key table', () => {
    const p = processor(undefined);
    feed(p, before.slice(0, 3000), 'a');
    const snap = encodeSnapshot(p.detectors.slice(0, 1), 123);
    const c = p.detectors[0];
    expect(c.table.size).toBeGreaterThan(1);
    // The header says 1 detector; say 2 and repeat the block: every key of it comes twice.
    const len = snap.readUInt32LE(8);
    const header = JSON.parse(snap.subarray(12, 12 + len).toString());
    const patched = Buffer.from(JSON.stringify({ ...header, detectors: 2 }));
    const block = snap.subarray(12 + len, snap.length - 32);
    const body = Buffer.concat([snap.subarray(0, 8), Buffer.alloc(4), patched, block, block]);
    body.writeUInt32LE(patched.length, 8);
    const twice = Buffer.concat([body, createHash('sha256').update(body).digest()]);
    const fresh = compileDetectors(anomalyConfigSchema.parse({})).filter((d) => d.name === c.name);
    expect(() => restoreSnapshot(twice, fresh)).toThrow(/appears twice/);
    // A table holding a key twice held more keys than max_keys and looped its LRU order forever.
    expect(fresh[0].table.size).toBeLessThanOrEqual(fresh[0].table.maxKeys);
  });

  it('refuses another format version, and restarts only a detector whose definition changed', () => {
    const cfg = anomalyConfigSchema.parse({});
    const detectors = compileDetectors(cfg);
    const p = processor(undefined);
    feed(p, before.slice(0, 3000), 'a');
    const snap = encodeSnapshot(p.detectors, 123);

    // Same bytes, header version bumped, checksum recomputed: an incompatible (not corrupt) file.
    const len = snap.readUInt32LE(8);
    const header = JSON.parse(snap.subarray(12, 12 + len).toString());
    const patched = Buffer.from(JSON.stringify({ ...header, version: 99 }));
    const body = Buffer.concat([snap.subarray(0, 8), Buffer.alloc(4), patched, snap.subarray(12 + len, snap.length - 32)]);
    body.writeUInt32LE(patched.length, 8);
    const v99 = Buffer.concat([body, createHash('sha256').update(body).digest()]);
    expect(() => restoreSnapshot(v99, detectors)).toThrow(SnapshotError);
    expect(() => restoreSnapshot(v99, detectors)).toThrow(/incompatible snapshot format .* v99/);
    expect(detectors.every((c) => c.table.size === 0)).toBe(true);

    const changed = compileDetectors(
      anomalyConfigSchema.parse({
        detectors: [
          { name: 'route_latency', key: ['http.route'], value: 'http.server.request.duration' },
          { name: 'new_country', key: ['user.id'], novelty: 'geo.country.iso_code' },
        ],
      }),
    );
    const r = restoreSnapshot(snap, changed);
    expect(r.restored.map((x) => x.name)).toEqual(['new_country']);
    expect(r.skipped.find((x) => x.name === 'route_latency')?.reason).toMatch(/definition changed/);
    expect(r.skipped.find((x) => x.name === 'client_rate')?.reason).toMatch(/no longer configured/);
    expect(r.lastEventTime).toBe(123);
  });

  it('restores every key, its cells and the LRU order, across the tables growing while it loads (5,000 keys)', () => {
    const source = compileDetectors(anomalyConfigSchema.parse({}));
    for (const c of source) {
      const t = c.table;
      for (let i = 0; i < 5000; i++) {
        const slot = t.add(`${c.name}-key-${i}`);
        for (let k = 0; k < t.f64Stride; k++) t.f64[slot * t.f64Stride + k] = i + k / 8;
        for (let k = 0; k < t.u32Stride; k++) t.u32[slot * t.u32Stride + k] = i * 31 + k;
      }
      t.find(`${c.name}-key-7`); // a key out of insertion order
    }
    const target = compileDetectors(anomalyConfigSchema.parse({}));
    restoreSnapshot(encodeSnapshot(source, 1), target);
    const contents = (cs: typeof source) =>
      cs.map((c) => {
        const t = c.table;
        const { keys, slots } = t.orderOldestFirst();
        return keys.map((k, i) => [k, [...t.f64.subarray(slots[i] * t.f64Stride, (slots[i] + 1) * t.f64Stride)], [...t.u32.subarray(slots[i] * t.u32Stride, (slots[i] + 1) * t.u32Stride)]]);
      });
    expect(target.every((c) => c.table.size === 5000 && c.table.allocatedSlots > 1024)).toBe(true);
    expect(contents(target)).toEqual(contents(source));
  });
});
