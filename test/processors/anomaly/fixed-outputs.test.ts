// Speed work on the scorer and its key tables must not change a single output.
// A fixed, seeded workload (normal traffic plus injected attacks, with a tight
// max_keys so that the LRU evicts) goes through the processor; every output
// record's attributes (names, values, order), event name and the alert records,
// and the snapshot written at the end, are hashed. The hashes were recorded from
// the code before the lean-scoring and grow-on-demand changes: any difference in
// a score, a reason, an attribute's place, the eviction order or the snapshot
// bytes changes them.
import { createHash, type Hash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AnyValue, LogBatch } from '../../../src/pipeline/record.js';
import { anomalyConfigSchema } from '../../../src/processors/anomaly/config.js';
import { AnomalyProcessor } from '../../../src/processors/anomaly/processor.js';
import { encodeSnapshot } from '../../../src/processors/anomaly/snapshot.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { Telemetry } from '../../../src/telemetry/metrics.js';
import { DAY, type Event, HOUR, login, makeUsers, normalTraffic, Rng, START, toRecord, userRequest } from './traffic.js';

function workload(): Event[] {
  const rng = new Rng(1207);
  const users = makeUsers(60, rng);
  const events = normalTraffic(users, 8, rng);
  const at = START + 7 * DAY + 11 * HOUR;
  // Credential stuffing from one address, a user logging in from a new country, a download burst.
  for (let i = 0; i < 40; i++) events.push(login(users[i % 60], at + i * 2_000, rng, 'failure', '203.0.113.66', 'RU'));
  events.push(login(users[7], at + 600_000, rng, 'success', '198.51.100.9', 'KP'));
  for (let i = 0; i < 200; i++) events.push(userRequest(users[9], at + 900_000 + i * 500, rng, '/api/search'));
  // Many one-off keys (scanners): the LRU must evict under max_keys.
  for (let i = 0; i < 300; i++) events.push(login(users[i % 60], at + 1_200_000 + i * 1_000, rng, 'failure', `192.0.2.${i % 250}`, 'CN'));
  return events.sort((a, b) => a.t - b.t);
}

function hashValue(h: Hash, v: AnyValue | null | undefined): void {
  h.update(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)));
}

function run(maxKeys: number | undefined): { records: string; snapshot: string; detected: number; alerts: number } {
  const p = new AnomalyProcessor('anomaly', anomalyConfigSchema.parse(maxKeys === undefined ? {} : { max_keys: maxKeys }), silentLogger(), new Telemetry({ processMetrics: false }));
  const events = workload();
  const h = createHash('sha256');
  let detected = 0;
  let alerts = 0;
  for (let i = 0; i < events.length; i += 500) {
    const batch: LogBatch = events.slice(i, i + 500).map((e, j) => toRecord(e, `f-${i + j}`));
    for (const r of p.process(batch)) {
      h.update(`|${r.log.eventName ?? ''}|${String(r.log.timeUnixNano)}|`);
      if (r.log.eventName) alerts++;
      hashValue(h, r.log.body);
      for (const a of r.log.attributes) {
        h.update(`${a.key}=`);
        hashValue(h, a.value);
        if (a.key === 'anomaly.detected' && a.value?.boolValue) detected++;
      }
    }
  }
  const snap = encodeSnapshot(p.detectors, events[events.length - 1].t, new Date(Date.UTC(2026, 0, 1)));
  return { records: h.digest('hex'), snapshot: createHash('sha256').update(snap).digest('hex'), detected, alerts };
}

describe('anomaly outputs on a fixed workload', () => {
  it('are those recorded before the speed work (default max_keys)', () => {
    const r = run(undefined);
    expect(r.detected).toBeGreaterThan(0);
    expect(r.alerts).toBeGreaterThan(0);
    expect(r).toEqual({ records: '46ca8e23ca36aece5e6de14cbd5883e1e0bce2f2d01cddcff45384ecee91cc79', snapshot: '4addb95a69bf2581d3848db02037eece795c479fc68412d71ac6cc65dbcb0b27', detected: 273, alerts: 16 });
  });

  it('are those recorded before the speed work (max_keys 40: the LRU evicts)', () => {
    const r = run(40);
    expect(r.detected).toBeGreaterThan(0);
    expect(r).toEqual({ records: '6438cfb689c8f7becf1b1ee69dbb011bfcbaa7bcfa46367b0c87f91290133494', snapshot: '94c60a445b6ff962a8f4f651f49b5ef387060d4129712239037f45b4836bd690', detected: 227, alerts: 5 });
  });
});
