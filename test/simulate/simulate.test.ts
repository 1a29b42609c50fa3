// The traffic generator and the judge, pure: the same seed gives the same
// traffic, every scenario lands where it says, the addresses map to the
// countries they claim in the packaged geo database, and the check tells
// flagged from missed.
import { describe, expect, it } from 'vitest';
import { GeoLookup, packagedDatabasePath } from '../../src/processors/audit/geo.js';
import { judge, parseAnomalyCounts, formatResults } from '../../src/simulate/check.js';
import { buildPlan } from '../../src/simulate/plan.js';
import { COUNTRY_PREFIXES } from '../../src/simulate/population.js';
import { SCENARIOS, selectScenarios } from '../../src/simulate/scenarios.js';
import { clfLine } from '../../src/simulate/send.js';

const END = Date.UTC(2026, 2, 20, 18);

describe('simulate: plan', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = buildPlan({ seed: 7, users: 40, days: 4, scenarios: SCENARIOS, endAt: END });
    const b = buildPlan({ seed: 7, users: 40, days: 4, scenarios: SCENARIOS, endAt: END });
    const c = buildPlan({ seed: 8, users: 40, days: 4, scenarios: SCENARIOS, endAt: END });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a.events.slice(0, 50))).not.toBe(JSON.stringify(c.events.slice(0, 50)));
  });

  it('orders events in time, ends by endAt on whole days, and places each scenario in its window', () => {
    const plan = buildPlan({ seed: 1, users: 60, days: 4, scenarios: SCENARIOS, endAt: END });
    for (let i = 1; i < plan.events.length; i++) expect(plan.events[i].t).toBeGreaterThanOrEqual(plan.events[i - 1].t);
    expect(plan.to).toBeLessThanOrEqual(END);
    expect(plan.from % 86_400_000).toBe(0); // site clock = UTC
    expect(plan.scenarios.map((s) => s.name)).toEqual(SCENARIOS.map((s) => s.name));
    for (const s of plan.scenarios) {
      const mine = plan.events.filter((e) => e.scenario === s.name);
      expect(mine.length, s.name).toBe(s.records);
      for (const e of mine) expect(e.t >= s.from && e.t <= s.to, s.name).toBe(true);
    }
    // Scenarios about one account use different accounts, so one does not mask another.
    const accounts = plan.scenarios.filter((s) => ['brute-force', 'new-country', 'exfiltration', 'off-hours-export'].includes(s.name)).map((s) => s.key);
    expect(new Set(accounts).size).toBe(accounts.length);
  });

  it('names the known scenarios when given an unknown one', () => {
    expect(selectScenarios('brute-force, new-country').map((s) => s.name)).toEqual(['brute-force', 'new-country']);
    expect(() => selectScenarios('brute-force,nope')).toThrow(/unknown scenario "nope": use all or one or more of 5xx-spike, /);
  });

  it('writes a Combined Log Format body the audit processor can read', () => {
    const e = buildPlan({ seed: 1, users: 20, days: 1, scenarios: [], endAt: END }).events[0];
    expect(clfLine(e)).toMatch(/^\d+\.\d+\.\d+\.\d+ - \S+ \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "(GET|POST) \/\S+ HTTP\/1\.1" \d{3} \d+ "-" ".+" \d+\.\d{3}$/);
  });
});

describe('simulate: population addresses', () => {
  it('maps every prefix to its country in the packaged geo database', () => {
    const geo = new GeoLookup(packagedDatabasePath(), 100);
    for (const [country, prefixes] of Object.entries(COUNTRY_PREFIXES)) {
      for (const p of prefixes) expect(geo.country(`${p}.77`), `${p}.77`).toBe(country);
    }
  });
});

describe('simulate: check', () => {
  const plan = buildPlan({ seed: 1, users: 40, days: 4, scenarios: selectScenarios('brute-force,rate-burst'), endAt: END });
  const [brute, burst] = plan.scenarios;
  const flag = (detector: string, key: string, at: number, count = 1) => ({ detector, key, reason: `${detector} [${key}]: x`, maxScore: 0.99, count, firstAt: new Date(at).toISOString(), lastAt: new Date(at).toISOString() });

  it('passes a scenario flagged by its detector and key in its window, and names the miss otherwise', () => {
    const results = judge(plan.scenarios, { flagged: [flag('login_failures', brute.key, brute.from + 1000), flag('new_country', burst.key, burst.from)] });
    expect(results.map((r) => r.verdict)).toEqual(['flagged', 'missed']);
    expect(results[1].evidence).toContain('not flagged by client_rate (flagged by new_country)');
    const table = formatResults(results);
    expect(table).toMatch(/pass\s+brute-force\s+login_failures/);
    expect(table).toMatch(/FAIL\s+rate-burst\s+client_rate/);
    expect(table).toContain('1 of 2 injected anomalies were missed: rate-burst (client_rate)');
  });

  it('does not count a flag from an earlier run (same times, count unchanged)', () => {
    const f = flag('login_failures', brute.key, brute.from + 1000, 3);
    expect(judge([brute], { flagged: [f], flaggedBefore: [f] })[0].verdict).toBe('missed');
    expect(judge([brute], { flagged: [{ ...f, count: 5 }], flaggedBefore: [f] })[0].verdict).toBe('flagged');
  });

  it('falls back to vigil_anomalies_total deltas per detector', () => {
    const text = '# HELP x\nvigil_anomalies_total{detector="login_failures"} 2\nvigil_anomalies_total{detector="client_rate"} 1\n';
    const after = parseAnomalyCounts(text);
    expect(after.get('login_failures')).toBe(2);
    const results = judge(plan.scenarios, { alertsBefore: new Map([['client_rate', 1]]), alertsAfter: after });
    expect(results.map((r) => r.verdict)).toEqual(['alerted', 'missed']);
  });
});
