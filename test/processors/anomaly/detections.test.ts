// Each default detection, on generated traffic: ten days of normal behaviour
// (120 users with working-hours rhythms, their own countries and networks,
// several routes), then one injected anomaly. The anomaly must be flagged with
// the right reason within a bounded number of its records, and the clean
// traffic in the hour around it must not be flagged (records of the anomalous
// key may carry that detector's reason: the key is anomalous while it lasts).
import { beforeAll, describe, expect, it } from 'vitest';
import { eventTimeMillis, getAttribute, type LogBatch, type VigilRecord } from '../../../src/pipeline/record.js';
import { anomalyConfigSchema } from '../../../src/processors/anomaly/config.js';
import { AnomalyProcessor } from '../../../src/processors/anomaly/processor.js';
import { EVENT_NAME } from '../../../src/processors/anomaly/scorer.js';
import { encodeSnapshot, restoreSnapshot } from '../../../src/processors/anomaly/snapshot.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { Telemetry } from '../../../src/telemetry/metrics.js';
import {
  adminRequest,
  DAY,
  type Event,
  HOUR,
  login,
  makeUsers,
  normalTraffic,
  Rng,
  START,
  toRecord,
  type User,
  userRequest,
} from './traffic.js';

const MINUTE = 60_000;
const rng = new Rng(20260302);
const users = makeUsers(120, rng);
const normal = normalTraffic(users, 10, rng);
/** Wednesday of the second week, 02:00 UTC: the shared history ends here; scenarios continue from it. */
const T0 = START + 9 * DAY + 2 * HOUR;
const AT_11 = START + 9 * DAY + 11 * HOUR;
const AT_03 = START + 9 * DAY + 3 * HOUR;

let snapshot: Buffer;
let historyFlagged: string[] = [];

function newProcessor(): AnomalyProcessor {
  return new AnomalyProcessor('anomaly', anomalyConfigSchema.parse({}), silentLogger(), new Telemetry({ processMetrics: false }));
}

function run(p: AnomalyProcessor, events: Event[], prefix: string): { records: VigilRecord[]; alerts: VigilRecord[] } {
  const records: VigilRecord[] = [];
  const alerts: VigilRecord[] = [];
  for (let i = 0; i < events.length; i += 200) {
    const batch: LogBatch = events.slice(i, i + 200).map((e, j) => toRecord(e, `${prefix}-${i + j}`));
    const out = p.process(batch);
    for (const r of out) (r.log.eventName === EVENT_NAME ? alerts : records).push(r);
  }
  return { records, alerts };
}

function reasons(r: VigilRecord): string[] {
  const v = r.log.attributes.find((a) => a.key === 'anomaly.reasons')?.value?.arrayValue?.values ?? [];
  return v.map((x) => x.stringValue ?? '');
}

beforeAll(() => {
  const p = newProcessor();
  const { records } = run(p, normal.filter((e) => e.t < T0), 'h');
  // After the first week (baselines learned), ordinary traffic raises nothing.
  historyFlagged = records.filter((r) => eventTimeMillis(r.log) >= START + 7 * DAY).flatMap(reasons);
  snapshot = encodeSnapshot(p.detectors, START);
}, 60_000);

interface Scenario {
  detector: string;
  key: string;
  at: number;
  inject: (u: (pred: (u: User) => boolean) => User) => Event[];
  /** The anomaly must be flagged among its first this-many records. */
  within: number;
}

function pickUser(pred: (u: User) => boolean): User {
  const u = users.find((x) => !x.admin && pred(x));
  if (!u) throw new Error('no such user in the generated population');
  return u;
}

const spread = (n: number, from: number, over: number, make: (t: number, i: number) => Event) =>
  Array.from({ length: n }, (_, i) => make(from + Math.floor((i * over) / n), i));

