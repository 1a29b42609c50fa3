// Background traffic (pure): each user's working days — a login (now and then
// after a typo), API calls spread over the day, admins also on /admin — as
// access-log events with event times on a site clock. Anomalies are added on
// top by scenarios.ts.
import { type Route, type User, pickRoute, routeNamed } from './population.js';
import type { Rng } from './rng.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** One access-log event: its time (ms, site clock) and semconv attributes. */
export interface SimEvent {
  t: number;
  attrs: Record<string, string | number>;
  /** The scenario that injected it (undefined: background). */
  scenario?: string;
}

export interface RequestOptions {
  route?: string;
  /** The routes to draw from when no `route` is given (default: ROUTES). */
  routes?: readonly Route[];
  ip?: string;
  status?: number;
  latencyFactor?: number;
  bytes?: number;
}

function event(u: User | undefined, t: number, r: Pick<Route, 'route' | 'method'>, ip: string, status: number, latency: number, bytes: number, agent: string): SimEvent {
  const attrs: Record<string, string | number> = {
    'client.address': ip,
    'http.request.method': r.method,
    'http.route': r.route,
    'url.path': r.route,
    'http.response.status_code': status,
    'http.server.request.duration': Math.round(latency * 1e6) / 1e6,
    'http.response.body.size': Math.round(bytes),
    'user_agent.original': agent,
  };
  if (u) attrs['user.id'] = u.id;
  return { t, attrs };
}

/** An API call by a user (rare 500s, a few 429s on search). */
export function userRequest(u: User, t: number, rng: Rng, o: RequestOptions = {}): SimEvent {
  const ci = rng.int(u.countries.length);
  const r = o.route ? routeNamed(o.route) : pickRoute(rng, o.routes);
  let status = o.status ?? 200;
  if (o.status === undefined) {
    const roll = rng.next();
    if (roll < 0.002) status = 500;
    else if (r.route === '/api/search' && roll < 0.004) status = 429;
  }
  const latency = rng.logNormal(r.latency, 0.35) * (o.latencyFactor ?? 1);
  return event(u, t, r, o.ip ?? u.ips[ci], status, latency, o.bytes ?? rng.logNormal(r.bytes, 0.5), u.agent);
}

export function login(u: User, t: number, rng: Rng, outcome: 'success' | 'failure', ip?: string, agent?: string): SimEvent {
  const ci = rng.int(u.countries.length);
  return event(u, t, { route: '/login', method: 'POST' }, ip ?? u.ips[ci], outcome === 'success' ? 200 : 401, rng.logNormal(0.2, 0.3), rng.logNormal(500, 0.2), agent ?? u.agent);
}

export function adminRequest(u: User, t: number, rng: Rng, o: { route?: string; ip?: string; bytes?: number } = {}): SimEvent {
  return event(u, t, { route: o.route ?? '/admin/settings', method: 'GET' }, o.ip ?? u.ips[0], 200, rng.logNormal(0.06, 0.3), o.bytes ?? rng.logNormal(3_000, 0.4), u.agent);
}

/**
 * Ordinary traffic from `from` (a site-clock midnight; day 0 is a Monday) for
 * whole days, then until `until` on the last day, time-ordered.
 */
export function backgroundTraffic(users: readonly User[], from: number, until: number, rng: Rng): SimEvent[] {
  const out: SimEvent[] = [];
  for (let d = 0; from + d * DAY < until; d++) {
    const dayStart = from + d * DAY;
    const weekend = d % 7 >= 5;
    for (const u of users) {
      if (weekend && !u.weekends) continue;
      const begin = dayStart + (u.startHour + rng.next()) * HOUR;
      const length = (7 + 2 * rng.next()) * HOUR;
      const day: SimEvent[] = [];
      // Now and then a typo: one failed login before the successful one.
      if (rng.next() < 0.05) day.push(login(u, begin - 20_000, rng, 'failure'));
      day.push(login(u, begin, rng, 'success'));
      const requests = 30 + rng.int(30);
      for (let i = 0; i < requests; i++) day.push(userRequest(u, begin + rng.next() * length, rng));
      if (u.admin) for (let i = 0; i < 5; i++) day.push(adminRequest(u, begin + rng.next() * length, rng));
      for (const e of day) if (e.t < until) out.push(e);
    }
  }
  return out.sort((a, b) => a.t - b.t);
}

/** `n` events spread evenly over `over` ms from `from`. */
export function spread(n: number, from: number, over: number, make: (t: number, i: number) => SimEvent): SimEvent[] {
  return Array.from({ length: n }, (_, i) => make(from + Math.floor((i * over) / n), i));
}
