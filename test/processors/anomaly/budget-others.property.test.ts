// The false-alert budget for the other detector kinds (value with buckets,
// hour_of_week sessions, novelty) on synthetic stationary streams; see
// budget-rates.property.test.ts for the rate kinds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectWithinBudget, runStationary, stationaryShapes } from './budget-check.js';

const BUDGET = 10;

/** A standard normal quantile good enough for test signals (Acklam's rational approximation, central part). */
function z(u: number): number {
  const p = Math.min(Math.max(u, 1e-9), 1 - 1e-9);
  const t = Math.sqrt(-2 * Math.log(p < 0.5 ? p : 1 - p));
  const v = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
  return p < 0.5 ? -v : v;
}

describe('false-alert budget on stationary streams', () => {
  it('value (5-minute mean latency per route, log-normal, heavy and light routes)', () => {
    fc.assert(
      fc.property(stationaryShapes(4, 10, 3000, false), (s) => {
        expectWithinBudget(
          runStationary(
            { name: 'route_latency', key: ['http.route'], value: 'http.server.request.duration', scale: 'log', direction: 'up', aggregate: 300_000 },
            s,
            (e) => ({ 'http.route': `/r${e.key}`, 'http.server.request.duration': 0.05 * (1 + e.key) * Math.exp(0.4 * z(e.u)) }),
            BUDGET,
          ),
          s,
        );
      }),
      { numRuns: 2, seed: 21 },
    );
  });

  it('hour_of_week (sessions at quiet hours, 0–3 % of the activity at night)', () => {
    fc.assert(
      fc.property(stationaryShapes(150, 12, 40, true), (s) => {
        expectWithinBudget(runStationary({ name: 'off_hours', key: ['user.id'], hour_of_week: true }, s, (e) => ({ 'user.id': `u${e.key}` }), BUDGET), s);
      }),
      { numRuns: 3, seed: 22 },
    );
  });

  it('hour_of_week on keys whose days are shifted (each its own working hours, 0–3 % at night)', () => {
    fc.assert(
      fc.property(stationaryShapes(150, 12, 40, true), (s) => {
        const shape = { ...s, shifted: true };
        expectWithinBudget(runStationary({ name: 'off_hours', key: ['user.id'], hour_of_week: true }, shape, (e) => ({ 'user.id': `u${e.key}` }), BUDGET), shape);
      }),
      { numRuns: 3, seed: 23 },
    );
  });

  it('novelty (countries per user from a fixed set, with rare ones)', () => {
    const countries = ['DE', 'FR', 'US', 'JP'];
    fc.assert(
      fc.property(stationaryShapes(100, 10, 40), (s) => {
        // Each user: a home country, a second one for 20 % of users (5 % of their records), a rare third for 10 % (0.2 %).
        const pick = (k: number, u: number) => (k % 5 === 0 && u < 0.05 ? countries[(k + 1) % 4] : k % 10 === 3 && u > 0.998 ? countries[(k + 2) % 4] : countries[k % 4]);
        expectWithinBudget(runStationary({ name: 'new_country', key: ['user.id'], novelty: 'geo.country.iso_code' }, s, (e) => ({ 'user.id': `u${e.key}`, 'geo.country.iso_code': pick(e.key, e.u) }), BUDGET), s);
      }),
      { numRuns: 3, seed: 23 },
    );
  });
});
