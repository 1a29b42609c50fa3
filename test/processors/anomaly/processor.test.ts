// The processor as a pipeline component: every record scored, bounded memory
// whatever the number of keys, its metrics, alert records, and robustness to
// records that lack what a detector needs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getAttribute, type LogBatch } from '../../../src/pipeline/record.js';
import { anomalyConfigSchema } from '../../../src/processors/anomaly/config.js';
import { AnomalyProcessor, anomalyProcessorFactory } from '../../../src/processors/anomaly/processor.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { Telemetry } from '../../../src/telemetry/metrics.js';
import { exposedGc } from '../../helpers/gc.js';
import { makeRecord } from '../../helpers/records.js';

const T = Date.UTC(2026, 2, 2, 12);

function metricValue(text: string, name: string, detector: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{detector="${detector}"}`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

describe('anomaly processor', () => {
  it('keeps tracked keys at max_keys when far more distinct keys pass (25,000 keys, max_keys 500) (memory is flat)', async () => {
    const telemetry = new Telemetry({ processMetrics: false });
    const p = anomalyProcessorFactory.create(anomalyConfigSchema.parse({ max_keys: 500 }), { id: 'anomaly', logger: silentLogger(), telemetry }) as AnomalyProcessor;
    await p.start();
    const bytesAt = () => p.detectors.reduce((s, c) => s + c.table.slabBytes(), 0);
    let bytesAtCap = 0;
    for (let b = 0; b < 25; b++) {
      const batch: LogBatch = [];
      for (let i = 0; i < 1000; i++) {
        const k = b * 1000 + i;
        batch.push(
          makeRecord({
            timeMs: T + k * 10,
            attrs: {
              'user.id': `user-${k}`,
              'client.address': `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`,
              'geo.country.iso_code': 'DE',
              'http.route': `/r/${k}`,
              'http.response.status_code': 200,
              'http.server.request.duration': 0.05,
              'http.response.body.size': 1000,
            },
          }),
        );
      }
      p.process(batch);
      if (b === 1) bytesAtCap = bytesAt();
    }
    for (const c of p.detectors) if (c.name !== 'login_failures' && c.name !== 'credential_stuffing' && c.name !== 'sensitive_route_network') expect(c.table.size, c.name).toBe(500);
    // The slabs stopped growing once the cap was reached.
    expect(bytesAt()).toBe(bytesAtCap);
    const text = await telemetry.registry.metrics();
    expect(metricValue(text, 'vigil_anomaly_tracked_keys', 'client_rate')).toBe(500);
    expect(metricValue(text, 'vigil_anomaly_tracked_keys', 'route_latency')).toBe(500);
    expect(metricValue(text, 'vigil_anomaly_evicted_keys_total', 'new_country')).toBe(24_500);
    await p.shutdown();
  });

  it('scores every record, including those a detector cannot use, and never throws on odd values', () => {
    const p = new AnomalyProcessor('anomaly', anomalyConfigSchema.parse({}), silentLogger(), new Telemetry({ processMetrics: false }));
    const odd = [
      makeRecord({ attrs: {} }),
      makeRecord({ attrs: { 'user.id': '', 'client.address': 'not-an-ip', 'http.route': '/x', 'http.server.request.duration': 'slow', 'http.response.body.size': -5 } }),
      makeRecord({ attrs: { 'user.id': 'inf', 'http.route': '/y', 'http.server.request.duration': Number.POSITIVE_INFINITY, 'http.response.body.size': Number.POSITIVE_INFINITY } }),
      makeRecord({ attrs: { 'http.route': '/x', 'http.server.request.duration': Number.NaN, 'http.response.status_code': 'teapot' } }),
      makeRecord({ timeMs: 0, attrs: { 'user.id': 'u', 'http.route': '/x', 'http.server.request.duration': 1e308 } }),
    ];
    odd[4].log.timeUnixNano = 0;
    const out = p.process(odd);
    expect(out).toHaveLength(5);
    // An infinite weight never reaches a baseline (it would poison it for good).
    const bytes = p.detectors.find((c) => c.name === 'download_bytes')!;
    expect(bytes.table.find('inf')).toBe(-1);
    for (const r of out) {
      expect(getAttribute(r.log.attributes, 'anomaly.score')).toBe(0);
      expect(r.log.attributes.find((a) => a.key === 'anomaly.score')!.value).toEqual({ doubleValue: 0 });
      expect(getAttribute(r.log.attributes, 'anomaly.detected')).toBe(false);
      expect(r.log.attributes.find((a) => a.key === 'anomaly.reasons')).toBeUndefined();
    }
  });

  it('raises one alert per detector and key per cooldown, counts it, and replaces stale anomaly.* attributes', async () => {
    const telemetry = new Telemetry({ processMetrics: false });
    const cfg = anomalyConfigSchema.parse({ cooldown: '10m', detectors: [{ name: 'burst', key: ['client.address'], rate: '1m', warmup: 0 }] });
    const p = new AnomalyProcessor('anomaly', cfg, silentLogger(), telemetry);
    await p.start();
    // A calm population first, so that the burst has something to differ from.
    const calm: LogBatch = [];
    for (let i = 0; i < 200; i++) calm.push(makeRecord({ timeMs: T + i * 60_000, attrs: { 'client.address': `10.0.0.${i % 50}` } }));
    p.process(calm);
    const burst = (start: number) =>
      Array.from({ length: 100 }, (_, i) =>
        makeRecord({ timeMs: start + i * 100, attrs: { 'client.address': '203.0.113.1', 'anomaly.score': 0.5, 'anomaly.reasons': 'stale' } }),
      );
    const first = p.process(burst(T + 300 * 60_000));
    const alerts1 = first.filter((r) => r.log.eventName === 'vigil.anomaly');
    expect(alerts1).toHaveLength(1);
    const flagged = first.filter((r) => r.log.eventName !== 'vigil.anomaly' && getAttribute(r.log.attributes, 'anomaly.detected') === true);
    expect(flagged.length).toBeGreaterThan(50);
    // The stale attributes were replaced, not duplicated.
    expect(flagged[0].log.attributes.filter((a) => a.key === 'anomaly.score')).toHaveLength(1);
    expect(String(getAttribute(flagged[0].log.attributes, 'anomaly.reasons'))).not.toBe('stale');
    expect(flagged[0].log.attributes.find((a) => a.key === 'anomaly.reasons')!.value!.arrayValue!.values[0].stringValue).toMatch(
      /^burst \[203\.0\.113\.1\]: [\d.]+ records in ~1m vs baseline [\d.]+ ±[\d.]+ \(score 0\.\d+\)$/,
    );
    const a = alerts1[0];
    expect(a.log.eventName).toBe('vigil.anomaly');
    expect(a.log.severityText).toMatch(/WARN|ERROR/);
    expect(getAttribute(a.log.attributes, 'anomaly.detector')).toBe('burst');
    expect(getAttribute(a.log.attributes, 'anomaly.key')).toBe('203.0.113.1');
    expect(getAttribute(a.log.attributes, 'client.address')).toBe('203.0.113.1');
    expect(getAttribute(a.log.attributes, 'audit.record_id')).toMatch(/^anomaly-[0-9a-f]{32}$/);
    expect(String(getAttribute(a.log.attributes, 'anomaly.severity'))).toMatch(/^(warning|critical)$/);

    // Within the cooldown: flagged again, no new alert. After it: a new alert.
    expect(p.process(burst(T + 305 * 60_000)).filter((r) => r.log.eventName === 'vigil.anomaly')).toHaveLength(0);
    expect(p.process(burst(T + 330 * 60_000)).filter((r) => r.log.eventName === 'vigil.anomaly')).toHaveLength(1);
    const text = await telemetry.registry.metrics();
    expect(metricValue(text, 'vigil_anomalies_total', 'burst')).toBe(2);

    // Its own alerts passing through again (a second anomaly processor, a replay of the archive) are left alone.
    const again = p.process([a]);
    expect(again).toEqual([a]);
    await p.shutdown();
  });

  it('never throws and keeps scores in [0, 1] whatever the values and times (property)', () => {
    const names = ['user.id', 'client.address', 'http.route', 'url.path', 'http.response.status_code', 'audit.action', 'audit.outcome', 'geo.country.iso_code', 'http.server.request.duration', 'http.response.body.size'];
    const value = fc.oneof(fc.string({ maxLength: 12 }), fc.double(), fc.integer(), fc.boolean(), fc.constantFrom('login', 'failure', '/admin/x', '10.0.0.1', '::1', '500', 'NaN', '-0'));
    const rec = fc.record({ t: fc.oneof(fc.constant(0), fc.integer({ min: T - 86_400_000, max: T + 86_400_000 })), attrs: fc.dictionary(fc.constantFrom(...names), value) });
    const p = new AnomalyProcessor('anomaly', anomalyConfigSchema.parse({ warmup: 0 }), silentLogger(), new Telemetry({ processMetrics: false }));
    fc.assert(
      fc.property(fc.array(rec, { minLength: 1, maxLength: 60 }), (recs) => {
        const out = p.process(recs.map((r) => makeRecord({ timeMs: r.t, attrs: r.attrs })));
        for (const r of out) {
          if (r.log.eventName === 'vigil.anomaly') continue;
          const s = Number(getAttribute(r.log.attributes, 'anomaly.score'));
          expect(s >= 0 && s <= 1).toBe(true);
        }
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('is deterministic: the same records in the same order give the same scores', () => {
    const make = () =>
      Array.from({ length: 3000 }, (_, i) =>
        makeRecord({
          timeMs: T + i * 7_000,
          attrs: { 'user.id': `u${i % 37}`, 'client.address': `10.0.${i % 11}.1`, 'http.route': `/r${i % 5}`, 'http.server.request.duration': ((i * 7919) % 1000) / 1000, 'http.response.status_code': i % 97 === 0 ? 500 : 200 },
        }),
      );
    const score = () => {
      const p = new AnomalyProcessor('anomaly', anomalyConfigSchema.parse({}), silentLogger(), new Telemetry({ processMetrics: false }));
      return p.process(make()).map((r) => getAttribute(r.log.attributes, 'anomaly.score'));
    };
    expect(score()).toEqual(score());
  });
});

describe('between batches', () => {
  it('keeps no record (nor its resource) alive once process() returned', async () => {
    const gc = exposedGc();
    if (!gc) throw new Error('this test needs V8 gc (node --expose-gc, or v8.setFlagsFromString at run time)');
    const p = new AnomalyProcessor('anomaly', anomalyConfigSchema.parse({}), silentLogger(), new Telemetry({ processMetrics: false }));
    let refs: { record: WeakRef<object>; resourceValue: WeakRef<object> } | undefined;
    // In a function of its own, so that no local of this frame holds the batch.
    (() => {
      const rec = makeRecord({ attrs: { 'user.id': 'alice', 'client.address': '198.51.100.4' } });
      rec.resource.resource.attributes.push({ key: 'deployment.environment.name', value: { stringValue: 'prod' } });
      refs = { record: new WeakRef(rec.log), resourceValue: new WeakRef(rec.resource.resource.attributes[1].value!) };
      p.process([rec]);
    })();
    // A WeakRef keeps its target alive until the end of the job that made it: let that job end first.
    await new Promise<void>((resolve) => setImmediate(resolve));
    gc();
    expect(refs!.record.deref()).toBeUndefined();
    expect(refs!.resourceValue.deref()).toBeUndefined();
  });
});