const scenarios: Record<string, Scenario> = {
  'a spike in HTTP 5xx on a route': {
    detector: 'route_5xx',
    key: '/api/orders',
    at: AT_11,
    within: 15,
    inject: () =>
      spread(120, AT_11, 10 * MINUTE, (t, i) => {
        const e = userRequest(users[i % users.length], t, rng, '/api/orders');
        const failed = i % 5 < 3;
        return { t, attrs: { ...e.attrs, 'http.response.status_code': failed ? 503 : 200, 'audit.outcome': failed ? 'failure' : 'success' } };
      }),
  },
  'a spike in HTTP 429 on a route': {
    detector: 'route_429',
    key: '/api/search',
    at: AT_11,
    within: 15,
    inject: () =>
      spread(120, AT_11, 10 * MINUTE, (t, i) => {
        const e = userRequest(users[i % users.length], t, rng, '/api/search');
        const limited = i % 10 < 7;
        return { t, attrs: { ...e.attrs, 'http.response.status_code': limited ? 429 : 200, 'audit.outcome': limited ? 'failure' : 'success' } };
      }),
  },
  'a request-rate burst from one client address': {
    detector: 'client_rate',
    key: '198.51.100.200',
    at: AT_11,
    within: 25,
    inject: () =>
      spread(600, AT_11, MINUTE, (t) => {
        const e = userRequest(users[0], t, rng, '/api/items');
        const { 'user.id': _u, ...attrs } = e.attrs;
        return { t, attrs: { ...attrs, 'client.address': '198.51.100.200', 'geo.country.iso_code': 'NL' } };
      }),
  },
  'a failed-login burst on one account (brute force)': {
    detector: 'login_failures',
    key: '',
    at: AT_11,
    within: 20,
    inject: (pick) => {
      const victim = pick((u) => u.countries.length === 1);
      scenarios['a failed-login burst on one account (brute force)'].key = victim.id;
      return spread(40, AT_11, 2 * MINUTE, (t) => login(victim, t, rng, 'failure', '203.0.113.66', 'RU'));
    },
  },
  'many accounts failing from one address (credential stuffing)': {
    detector: 'credential_stuffing',
    key: '198.51.100.23',
    at: AT_11,
    within: 20,
    inject: () => spread(40, AT_11, 5 * MINUTE, (t, i) => login(users[(i * 7) % users.length], t, rng, 'failure', '198.51.100.23', 'RU')),
  },
  'activity at an hour unusual for the account': {
    detector: 'off_hours',
    key: '',
    at: AT_03,
    within: 2,
    inject: (pick) => {
      const u = pick((x) => !x.weekends && x.countries.length === 1);
      scenarios['activity at an hour unusual for the account'].key = u.id;
      return spread(5, AT_03, 10 * MINUTE, (t) => userRequest(u, t, rng, '/api/orders'));
    },
  },
  'an account used from a country it never used': {
    detector: 'new_country',
    key: '',
    at: AT_11,
    within: 1,
    inject: (pick) => {
      const u = pick((x) => x.countries.length === 1 && x.countries[0] !== 'BR');
      scenarios['an account used from a country it never used'].key = u.id;
      return [login(u, AT_11, rng, 'success', '177.10.20.30', 'BR'), ...spread(3, AT_11 + MINUTE, 5 * MINUTE, (t) => ({ t, attrs: { ...userRequest(u, t, rng).attrs, 'client.address': '177.10.20.30', 'geo.country.iso_code': 'BR' } }))];
    },
  },
  'a sensitive route reached from an unusual network': {
    detector: 'sensitive_route_network',
    key: '/admin/settings',
    at: AT_11,
    within: 1,
    inject: () => {
      const admin = users.find((u) => u.admin)!;
      return spread(3, AT_11, 5 * MINUTE, (t) => adminRequest(admin, t, rng, '192.0.2.77'));
    },
  },
  'bytes downloaded far above the account norm (exfiltration)': {
    detector: 'download_bytes',
    key: '',
    at: AT_11,
    within: 5,
    inject: (pick) => {
      const u = pick((x) => x.countries.length === 1 && x.id !== 'u0');
      scenarios['bytes downloaded far above the account norm (exfiltration)'].key = u.id;
      return spread(40, AT_11, 10 * MINUTE, (t) => ({ t, attrs: { ...userRequest(u, t, rng, '/api/items').attrs, 'http.response.body.size': 5_000_000 } }));
    },
  },
  'a latency regression on a route': {
    detector: 'route_latency',
    key: '/api/items',
    at: AT_11,
    within: 150,
    inject: () =>
      spread(300, AT_11, 15 * MINUTE, (t, i) => {
        const e = userRequest(users[(i * 11) % users.length], t, rng, '/api/items');
        return { t, attrs: { ...e.attrs, 'http.server.request.duration': Number(e.attrs['http.server.request.duration']) * 10 } };
      }),
  },
};

