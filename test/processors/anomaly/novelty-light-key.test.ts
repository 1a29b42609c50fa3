// new_country on a light account: a user with two records a working day, all
// from one country for over a week, is settled although it has made fewer
// than the 20 observations of the warm-up; a login from a new country is one
// alert (bench:alerts, enterprise seed 5: 17 records in 8 days, still learning
// when the new country came). A key that young in time is still learning: a
// few records on its first day do not make a country history.
import { describe, expect, it } from 'vitest';
import { anomalyConfigSchema } from '../../../src/processors/anomaly/config.js';
import { type AlertEvent, compileDetectors, Scorer } from '../../../src/processors/anomaly/scorer.js';
import { DAY, HOUR, record, START } from './stationary.js';

function scorer(): Scorer {
  const cfg = anomalyConfigSchema.parse({ detectors: [{ name: 'new_country', key: ['user.id'], novelty: 'geo.country.iso_code' }] });
  return new Scorer(compileDetectors(cfg), cfg.cooldown);
}

const login = (t: number, user: string, country: string) => record(t, { 'user.id': user, 'geo.country.iso_code': country });

describe('novelty on a light key', () => {
  it('a light user settled over days alerts on a new country', () => {
    const s = scorer();
    const before: AlertEvent[] = [];
    // Two records a day for nine days: 18 observations, all from France; peers busier on weekdays,
    // so that the population has shown its key-hours (past the cold start).
    for (let d = 0; d < 9; d++) {
      if (d % 7 < 5) for (let h = 8; h < 17; h++) for (let u = 0; u < 10; u++) s.score(login(START + d * DAY + h * HOUR + u * 60_000, `peer${u}`, 'FR'), before);
      for (const h of [9, 15]) s.score(login(START + d * DAY + h * HOUR + 30 * 60_000, 'light', 'FR'), before);
    }
    expect(before).toEqual([]);
    const alerts: AlertEvent[] = [];
    s.score(login(START + 9 * DAY + 12 * HOUR, 'light', 'SG'), alerts);
    expect(alerts.map((a) => a.key)).toEqual(['light']);
    expect(alerts[0].reason).toMatch(/geo\.country\.iso_code "SG" never seen for this key/);
  });

  it('as many records within a day are still learning', () => {
    const s = scorer();
    const alerts: AlertEvent[] = [];
    for (let i = 0; i < 14; i++) s.score(login(START + 8 * HOUR + i * 20 * 60_000, 'young', 'FR'), alerts);
    s.score(login(START + 14 * HOUR, 'young', 'SG'), alerts);
    expect(alerts).toEqual([]);
  });
});
