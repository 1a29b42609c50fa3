// Robust, not stubborn: a lasting new level of a key is learned within a
// bounded time (the README states the bound), while a burst does not become
// its own baseline. A user downloading steadily for a week downloads ten
// times as much for good: download_bytes alerts on the change, then falls silent
// within the bound; a one-hour burst on another user is alerted and not
// learned (the user's next ordinary days are not flagged, a repeat is).
import { describe, expect, it } from 'vitest';
import { anomalyConfigSchema } from '../../../src/processors/anomaly/config.js';
import { type AlertEvent, compileDetectors, Scorer } from '../../../src/processors/anomaly/scorer.js';
import { Rng } from '../../../src/simulate/rng.js';
import { DAY, HOUR, record, START } from './stationary.js';

function traffic(rng: Rng, keys: number, days: number, level: (key: number, day: number) => number) {
  const out: { t: number; key: number; bytes: number }[] = [];
  for (let d = 0; d < days; d++) {
    for (let k = 0; k < keys; k++) {
      let t = START + d * DAY + 9 * HOUR;
      for (;;) {
        t += (-Math.log(1 - rng.next()) / 10) * HOUR; // ten records an hour, 09–17
        if (t >= START + d * DAY + 17 * HOUR) break;
        out.push({ t: Math.floor(t), key: k, bytes: Math.round(level(k, d) * (0.5 + rng.next())) });
      }
    }
  }
  return out.sort((a, b) => a.t - b.t);
}

describe('learning a new level', () => {
  it('a tenfold volume is alerted, then learned within three working days; a one-hour burst is not learned', () => {
    const rng = new Rng(77);
    const cfg = anomalyConfigSchema.parse({ detectors: [{ name: 'download_bytes', key: ['user.id'], rate: '1h', weight: 'http.response.body.size' }] });
    const scorer = new Scorer(compileDetectors(cfg), cfg.cooldown);
    const CHANGE = 8;
    const events = traffic(rng, 40, 16, (k, d) => 20_000 * (1 + (k % 4)) * (k === 0 && d >= CHANGE ? 10 : 1));
    // User 1: a one-hour burst of 60 large downloads on day 9, 11:00.
    const burstAt = START + 9 * DAY + 11 * HOUR;
    for (let i = 0; i < 60; i++) events.push({ t: burstAt + i * 60_000, key: 1, bytes: 2_000_000 });
    events.sort((a, b) => a.t - b.t);
    const alertsByDay = new Map<string, number[]>();
    for (const e of events) {
      const raised: AlertEvent[] = [];
      scorer.score(record(e.t, { 'user.id': `u${e.key}`, 'http.response.body.size': e.bytes }), raised);
      for (const a of raised) alertsByDay.set(a.key, [...(alertsByDay.get(a.key) ?? []), Math.floor((a.timeMs - START) / DAY)]);
    }
    const changed = alertsByDay.get('u0') ?? [];
    expect(changed.filter((d) => d < CHANGE)).toEqual([]); // a week of its old level: silent
    expect(changed.filter((d) => d === CHANGE).length).toBeGreaterThan(0); // the change is alerted
    expect(changed.filter((d) => d >= CHANGE + 3)).toEqual([]); // and learned within three working days
    const burst = alertsByDay.get('u1') ?? [];
    expect(burst).toEqual([9]); // the burst alerted once, its ordinary days after it stay silent
    // Nobody else alerted.
    expect([...alertsByDay.keys()].filter((k) => k !== 'u0' && k !== 'u1')).toEqual([]);
  });
});
