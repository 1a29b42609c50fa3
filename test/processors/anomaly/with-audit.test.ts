// End to end through the real `audit` processor: raw JSON access-log lines (as
// a receiver hands them over: a text body, no attributes, time 0) go through
// [audit, anomaly] exactly as `vigil replay` and the live pipeline run them;
// the anomaly processor works from the attributes audit derived.
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../../src/components.js';
import { validateConfig } from '../../../src/config/load.js';
import { getAttribute, Long, type LogBatch, type ResourceContext, type ScopeContext, type VigilRecord } from '../../../src/pipeline/record.js';
import { Service } from '../../../src/pipeline/service.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { Telemetry } from '../../../src/telemetry/metrics.js';

const START = Date.UTC(2026, 2, 2);
const HOUR = 3_600_000;
const resource: ResourceContext = { resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] }, schemaUrl: '' };
const scope: ScopeContext = { scope: { name: 'access' }, schemaUrl: '' };

function line(t: number, user: string, ip: string, method: string, path: string, status: number): VigilRecord {
  const body = JSON.stringify({ time: new Date(t).toISOString(), user, client_ip: ip, method, path, status, bytes: 1200, request_time: 0.042 });
  return { resource, scope, log: { timeUnixNano: Long.UZERO, observedTimeUnixNano: Long.UZERO, body: { stringValue: body }, attributes: [] } };
}

describe('anomaly after the real audit processor', () => {
  it('flags a brute force on an account from raw JSON access logs, with audit.* as its input', async () => {
    const config = validateConfig(
      {
        processors: { audit: {}, anomaly: {} },
        service: { pipelines: { logs: { processors: ['audit', 'anomaly'] } } },
      },
      defaultRegistry(),
      'test',
      { mode: 'replay' },
    );
    const service = await Service.build(config, silentLogger(), new Telemetry({ processMetrics: false }), { withReceivers: false, withExporters: false });
    for (const p of service.processors) await p.instance.start?.(service);
    const pipeline = service.pipelines[0];

    // Three days of ordinary use: 40 users log in each morning (a few typos) and browse.
    const users = Array.from({ length: 40 }, (_, i) => ({ id: `user${i}`, ip: `81.2.69.${10 + i}` }));
    const history: VigilRecord[] = [];
    for (let d = 0; d < 3; d++) {
      for (const [i, u] of users.entries()) {
        const t = START + d * 24 * HOUR + 8 * HOUR + i * 60_000;
        if ((i + d) % 9 === 0) history.push(line(t - 30_000, u.id, u.ip, 'POST', '/login', 401));
        history.push(line(t, u.id, u.ip, 'POST', '/login', 200));
        for (let k = 1; k <= 10; k++) history.push(line(t + k * 120_000, u.id, u.ip, 'GET', `/api/items/${k}`, 200));
      }
    }
    history.sort((a, b) => JSON.parse(a.log.body!.stringValue!).time.localeCompare(JSON.parse(b.log.body!.stringValue!).time));
    const scored: VigilRecord[] = [];
    for (let i = 0; i < history.length; i += 300) scored.push(...(await pipeline.process(history.slice(i, i + 300))));
    expect(scored.every((r) => typeof getAttribute(r.log.attributes, 'anomaly.score') === 'number')).toBe(true);
    expect(scored.filter((r) => getAttribute(r.log.attributes, 'anomaly.detected') === true)).toEqual([]);

    // Then 30 failed logins on user7 from one address within two minutes.
    const attackAt = START + 3 * 24 * HOUR + 14 * HOUR;
    const attack: LogBatch = Array.from({ length: 30 }, (_, i) => line(attackAt + i * 4_000, 'user7', '203.0.113.5', 'POST', '/login', 401));
    const out = await pipeline.process(attack);
    const records = out.filter((r) => r.log.eventName !== 'vigil.anomaly');
    // audit derived what anomaly keys on
    expect(getAttribute(records[0].log.attributes, 'user.id')).toBe('user7');
    expect(getAttribute(records[0].log.attributes, 'audit.action')).toBe('login');
    expect(getAttribute(records[0].log.attributes, 'audit.outcome')).toBe('failure');
    const first = records.findIndex((r) => String(getAttribute(r.log.attributes, 'anomaly.reasons') ?? '') !== '' || getAttribute(r.log.attributes, 'anomaly.detected') === true);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first).toBeLessThan(20);
    const reasons = records[first].log.attributes.find((a) => a.key === 'anomaly.reasons')!.value!.arrayValue!.values.map((v) => v.stringValue);
    expect(reasons.some((r) => r!.startsWith('login_failures [user7]'))).toBe(true);
    const alert = out.find((r) => r.log.eventName === 'vigil.anomaly' && getAttribute(r.log.attributes, 'anomaly.detector') === 'login_failures');
    expect(alert).toBeDefined();
    // The alert points at the audit record that raised it.
    expect(getAttribute(alert!.log.attributes, 'anomaly.source_record_id')).toBe(getAttribute(records[first].log.attributes, 'audit.record_id'));
    await service.shutdown(1000);
  });
});
