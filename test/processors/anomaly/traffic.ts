// Deterministic synthetic access-log traffic with the attributes the audit
// processor sets: many users with a daily (working-hours) rhythm, their own
// countries and office networks, several routes with their own latency and
// response-size distributions and rare errors. Anomalies are injected by the
// tests on top of it.
import type { LogBatch, VigilRecord } from '../../../src/pipeline/record.js';
import { makeRecord } from '../../helpers/records.js';
import { Rng } from '../../../src/simulate/rng.js';

export { Rng };

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
/** Monday 2026-03-02 00:00 UTC: the traffic starts here. */
export const START = Date.UTC(2026, 2, 2);

const COUNTRIES = ['US', 'DE', 'FR', 'GB', 'JP', 'BR', 'IN'];

export interface User {
  id: string;
  countries: string[];
  ips: string[];
  startHour: number;
  weekends: boolean;
  admin: boolean;
}

export interface Event {
  t: number;
  attrs: Record<string, string | number>;
}

const ROUTES = [
  { route: '/api/items', share: 0.6, latency: 0.05, bytes: 2_000 },
  { route: '/api/orders', share: 0.2, latency: 0.12, bytes: 8_000 },
  { route: '/api/search', share: 0.2, latency: 0.08, bytes: 20_000 },
] as const;

export function makeUsers(n: number, rng: Rng): User[] {
  return Array.from({ length: n }, (_, i) => {
    const c = rng.int(COUNTRIES.length);
    const traveller = rng.next() < 0.1;
    const c2 = (c + 1 + rng.int(COUNTRIES.length - 1)) % COUNTRIES.length;
    const ip = (ci: number) => `100.64.${ci}.${1 + (i % 250)}`;
    return {
      id: `u${i}`,
      countries: traveller ? [COUNTRIES[c], COUNTRIES[c2]] : [COUNTRIES[c]],
      ips: traveller ? [ip(c), ip(c2)] : [ip(c)],
      startHour: 6 + rng.int(5),
      weekends: rng.next() < 0.2,
      admin: i < 5,
    };
  });
}

/** Requests of one user in one working session (a login, then API calls, admins also open /admin). */
export function userRequest(u: User, t: number, rng: Rng, route?: string): Event {
  const ci = rng.int(u.countries.length);
  const r = route ? ROUTES.find((x) => x.route === route) ?? ROUTES[0] : pickRoute(rng);
  let status = 200;
  const roll = rng.next();
  if (roll < 0.002) status = 500;
  else if (r.route === '/api/search' && roll < 0.004) status = 429;
  return {
    t,
    attrs: {
      'user.id': u.id,
      'client.address': u.ips[ci],
      'geo.country.iso_code': u.countries[ci],
      'http.route': r.route,
      'http.request.method': 'GET',
      'http.response.status_code': status,
      'audit.action': 'read',
      'audit.outcome': status < 400 ? 'success' : 'failure',
      'http.server.request.duration': rng.logNormal(r.latency, 0.35),
      'http.response.body.size': Math.round(rng.logNormal(r.bytes, 0.5)),
    },
  };
}

function pickRoute(rng: Rng) {
  let x = rng.next();
  for (const r of ROUTES) {
    if (x < r.share) return r;
    x -= r.share;
  }
  return ROUTES[0];
}

export function login(u: User, t: number, rng: Rng, outcome: 'success' | 'failure', ip?: string, country?: string): Event {
  const ci = rng.int(u.countries.length);
  return {
    t,
    attrs: {
      'user.id': u.id,
      'client.address': ip ?? u.ips[ci],
      'geo.country.iso_code': country ?? u.countries[ci],
      'http.route': '/login',
      'http.request.method': 'POST',
      'http.response.status_code': outcome === 'success' ? 200 : 401,
      'audit.action': 'login',
      'audit.outcome': outcome,
      'http.server.request.duration': rng.logNormal(0.2, 0.3),
      'http.response.body.size': Math.round(rng.logNormal(500, 0.2)),
    },
  };
}

export function adminRequest(u: User, t: number, rng: Rng, ip?: string): Event {
  return {
    t,
    attrs: {
      'user.id': u.id,
      'client.address': ip ?? u.ips[0],
      'geo.country.iso_code': u.countries[0],
      'http.route': '/admin/settings',
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'audit.action': 'read',
      'audit.outcome': 'success',
      'http.server.request.duration': rng.logNormal(0.06, 0.3),
      'http.response.body.size': Math.round(rng.logNormal(3_000, 0.4)),
    },
  };
}

/** Normal traffic for `days` days from START, time-ordered. */
export function normalTraffic(users: User[], days: number, rng: Rng): Event[] {
  const out: Event[] = [];
  for (let d = 0; d < days; d++) {
    const dayStart = START + d * DAY;
    const weekend = d % 7 >= 5;
    for (const u of users) {
      if (weekend && !u.weekends) continue;
      const begin = dayStart + (u.startHour + rng.next()) * HOUR;
      const length = (7 + 2 * rng.next()) * HOUR;
      // Occasional typo: one failed login before the successful one.
      if (rng.next() < 0.05) out.push(login(u, begin - 20_000, rng, 'failure'));
      out.push(login(u, begin, rng, 'success'));
      const requests = 30 + rng.int(30);
      for (let i = 0; i < requests; i++) out.push(userRequest(u, begin + rng.next() * length, rng));
      if (u.admin) for (let i = 0; i < 5; i++) out.push(adminRequest(u, begin + rng.next() * length, rng));
    }
  }
  return out.sort((a, b) => a.t - b.t);
}

export function toRecord(e: Event, id: string): VigilRecord {
  return makeRecord({ timeMs: e.t, attrs: { ...e.attrs, 'audit.record_id': id } });
}

/** Records in batches of up to `size`, keeping time order. */
export function batches(events: Event[], prefix: string, size = 500): LogBatch[] {
  const out: LogBatch[] = [];
  for (let i = 0; i < events.length; i += size) out.push(events.slice(i, i + size).map((e, j) => toRecord(e, `${prefix}-${i + j}`)));
  return out;
}
