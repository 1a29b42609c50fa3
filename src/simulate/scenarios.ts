// The injected anomalies (pure): each names the default detector that must
// flag it and the key it must be flagged under, and builds its events on the
// anomaly day (site clock). They are staggered through the working day so that
// each one is judged against ordinary traffic, not against another anomaly.
import { addressIn, COUNTRY_PREFIXES, HOME_COUNTRIES, type User } from './population.js';

const net24 = (ip: string) => ip.slice(0, ip.lastIndexOf('.'));
import type { Rng } from './rng.js';
import { adminRequest, DAY, HOUR, login, MINUTE, type SimEvent, spread, userRequest } from './traffic.js';

export interface ScenarioContext {
  users: readonly User[];
  rng: Rng;
  /** When the scenario's first event happens: the anomaly day's midnight plus its `at`. */
  start: number;
  /** Its `lasts`. */
  lasts: number;
}

export interface Scenario {
  name: string;
  title: string;
  /** The detector of the default config that must flag it. */
  detector: string;
  /** Offset of its first event from the anomaly day's midnight. */
  at: number;
  /** How long its events last. */
  lasts: number;
  /** Its events and the key the detector sees. */
  build(ctx: ScenarioContext): { key: string; events: SimEvent[] };
}

function someone(users: readonly User[], pred: (u: User) => boolean, what: string): User {
  const u = users.find(pred);
  if (!u) throw new Error(`the simulated population has no ${what}: use more --users`);
  return u;
}

const steady = (u: User) => !u.admin && !u.weekends && u.countries.length === 1;

/** The n-th steady user (scenarios about one account each take their own, so they do not mask each other). */
function steadyUser(users: readonly User[], n: number, extra: (u: User) => boolean = () => true): User {
  const matching = users.filter((u) => steady(u) && extra(u));
  if (matching.length <= n) throw new Error('the simulated population is too small for every scenario: use more --users');
  return matching[n];
}

/**
 * The accounts at work at `t` (site clock) on their own clock: those an outage
 * or a slowdown at that time hits. All of them for a population on one clock
 * (working days start by 10:00 and last past 14:15); the whole list if none is.
 */
function atWork(users: readonly User[], t: number): readonly User[] {
  const hour = (t % DAY) / HOUR;
  const working = users.filter((u) => {
    const local = (hour + (u.utcOffset ?? 0) + 24) % 24;
    return local >= u.startHour && local < u.startHour + 9;
  });
  return working.length > 0 ? working : users;
}

