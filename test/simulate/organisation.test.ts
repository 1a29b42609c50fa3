// The organisation generator (pure): deterministic by seed, and each knob does
// what it says (night share, joiners, holiday, new route, weekends, time zones,
// volume spread); the presets differ knob by knob.
import { describe, expect, it } from 'vitest';
import { planFromOptions } from '../../src/cli/simulate-plan.js';
import { knobProblems, type OrganisationKnobs, type OrgUser } from '../../src/simulate/organisation.js';
import { ORGANISATIONS, organisationNamed } from '../../src/simulate/organisations.js';
import { buildPlan, type SimulationPlan, VIRTUAL_START } from '../../src/simulate/plan.js';
import { SCENARIOS } from '../../src/simulate/scenarios.js';
import { DAY, HOUR, type SimEvent } from '../../src/simulate/traffic.js';

const BASE: OrganisationKnobs = {
  name: 'test-org',
  description: 'a test organisation',
  accounts: 120,
  requestsPerDay: 20,
  spread: 30,
  night: 0.02,
  weekendWorkers: 0.2,
  regions: [
    { region: 'europe', share: 0.5 },
    { region: 'americas', share: 0.3 },
    { region: 'asia', share: 0.2 },
  ],
  joiners: 0.2,
  holiday: 3,
  newRoute: { day: 9, route: { route: '/api/reports', method: 'GET', share: 0, latency: 0.3, bytes: 50_000 }, adoption: 0.5, share: 0.2 },
  days: 10,
};

function plan(k: OrganisationKnobs, seed = 1): SimulationPlan {
  return buildPlan({ seed, users: 0, organisation: k, days: k.days, scenarios: SCENARIOS, endAt: VIRTUAL_START + (k.days + 1) * DAY });
}

const background = (p: SimulationPlan) => p.events.filter((e) => e.scenario === undefined);
const usersById = (p: SimulationPlan) => new Map((p.users as OrgUser[]).map((u) => [u.id, u]));
/** Hours since the account's local midnight of day 0 (local day = floor(/24)). */
const localHours = (e: SimEvent, u: OrgUser, from: number) => (e.t - from) / HOUR + u.utcOffset;
const isNight = (h: number) => ((h % 24) + 24) % 24 >= 23 || ((h % 24) + 24) % 24 < 5;