describe('anomaly processor: default detections on generated traffic', () => {
  it('learns ten days of ordinary traffic without flagging it after the first week', () => {
    expect(historyFlagged).toEqual([]);
  });

  for (const [title, s] of Object.entries(scenarios)) {
    it(`flags ${title} (${s.detector})`, () => {
      const p = newProcessor();
      restoreSnapshot(snapshot, p.detectors);
      const injected = s.inject(pickUser).map((e) => ({ ...e, injected: true }));
      const until = s.at + HOUR;
      const events = [...normal.filter((e) => e.t >= T0 && e.t < until).map((e) => ({ ...e, injected: false })), ...injected].sort((a, b) => a.t - b.t);
      const { records, alerts } = run(p, events, 's');
      const label = `${s.detector} [${s.key}]`;

      // Every record is scored.
      for (const r of records) expect(typeof getAttribute(r.log.attributes, 'anomaly.score')).toBe('number');

      const mine = records.filter((_, i) => events[i].injected);
      const firstFlagged = mine.findIndex((r) => reasons(r).some((x) => x.startsWith(label)));
      expect(firstFlagged, `${label} never flagged; reasons seen: ${JSON.stringify(mine.flatMap(reasons).slice(0, 3))}`).toBeGreaterThanOrEqual(0);
      expect(firstFlagged).toBeLessThan(s.within);
      const flagged = mine[firstFlagged];
      expect(getAttribute(flagged.log.attributes, 'anomaly.detected')).toBe(true);
      expect(Number(getAttribute(flagged.log.attributes, 'anomaly.score'))).toBeGreaterThanOrEqual(0.8);
      const ids = flagged.log.attributes.find((a) => a.key === 'anomaly.alert_id')?.value?.arrayValue?.values.map((v) => v.stringValue) ?? [];
      expect(ids.some((id) => new RegExp(`^${s.detector}-[0-9a-f]{16}$`).test(id ?? ''))).toBe(true);

      // The clean traffic in the hour around it: nothing flagged, except that key by that detector.
      const clean = records.filter((r, i) => !events[i].injected && Math.abs(events[i].t - s.at) <= HOUR);
      if (s.at !== AT_03) expect(clean.length).toBeGreaterThan(0); // at 03:00 nobody else works
      const stray = clean.flatMap(reasons).filter((x) => !x.startsWith(label));
      expect(stray).toEqual([]);

      // One alert record for it (not a storm), with the detector, key and reason.
      const mineAlerts = alerts.filter((a) => getAttribute(a.log.attributes, 'anomaly.detector') === s.detector && getAttribute(a.log.attributes, 'anomaly.key') === s.key);
      expect(mineAlerts).toHaveLength(1);
      expect(String(getAttribute(mineAlerts[0].log.attributes, 'anomaly.source_record_id'))).toMatch(/^s-/);
      expect(mineAlerts[0].scope.scope.name).toBe('vigil.anomaly');
      expect(mineAlerts[0].resource.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'vigil' } });
    });
  }
});
