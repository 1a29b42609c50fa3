// The false-alert budget, per detector kind (rate, weighted rate, ratio,
// distinct): on synthetic stationary streams — Poisson or over-dispersed,
// flat or seasonal, light and heavy keys — the alert episodes opened after
// learning stay within alert_budget. Budget 10 per 1,000 key-days here, so
// that a few hundred key-days give the test power.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ceiling, expectWithinBudget, runStationary, stationaryShapes } from './budget-check.js';
import type { StreamShape } from './stationary.js';

const BUDGET = 10;

describe('false-alert budget on stationary streams', () => {
  it('can fail: a detector alerting at p ≤ 0.01 per record (threshold override) breaks the budget on these streams', () => {
    const s: StreamShape = { keys: 20, days: 8, perDay: 1500, spread: 20, dayShape: 1.5, seasonal: true, night: 0.01, seed: 7 };
    const run = runStationary({ name: 'client_rate', key: ['client.address'], rate: 60_000, threshold: 0.54 }, s, (e) => ({ 'client.address': `10.0.0.${e.key}` }), BUDGET);
    expect(run.alerts.length).toBeGreaterThan(ceiling(run.allowed));
  });

  it('rate (records per minute per client)', () => {
    fc.assert(
      fc.property(stationaryShapes(20, 8, 1500), (s) => {
        expectWithinBudget(runStationary({ name: 'client_rate', key: ['client.address'], rate: 60_000 }, s, (e) => ({ 'client.address': `10.0.0.${e.key}` }), BUDGET), s);
      }),
      { numRuns: 3, seed: 11 },
    );
  });

  it('weighted rate (bytes per hour per user, sizes varying per record)', () => {
    fc.assert(
      fc.property(stationaryShapes(60, 10, 60), (s) => {
        const base = (k: number) => 5_000 * (1 + (k % 7));
        expectWithinBudget(
          runStationary(
            { name: 'download_bytes', key: ['user.id'], rate: 3_600_000, weight: 'http.response.body.size' },
            s,
            (e) => ({ 'user.id': `u${e.key}`, 'http.response.body.size': Math.round(base(e.key) * Math.exp(1.2 * (e.u - 0.5))) }),
            BUDGET,
          ),
          s,
        );
      }),
      { numRuns: 3, seed: 12 },
    );
  });

  it('ratio (share of 5xx per route)', () => {
    fc.assert(
      fc.property(stationaryShapes(20, 10, 200), (s) => {
        const share = (k: number) => 0.005 + 0.005 * (k % 5);
        expectWithinBudget(
          runStationary({ name: 'route_5xx', key: ['http.route'], ratio: 'http.response.status_code >= 500' }, s, (e) => ({ 'http.route': `/r${e.key}`, 'http.response.status_code': e.u < share(e.key) ? 503 : 200 }), BUDGET),
          s,
        );
      }),
      { numRuns: 3, seed: 13 },
    );
  });

  it('distinct (accounts per address)', () => {
    fc.assert(
      fc.property(stationaryShapes(40, 10, 40), (s) => {
        const pool = (k: number) => 2 + (k % 6);
        expectWithinBudget(
          runStationary({ name: 'accounts', key: ['client.address'], distinct: 'user.id', window: 600_000 }, s, (e) => ({ 'client.address': `10.1.0.${e.key}`, 'user.id': `a${e.key}-${Math.floor(e.u * pool(e.key))}` }), BUDGET),
          s,
        );
      }),
      { numRuns: 3, seed: 14 },
    );
  });
});
