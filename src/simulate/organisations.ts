// Named organisations for `vigil simulate --org` and `npm run bench:alerts`.
// Their knobs differ independently (size, volume spread, night-time share,
// weekends, time zones, joiners, holiday, new route): each was written down
// as a plausible company, none adjusted to make a detector look good.
import type { OrganisationKnobs } from './organisation.js';

const REPORTS = { route: '/api/reports', method: 'GET', share: 0, latency: 0.4, bytes: 60_000 };
const EXPORT_CSV = { route: '/api/export.csv', method: 'GET', share: 0, latency: 0.9, bytes: 250_000 };

export const ORGANISATIONS: readonly OrganisationKnobs[] = [
  {
    name: 'agency',
    description: 'a small agency in one region: similar users, no night or weekend work, a few hires, a reports route from the second Wednesday',
    accounts: 50,
    requestsPerDay: 40,
    spread: 3,
    night: 0,
    weekendWorkers: 0,
    regions: [{ region: 'europe', share: 1 }],
    joiners: 0.1,
    newRoute: { day: 9, route: REPORTS, adoption: 0.6, share: 0.2 },
    days: 10,
  },
  {
    name: 'retailer',
    description: 'a retailer: volumes differing 20-fold, 1 % night-time use, a third working weekends, two regions, a Thursday holiday',
    accounts: 200,
    requestsPerDay: 50,
    spread: 20,
    night: 0.01,
    weekendWorkers: 0.3,
    regions: [
      { region: 'europe', share: 0.7 },
      { region: 'americas', share: 0.3 },
    ],
    joiners: 0,
    holiday: 3,
    days: 8,
  },
  {
    name: 'bank',
    description: 'a bank: steady office hours, rare night use, Europe and the Americas, a Monday holiday, an export route from the first Wednesday',
    accounts: 400,
    requestsPerDay: 30,
    spread: 10,
    night: 0.003,
    weekendWorkers: 0.05,
    regions: [
      { region: 'europe', share: 0.6 },
      { region: 'americas', share: 0.4 },
    ],
    joiners: 0.05,
    holiday: 7,
    newRoute: { day: 2, route: EXPORT_CSV, adoption: 0.3, share: 0.1 },
    days: 9,
  },
  {
    name: 'saas',
    description: 'a SaaS tenant across three regions: volumes differing 100-fold, 3 % night-time use, many joiners, a reports route from the second Wednesday',
    accounts: 1_000,
    requestsPerDay: 12,
    spread: 100,
    night: 0.03,
    weekendWorkers: 0.15,
    regions: [
      { region: 'americas', share: 0.4 },
      { region: 'europe', share: 0.35 },
      { region: 'asia', share: 0.25 },
    ],
    joiners: 0.2,
    newRoute: { day: 9, route: REPORTS, adoption: 0.5, share: 0.15 },
    days: 11,
  },
  {
    name: 'enterprise',
    description: 'a 5,000-account enterprise: mostly light users (volumes differing 50-fold), 2 % night-time use, three regions, a Friday holiday, an export route from the first Wednesday',
    accounts: 5_000,
    requestsPerDay: 5,
    spread: 50,
    night: 0.02,
    weekendWorkers: 0.1,
    regions: [
      { region: 'europe', share: 0.5 },
      { region: 'americas', share: 0.3 },
      { region: 'asia', share: 0.2 },
    ],
    joiners: 0.03,
    holiday: 4,
    newRoute: { day: 2, route: EXPORT_CSV, adoption: 0.2, share: 0.1 },
    days: 8,
  },
];

export const ORGANISATION_NAMES = ORGANISATIONS.map((o) => o.name);

/** The preset of that name; an unknown name is an error that lists the known ones. */
export function organisationNamed(name: string): OrganisationKnobs {
  const o = ORGANISATIONS.find((x) => x.name === name);
  if (!o) throw new Error(`unknown organisation "${name}": use one of ${ORGANISATION_NAMES.join(', ')}`);
  return o;
}