describe('organisation: generator', () => {
  const p = plan(BASE);
  const users = usersById(p);
  const bg = background(p);

  it('is deterministic by seed and differs between seeds', () => {
    expect(JSON.stringify(plan(BASE, 4))).toBe(JSON.stringify(plan(BASE, 4)));
    expect(JSON.stringify(plan(BASE, 4).events.slice(0, 200))).not.toBe(JSON.stringify(plan(BASE, 5).events.slice(0, 200)));
  });

  it('has the accounts asked for, admins first in the home region, joiners last', () => {
    const list = p.users as OrgUser[];
    expect(list).toHaveLength(BASE.accounts);
    expect(list.slice(0, 5).every((u) => u.admin && ['GB', 'DE', 'FR'].includes(u.countries[0]))).toBe(true);
    const firstJoiner = list.findIndex((u) => u.joinDay > 0);
    expect(firstJoiner).toBeGreaterThan(5);
    expect(list.slice(firstJoiner).every((u) => u.joinDay > 0)).toBe(true);
    expect(list.length - firstJoiner).toBe(Math.round((BASE.accounts - 5) * BASE.joiners));
  });

  it('puts about `night` of the records in night sessions of several records, and none when night is 0', () => {
    const night = bg.filter((e) => isNight(localHours(e, users.get(String(e.attrs['user.id']))!, p.from)));
    const share = night.length / bg.length;
    expect(share).toBeGreaterThan(BASE.night * 0.6);
    expect(share).toBeLessThan(BASE.night * 1.6);
    // Sessions, not lone records: most night records have another of the same account within 10 minutes.
    const byUser = new Map<string, number[]>();
    for (const e of night) byUser.set(String(e.attrs['user.id']), [...(byUser.get(String(e.attrs['user.id'])) ?? []), e.t]);
    let withNeighbour = 0;
    for (const ts of byUser.values()) ts.forEach((t, i) => (withNeighbour += ts.some((x, j) => j !== i && Math.abs(x - t) <= 600_000) ? 1 : 0));
    expect(withNeighbour / night.length).toBeGreaterThan(0.5);
    const quiet = plan({ ...BASE, night: 0 });
    const quietUsers = usersById(quiet);
    expect(background(quiet).filter((e) => isNight(localHours(e, quietUsers.get(String(e.attrs['user.id']))!, quiet.from)))).toHaveLength(0);
  });

  it('keeps working hours in each account’s own time zone', () => {
    for (const e of bg) {
      const u = users.get(String(e.attrs['user.id']))!;
      const h = ((localHours(e, u, p.from) % 24) + 24) % 24;
      expect(isNight(h) || (h >= 6.99 && h < 20.5), `${u.id} at local ${h.toFixed(2)}`).toBe(true);
    }
    // The regions' working days are hours apart in UTC.
    const meanUtcHour = (pred: (u: OrgUser) => boolean) => {
      const hs = bg.filter((e) => pred(users.get(String(e.attrs['user.id']))!) && !isNight(localHours(e, users.get(String(e.attrs['user.id']))!, p.from))).map((e) => ((e.t - p.from) % DAY) / HOUR);
      return hs.reduce((a, b) => a + b, 0) / hs.length;
    };
    expect(meanUtcHour((u) => u.countries[0] === 'US') - meanUtcHour((u) => u.countries[0] === 'DE')).toBeGreaterThan(4);
    expect(meanUtcHour((u) => u.countries[0] === 'DE') - meanUtcHour((u) => u.countries[0] === 'JP')).toBeGreaterThan(6);
  });

  it('shows a joiner only from its join day', () => {
    const joiners = (p.users as OrgUser[]).filter((u) => u.joinDay > 0);
    expect(joiners.length).toBeGreaterThan(5);
    for (const u of joiners) {
      const mine = bg.filter((e) => e.attrs['user.id'] === u.id);
      const joinedAt = p.from + u.joinDay * DAY - u.utcOffset * HOUR;
      expect(mine.every((e) => e.t >= joinedAt), u.id).toBe(true);
      expect(mine.length, u.id).toBeGreaterThan(0);
    }
  });

  it('keeps the public holiday quiet but for a few on-call accounts', () => {
    const daytime = (d: number) => bg.filter((e) => {
      const u = users.get(String(e.attrs['user.id']))!;
      const h = localHours(e, u, p.from);
      return Math.floor(h / 24) === d && !isNight(h);
    }).length;
    const holiday = daytime(BASE.holiday!);
    expect(holiday).toBeLessThan(0.15 * daytime(BASE.holiday! - 1));
    expect(holiday).toBeGreaterThan(0);
  });

  it('adds the new route on its day, for adopters only', () => {
    const route = BASE.newRoute!.route.route;
    const on = bg.filter((e) => e.attrs['http.route'] === route);
    expect(on.length).toBeGreaterThan(50);
    for (const e of on) {
      const u = users.get(String(e.attrs['user.id']))!;
      expect(u.adopter).toBe(true);
      expect(Math.floor(localHours(e, u, p.from) / 24)).toBeGreaterThanOrEqual(BASE.newRoute!.day);
    }
    expect(plan({ ...BASE, newRoute: undefined }).events.some((e) => e.attrs['http.route'] === route)).toBe(false);
  });

  it('works weekends only for weekend workers (night sessions aside)', () => {
    const weekendDaytime = (q: SimulationPlan) => {
      const us = usersById(q);
      return background(q).filter((e) => {
        const u = us.get(String(e.attrs['user.id']))!;
        const h = localHours(e, u, q.from);
        return Math.floor(h / 24) % 7 >= 5 && !isNight(h);
      });
    };
    expect(weekendDaytime(plan({ ...BASE, weekendWorkers: 0 }))).toHaveLength(0);
    const some = weekendDaytime(p);
    expect(some.length).toBeGreaterThan(0);
    expect(some.every((e) => users.get(String(e.attrs['user.id']))!.weekends)).toBe(true);
  });

  it('spreads account volumes over the `spread` range, and not at all at 1×', () => {
    const w = (p.users as OrgUser[]).map((u) => u.weight);
    const ratio = Math.max(...w) / Math.min(...w);
    expect(ratio).toBeLessThanOrEqual(BASE.spread + 1e-9);
    expect(ratio).toBeGreaterThan(BASE.spread / 3);
    // Volumes follow the weights: the heaviest fifth of established accounts makes several times the lightest fifth's calls.
    const counts = new Map<string, number>();
    for (const e of bg) counts.set(String(e.attrs['user.id']), (counts.get(String(e.attrs['user.id'])) ?? 0) + 1);
    const est = (p.users as OrgUser[]).filter((u) => u.joinDay === 0 && !u.admin).sort((a, b) => a.weight - b.weight);
    const fifth = Math.floor(est.length / 5);
    const sum = (us: OrgUser[]) => us.reduce((a, u) => a + (counts.get(u.id) ?? 0), 0);
    expect(sum(est.slice(-fifth)) / sum(est.slice(0, fifth))).toBeGreaterThan(5);
    expect(new Set((plan({ ...BASE, spread: 1 }).users as OrgUser[]).map((u) => u.weight))).toEqual(new Set([1]));
  });

  it('rejects knobs out of range, naming the knob', () => {
    expect(knobProblems(BASE)).toEqual([]);
    expect(knobProblems({ ...BASE, accounts: 20 }).join()).toMatch(/accounts 20 is outside 50\.\.5000/);
    expect(knobProblems({ ...BASE, night: 0.1 }).join()).toMatch(/night/);
    expect(knobProblems({ ...BASE, holiday: 5 }).join()).toMatch(/holiday must be a weekday/);
    expect(knobProblems({ ...BASE, regions: [{ region: 'asia', share: 1 }] }).join()).toMatch(/home region/);
    expect(() => plan({ ...BASE, days: 3 })).toThrow(/days 3/);
  });
});

