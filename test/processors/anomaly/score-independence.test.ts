// The record's score is the models' view of the record, not the alert
// decision: the same records give the same anomaly.score whatever
// alert_budget or threshold say (NAB sweeps its own threshold over the score,
// so it must not move with ours). Alerts do change with them. Runs the ten
// default detectors plus a per-record `value` detector (NAB's) over generated
// traffic with injected anomalies (a latency regression, a brute force, a
// download burst, a level shift), through the real scorer.
import { describe, expect, it } from 'vitest';
import { anomalyConfigSchema, defaultDetectors } from '../../../src/processors/anomaly/config.js';
import { type AlertEvent, compileDetectors, Scorer } from '../../../src/processors/anomaly/scorer.js';
import { DAY, type Event, HOUR, login, makeUsers, normalTraffic, Rng, START, toRecord, userRequest } from './traffic.js';

const MINUTE = 60_000;

function traffic(): Event[] {
  const rng = new Rng(11);
  const users = makeUsers(40, rng);
  const events = normalTraffic(users, 6, rng);
  const at = START + 5 * DAY + 11 * HOUR;
  // A latency regression on one route, a brute force, a download burst.
  for (let i = 0; i < 200; i++) {
    const e = userRequest(users[i % 20], at + i * 3_000, rng, '/api/orders');
    e.attrs['http.server.request.duration'] = Number(e.attrs['http.server.request.duration']) * 12;
    events.push(e);
  }
  for (let i = 0; i < 40; i++) events.push(login(users[7], at + 20 * MINUTE + i * 2_000, rng, 'failure', '203.0.113.9'));
  for (let i = 0; i < 30; i++) {
    const e = userRequest(users[9], at + 40 * MINUTE + i * 10_000, rng);
    e.attrs['http.response.body.size'] = 50_000_000;
    events.push(e);
  }
  return events.sort((a, b) => a.t - b.t);
}

function run(events: Event[], settings: Record<string, unknown>): { scores: Float64Array; alerts: number } {
  const cfg = anomalyConfigSchema.parse({
    ...settings,
    detectors: [...defaultDetectors(['/admin*']), { name: 'latency_per_record', key: ['user.id'], value: 'http.server.request.duration', scale: 'log' }],
  });
  const scorer = new Scorer(compileDetectors(cfg), cfg.cooldown);
  const scores = new Float64Array(events.length);
  let alerts = 0;
  const raised: AlertEvent[] = [];
  events.forEach((e, i) => {
    raised.length = 0;
    scores[i] = scorer.score(toRecord(e, `r${i}`), raised);
    alerts += raised.length;
  });
  return { scores, alerts };
}

describe('anomaly.score does not depend on the alert decision', () => {
  const events = traffic();
  const base = run(events, {});

  it.each([
    ['alert_budget 1000', { alert_budget: 1000 }],
    ['alert_budget 0.01', { alert_budget: 0.01 }],
    ['threshold 0.5', { threshold: 0.5 }],
    ['threshold 0.999', { threshold: 0.999 }],
  ])('%s: the same score on every record, other alerts', (_name, settings) => {
    const other = run(events, settings);
    let differing = 0;
    for (let i = 0; i < events.length; i++) if (other.scores[i] !== base.scores[i]) differing++;
    expect(differing).toBe(0);
    // The setting did change the alert decision (else this test would prove nothing).
    expect(other.alerts).not.toBe(base.alerts);
  });

  it('the injected anomalies do score high (the scores compared are not all zero)', () => {
    expect(base.alerts).toBeGreaterThan(0);
    expect(Math.max(...base.scores)).toBeGreaterThan(0.99);
  });
});