/** A leaked credential list: mostly accounts that do not exist here, a few that do. */
function stuffingTarget(users: readonly User[], i: number): User {
  if (i % 10 === 0) return users[(i * 7) % users.length];
  return { id: `${['jsmith', 'admin', 'test', 'info', 'mary', 'backup', 'sales', 'root'][i % 8]}${i}`, countries: ['RU'], ips: [], startHour: 0, weekends: false, admin: false, agent: '' };
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: '5xx-spike',
    title: 'HTTP 5xx spike on a route',
    detector: 'route_5xx',
    at: 10 * HOUR,
    lasts: 10 * MINUTE,
    build: ({ users, rng, start, lasts }) => {
      const online = atWork(users, start);
      return { key: '/api/orders', events: spread(120, start, lasts, (t, i) => userRequest(online[i % online.length], t, rng, { route: '/api/orders', status: i % 5 < 3 ? 503 : 200 })) };
    },
  },
  {
    name: '429-storm',
    title: 'HTTP 429 storm on a route',
    detector: 'route_429',
    at: 10 * HOUR + 25 * MINUTE,
    lasts: 10 * MINUTE,
    build: ({ users, rng, start, lasts }) => {
      const online = atWork(users, start);
      return { key: '/api/search', events: spread(120, start, lasts, (t, i) => userRequest(online[i % online.length], t, rng, { route: '/api/search', status: i % 10 < 7 ? 429 : 200 })) };
    },
  },
  {
    name: 'credential-stuffing',
    title: 'credential stuffing / password spraying from one address',
    detector: 'credential_stuffing',
    at: 10 * HOUR + 50 * MINUTE,
    lasts: 5 * MINUTE,
    build: ({ users, rng, start, lasts }) => {
      const ip = addressIn('RU', 200);
      return { key: ip, events: spread(40, start, lasts, (t, i) => login(stuffingTarget(users, i), t, rng, 'failure', ip, 'python-requests/2.32')) };
    },
  },
  {
    name: 'brute-force',
    title: 'brute force on one account',
    detector: 'login_failures',
    at: 11 * HOUR + 15 * MINUTE,
    lasts: 2 * MINUTE,
    build: ({ users, rng, start, lasts }) => {
      const victim = steadyUser(users, 0);
      const ip = addressIn('NL', 201);
      return { key: victim.id, events: spread(40, start, lasts, (t) => login(victim, t, rng, 'failure', ip, 'hydra')) };
    },
  },
  {
    name: 'off-hours-export',
    title: 'off-hours admin export (large downloads at 03:00)',
    detector: 'off_hours',
    at: 3 * HOUR,
    lasts: 30 * MINUTE,
    build: ({ users, rng, start, lasts }) => {
      const admin = someone(users, (u) => u.admin && !u.weekends && u.countries.length === 1, 'admin working weekdays only');
      return { key: admin.id, events: spread(5, start, lasts, (t) => adminRequest(admin, t, rng, { route: '/admin/export', bytes: 40e6 + rng.int(20e6) })) };
    },
  },
  {
    name: 'new-country',
    title: 'an account used from a new country',
    detector: 'new_country',
    at: 12 * HOUR + 5 * MINUTE,
    lasts: 10 * MINUTE,
    build: ({ users, rng, start }) => {
      const u = steadyUser(users, 1, (x) => x.countries[0] !== 'SG');
      const ip = addressIn('SG', 204);
      const t0 = start;
      return { key: u.id, events: [login(u, t0, rng, 'success', ip), ...spread(3, t0 + MINUTE, 9 * MINUTE, (t) => userRequest(u, t, rng, { ip }))] };
    },
  },
  {
    name: 'rate-burst',
    title: 'request-rate burst from one address',
    detector: 'client_rate',
    at: 12 * HOUR + 30 * MINUTE,
    lasts: MINUTE,
    build: ({ users, rng, start, lasts }) => {
      const ip = addressIn('NL', 202);
      return {
        key: ip,
        events: spread(600, start, lasts, (t) => {
          const e = userRequest(users[0], t, rng, { route: '/api/items', ip });
          delete e.attrs['user.id']; // a scraper: no account
          e.attrs['user_agent.original'] = 'curl/8.8.0';
          return e;
        }),
      };
    },
  },
  {
    name: 'latency-regression',
    title: 'latency regression on a route',
    detector: 'route_latency',
    at: 13 * HOUR,
    lasts: 15 * MINUTE,
    build: ({ users, rng, start, lasts }) => {
      const online = atWork(users, start);
      return { key: '/api/items', events: spread(300, start, lasts, (t, i) => userRequest(online[(i * 11) % online.length], t, rng, { route: '/api/items', latencyFactor: 10 })) };
    },
  },
  {
    name: 'exfiltration',
    title: 'bulk download far above the account norm',
    detector: 'download_bytes',
    at: 13 * HOUR + 30 * MINUTE,
    lasts: 10 * MINUTE,
    build: ({ users, rng, start, lasts }) => {
      const u = steadyUser(users, 2);
      return { key: u.id, events: spread(40, start, lasts, (t) => userRequest(u, t, rng, { route: '/api/items', bytes: 5_000_000 })) };
    },
  },
  {
    name: 'admin-new-network',
    title: 'admin route reached from an unusual network',
    detector: 'sensitive_route_network',
    at: 14 * HOUR,
    lasts: 10 * MINUTE,
    build: ({ users, rng, start, lasts }) => {
      const admin = users.find((u) => u.admin) ?? users[0];
      // A network no admin uses, in the admin's own country if it has one: new to the route, not a new country.
      const known = new Set(users.filter((u) => u.admin).flatMap((u) => u.ips.map(net24)));
      const prefix = [admin.countries[0], ...HOME_COUNTRIES].flatMap((c) => COUNTRY_PREFIXES[c]).find((p) => !known.has(p)) ?? '45.7.10';
      const ip = `${prefix}.77`;
      return { key: '/admin/settings', events: spread(3, start, lasts, (t) => adminRequest(admin, t, rng, { ip })) };
    },
  },
];

export const SCENARIO_NAMES = SCENARIOS.map((s) => s.name);

/** `all`, or a comma-separated list of names; unknown names are an error that lists the known ones. */
export function selectScenarios(spec: string): Scenario[] {
  if (spec.trim() === 'all') return [...SCENARIOS];
  const names = spec.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = names.filter((n) => !SCENARIO_NAMES.includes(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(`unknown scenario ${unknown.map((n) => `"${n}"`).join(', ') || '(none given)'}: use all or one or more of ${SCENARIO_NAMES.join(', ')}`);
  }
  return SCENARIOS.filter((s) => names.includes(s.name));
}