describe('organisation: presets', () => {
  it('has at least five valid organisations of 8 or more days, with knobs that differ one by one', () => {
    expect(ORGANISATIONS.length).toBeGreaterThanOrEqual(5);
    for (const o of ORGANISATIONS) {
      expect(knobProblems(o), o.name).toEqual([]);
      expect(o.days, o.name).toBeGreaterThanOrEqual(8);
    }
    for (const knob of ['accounts', 'spread', 'night', 'weekendWorkers', 'requestsPerDay'] as const) {
      expect(new Set(ORGANISATIONS.map((o) => o[knob])).size, knob).toBe(ORGANISATIONS.length);
    }
    const accounts = ORGANISATIONS.map((o) => o.accounts);
    expect(Math.min(...accounts)).toBe(50);
    expect(Math.max(...accounts)).toBe(5_000);
    expect(ORGANISATIONS.some((o) => o.regions.length === 3) && ORGANISATIONS.some((o) => o.regions.length === 2)).toBe(true);
    expect(ORGANISATIONS.some((o) => o.holiday !== undefined) && ORGANISATIONS.some((o) => o.newRoute !== undefined) && ORGANISATIONS.some((o) => o.joiners > 0)).toBe(true);
  });

  it('takes every attack scenario on its last day', () => {
    const o = organisationNamed('agency');
    const p = plan(o);
    expect(p.scenarios.map((s) => s.name)).toEqual(SCENARIOS.map((s) => s.name));
    for (const s of p.scenarios) expect(s.from).toBeGreaterThanOrEqual(p.from + o.days * DAY);
    expect(() => organisationNamed('nope')).toThrow(/use one of agency, retailer/);
  });

  it('makes the route attacks’ requests in the name of accounts at work on their own clock', () => {
    const p = plan(BASE);
    const users = usersById(p);
    const carried = p.events.filter((e) => ['5xx-spike', '429-storm', 'latency-regression'].includes(e.scenario ?? ''));
    expect(carried.length).toBe(540);
    const regions = new Set<string>();
    for (const e of carried) {
      const u = users.get(String(e.attrs['user.id']))!;
      const local = (((e.t - p.from) / HOUR + u.utcOffset) % 24 + 24) % 24;
      expect(local >= u.startHour && local < u.startHour + 9.5, `${u.id} at local ${local.toFixed(2)}`).toBe(true);
      regions.add(u.countries[0]);
    }
    expect(regions.has('JP')).toBe(false); // 10:00–14:15 UTC is night in Japan
  });

  it('is what `vigil simulate --org` sends, with --users and --duration as overrides', () => {
    const o = organisationNamed('bank');
    const p = planFromOptions({ scenario: 'all', seed: '2', org: 'bank', at: '2026-06-01T00:00:00Z' });
    expect(p.users).toHaveLength(o.accounts);
    expect(Math.floor((p.to - p.from) / DAY)).toBe(o.days);
    const q = planFromOptions({ scenario: 'brute-force', seed: '2', org: 'bank', users: '80', duration: '12d', at: '2026-06-01T00:00:00Z' });
    expect(q.users).toHaveLength(80);
    expect(Math.floor((q.to - q.from) / DAY)).toBe(12);
    expect(q.events.some((e) => e.attrs['http.route'] === o.newRoute!.route.route)).toBe(true);
  });
});
