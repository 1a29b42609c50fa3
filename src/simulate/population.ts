// Who the simulated users are: accounts with a working-hours rhythm, a home
// country and office network (public addresses the packaged geo database maps
// to that country, so the audit processor derives geo.country.iso_code itself),
// a few travellers and admins; and the routes they call.
import type { Rng } from './rng.js';

/** /24 prefixes the packaged @ip-location-db database maps to each country (checked by test/simulate/population.test.ts). */
export const COUNTRY_PREFIXES: Readonly<Record<string, readonly string[]>> = {
  US: ['3.14.10', '3.21.10', '3.42.10', '3.84.10'],
  DE: ['2.161.10', '2.168.10', '2.175.10', '3.70.10'],
  FR: ['2.7.10', '5.49.10', '37.70.10', '46.35.10'],
  GB: ['2.98.10', '5.70.10', '13.42.10', '18.133.10'],
  JP: ['3.112.10', '13.112.10', '14.0.10', '18.182.10'],
  BR: ['18.231.10', '45.7.10', '45.168.10', '54.21.10'],
  IN: ['3.7.10', '13.126.10', '14.98.10', '27.56.10'],
  NL: ['4.175.10', '20.56.10', '31.21.10', '34.91.10'],
  RU: ['2.63.10', '5.35.10', '31.28.10', '46.0.10'],
  SG: ['8.133.10', '8.140.10', '18.140.10', '37.0.10'],
};

/** Where the population lives; the other countries of COUNTRY_PREFIXES are where attacks come from. */
export const HOME_COUNTRIES = ['US', 'DE', 'FR', 'GB', 'JP', 'BR', 'IN'] as const;

export interface User {
  id: string;
  countries: string[];
  ips: string[];
  /** Hour (site time) the working day starts. */
  startHour: number;
  weekends: boolean;
  admin: boolean;
  agent: string;
  /** Hours ahead of UTC of the account's clock (absent: the site clock, UTC). */
  utcOffset?: number;
}

export interface Route {
  route: string;
  method: string;
  share: number;
  /** Median latency (s) and body size (bytes). */
  latency: number;
  bytes: number;
}

export const ROUTES: readonly Route[] = [
  { route: '/api/items', method: 'GET', share: 0.6, latency: 0.05, bytes: 2_000 },
  { route: '/api/orders', method: 'GET', share: 0.2, latency: 0.12, bytes: 8_000 },
  { route: '/api/search', method: 'GET', share: 0.2, latency: 0.08, bytes: 20_000 },
];

export const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
];

/** An address in a country: a host in one of its prefixes. */
export function addressIn(country: string, n: number): string {
  const prefixes = COUNTRY_PREFIXES[country];
  if (!prefixes) throw new Error(`no address range for country ${country}`);
  return `${prefixes[n % prefixes.length]}.${1 + (Math.floor(n / prefixes.length) % 250)}`;
}

export function makeUsers(n: number, rng: Rng): User[] {
  return Array.from({ length: n }, (_, i) => {
    const c = rng.int(HOME_COUNTRIES.length);
    const traveller = rng.next() < 0.1;
    const c2 = (c + 1 + rng.int(HOME_COUNTRIES.length - 1)) % HOME_COUNTRIES.length;
    const countries = traveller ? [HOME_COUNTRIES[c], HOME_COUNTRIES[c2]] : [HOME_COUNTRIES[c]];
    return {
      id: i < 5 ? `admin${i + 1}` : `user${String(i).padStart(3, '0')}`,
      countries,
      ips: countries.map((cc) => addressIn(cc, i)),
      startHour: 6 + rng.int(5),
      weekends: rng.next() < 0.2,
      admin: i < 5,
      agent: rng.pick(AGENTS),
    };
  });
}

/** A route drawn by share from `routes` (shares summing to 1). */
export function pickRoute(rng: Rng, routes: readonly Route[] = ROUTES): Route {
  let x = rng.next();
  for (const r of routes) {
    if (x < r.share) return r;
    x -= r.share;
  }
  return routes[0];
}

export function routeNamed(name: string): Route {
  return ROUTES.find((r) => r.route === name) ?? ROUTES[0];
}
