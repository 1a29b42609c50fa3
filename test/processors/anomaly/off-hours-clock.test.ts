// off_hours judges an hour by the key's own day (the run of hours holding most
// of its active hours), not by the hour's share of its busiest hour: a light
// admin whose history holds two night sessions at 03:00 still has a day of
// about 07:00–16:00, so a 03:00 export is hours outside it, rare for the admin
// and its peers (whose own nights, one in five, never carry weight), and
// carries weight (an admin route, 50 MB). Under the share model the admin's
// own night records made 03:00 a tenth of its busiest hour: not quiet, never
// tested (bench:alerts, retailer seed 3).
import { describe, expect, it } from 'vitest';
import { anomalyConfigSchema } from '../../../src/processors/anomaly/config.js';
import { type AlertEvent, compileDetectors, Scorer } from '../../../src/processors/anomaly/scorer.js';
import { Rng } from '../../../src/simulate/rng.js';
import { DAY, HOUR, record, START } from './stationary.js';

const MINUTE = 60_000;
const DAYS = 10;

interface Ev {
  t: number;
  user: string;
  route: string;
  bytes: number;
}

function history(rng: Rng): Ev[] {
  const out: Ev[] = [];
  for (let d = 0; d < DAYS; d++) {
    if (d % 7 >= 5) continue;
    const day = START + d * DAY;
    // Forty users working 08:00–17:00 UTC, thirty calls a day.
    for (let u = 0; u < 40; u++) for (let i = 0; i < 30; i++) out.push({ t: day + (8 + 9 * rng.next()) * HOUR, user: `u${u}`, route: '/api/items', bytes: 20_000 });
    // Their sporadic nights: each has a short session between 00:00 and 05:00 on one day in five, without weight.
    for (let u = 0; u < 40; u++) if (rng.next() < 0.2) for (let i = 0, t = day + 5 * HOUR * rng.next(); i < 2; i++) out.push({ t: t + i * 4 * MINUTE, user: `u${u}`, route: '/api/items', bytes: 20_000 });
    // A light admin: six calls a day between 07:00 and 16:00, an admin page among them.
    for (let i = 0; i < 6; i++) out.push({ t: day + (7 + 9 * rng.next()) * HOUR, user: 'admin', route: i === 0 ? '/admin/settings' : '/api/items', bytes: 5_000 });
    // Its own sporadic nights: four calls at 03:00 on two days.
    if (d === 1 || d === 4) for (let i = 0; i < 4; i++) out.push({ t: day + 3 * HOUR + i * 5 * MINUTE, user: 'admin', route: '/api/items', bytes: 5_000 });
  }
  return out;
}

describe('off_hours on the key own clock', () => {
  it('a 03:00 export by a light admin with its own 03:00 nights is one alert', () => {
    const cfg = anomalyConfigSchema.parse({
      detectors: [{ name: 'off_hours', key: ['user.id'], hour_of_week: true, sensitive: ['http.route matches "/admin*"', 'http.response.body.size >= 10000000'] }],
    });
    const scorer = new Scorer(compileDetectors(cfg), cfg.cooldown);
    const attackAt = START + DAYS * DAY + 3 * HOUR; // a Thursday
    const events = history(new Rng(5)).sort((a, b) => a.t - b.t);
    const before: AlertEvent[] = [];
    for (const e of events) scorer.score(record(e.t, { 'user.id': e.user, 'http.route': e.route, 'http.response.body.size': e.bytes }), before);
    expect(before.map((a) => a.reason)).toEqual([]);

    const alerts: AlertEvent[] = [];
    for (let i = 0; i < 5; i++) scorer.score(record(attackAt + i * 6 * MINUTE, { 'user.id': 'admin', 'http.route': '/admin/export', 'http.response.body.size': 50_000_000 }), alerts);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].key).toBe('admin');
    expect(alerts[0].reason).toMatch(/a session at Thu 03:00 UTC, [3-9] h outside this key's usual day \(0[6-8]:00–1[5-8]:00 UTC\)/);
  });
});
