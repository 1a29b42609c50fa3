// Alerts are episodes per (detector, key): one alert when evidence first
// reaches the budget's level, anomaly.detected and anomaly.alert_id on the
// records of the episode only (whatever the score of the others), the same id
// while the evidence lasts, a new episode only after `cooldown` without any.
import { describe, expect, it } from 'vitest';
import { getAttribute, type LogBatch, type VigilRecord } from '../../../src/pipeline/record.js';
import { anomalyConfigSchema } from '../../../src/processors/anomaly/config.js';
import { AnomalyProcessor } from '../../../src/processors/anomaly/processor.js';
import { EVENT_NAME } from '../../../src/processors/anomaly/scorer.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { Telemetry } from '../../../src/telemetry/metrics.js';
import { makeRecord } from '../../helpers/records.js';
import { DAY, HOUR, makeUsers, normalTraffic, Rng, START, toRecord, userRequest } from './traffic.js';

const MINUTE = 60_000;

function ids(r: VigilRecord): string[] {
  return (r.log.attributes.find((a) => a.key === 'anomaly.alert_id')?.value?.arrayValue?.values ?? []).map((v) => v.stringValue ?? '');
}
const detected = (r: VigilRecord) => getAttribute(r.log.attributes, 'anomaly.detected') === true;
const split = (out: LogBatch) => ({ records: out.filter((r) => r.log.eventName !== EVENT_NAME), alerts: out.filter((r) => r.log.eventName === EVENT_NAME) });

describe('alert episodes', () => {
  it('a burst is one episode: one alert, its id on the burst records, none elsewhere; a later burst after cooldown is another', async () => {
    const cfg = anomalyConfigSchema.parse({ cooldown: '10m', detectors: [{ name: 'burst', key: ['client.address'], rate: '1m', warmup: 0 }] });
    const p = new AnomalyProcessor('anomaly', cfg, silentLogger(), new Telemetry({ processMetrics: false }));
    const T = START;
    const calm: LogBatch = [];
    for (let i = 0; i < 600; i++) calm.push(makeRecord({ timeMs: T + i * 20_000, attrs: { 'client.address': `10.0.0.${i % 50}` } }));
    expect(split(p.process(calm)).alerts).toHaveLength(0);

    // A burst of 100 records in 10 s, interleaved with calm clients.
    const burst = (at: number) =>
      Array.from({ length: 200 }, (_, i) => makeRecord({ timeMs: at + Math.floor(i / 2) * 100, attrs: { 'client.address': i % 2 === 0 ? '203.0.113.1' : `10.0.0.${i % 50}` } }));
    const first = split(p.process(burst(T + 12_000 * 1000)));
    expect(first.alerts).toHaveLength(1);
    const id = String(getAttribute(first.alerts[0].log.attributes, 'anomaly.alert_id'));
    expect(id).toMatch(/^burst-[0-9a-f]{16}$/);
    const mine = first.records.filter((r) => getAttribute(r.log.attributes, 'client.address') === '203.0.113.1');
    const flagged = mine.filter(detected);
    expect(flagged.length).toBeGreaterThan(50);
    for (const r of flagged) expect(ids(r)).toEqual([id]);
    // Outside the episode: detected=false and no id, whatever the score (every record keeps its score).
    for (const r of first.records.filter((x) => !detected(x))) {
      expect(getAttribute(r.log.attributes, 'anomaly.detected')).toBe(false);
      expect(ids(r)).toEqual([]);
      expect(typeof getAttribute(r.log.attributes, 'anomaly.score')).toBe('number');
    }
    expect(first.records.filter((r) => getAttribute(r.log.attributes, 'client.address') !== '203.0.113.1').some(detected)).toBe(false);

    // Two minutes later, within the cooldown: the same episode goes on (no new alert, same id).
    const again = split(p.process(burst(T + 12_000 * 1000 + 2 * MINUTE)));
    expect(again.alerts).toHaveLength(0);
    const againFlagged = again.records.filter(detected);
    expect(againFlagged.length).toBeGreaterThan(0);
    for (const r of againFlagged) expect(ids(r)).toEqual([id]);

    // After the cooldown without evidence: a new episode, a new alert and id.
    const later = split(p.process(burst(T + 12_000 * 1000 + 30 * MINUTE)));
    expect(later.alerts).toHaveLength(1);
    const id2 = String(getAttribute(later.alerts[0].log.attributes, 'anomaly.alert_id'));
    expect(id2).not.toBe(id);
    for (const r of later.records.filter(detected)) expect(ids(r)).toEqual([id2]);
  });

  it("an off-hours session is one alert, carried by each of its records; the key's ordinary hours stay unflagged", () => {
    const rng = new Rng(424242);
    const users = makeUsers(120, rng);
    const history = normalTraffic(users, 10, rng);
    const p = new AnomalyProcessor('anomaly', anomalyConfigSchema.parse({ detectors: [{ name: 'off_hours', key: ['user.id'], hour_of_week: true }] }), silentLogger(), new Telemetry({ processMetrics: false }));
    const at = START + 9 * DAY + 3 * HOUR; // Wednesday 03:00 UTC, after nine days of office hours
    const u = users.find((x) => !x.weekends && !x.admin)!;
    const session = Array.from({ length: 6 }, (_, i) => ({ ...userRequest(u, at + i * 4 * MINUTE, rng), injected: true }));
    const events = [...history.map((e) => ({ ...e, injected: false })), ...session].sort((a, b) => a.t - b.t);
    const records: VigilRecord[] = [];
    const alerts: VigilRecord[] = [];
    for (let i = 0; i < events.length; i += 500) {
      const out = split(p.process(events.slice(i, i + 500).map((e, j) => toRecord(e, `e-${i + j}`))));
      records.push(...out.records);
      alerts.push(...out.alerts);
    }
    const afterWeek = (i: number) => events[i].t >= START + 7 * DAY;
    const sessionAlerts = alerts.filter((a) => getAttribute(a.log.attributes, 'anomaly.key') === u.id);
    expect(sessionAlerts).toHaveLength(1);
    const id = String(getAttribute(sessionAlerts[0].log.attributes, 'anomaly.alert_id'));
    const sessionRecords = records.filter((_, i) => events[i].injected);
    expect(sessionRecords).toHaveLength(6);
    for (const r of sessionRecords) {
      expect(detected(r)).toBe(true);
      expect(ids(r)).toEqual([id]);
    }
    // That user's office hours, before and after the session: not flagged, no id.
    const office = records.filter((r, i) => !events[i].injected && afterWeek(i) && getAttribute(r.log.attributes, 'user.id') === u.id);
    expect(office.length).toBeGreaterThan(20);
    for (const r of office) {
      expect(detected(r)).toBe(false);
      expect(ids(r)).toEqual([]);
    }
    // And nobody else's ordinary traffic after the first week raised anything.
    expect(alerts.filter((a) => getAttribute(a.log.attributes, 'anomaly.key') !== u.id).map((a) => a.log.body?.stringValue)).toEqual([]);
  });
});
