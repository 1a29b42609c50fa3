// Retention: how long sealed segments stay locked in S3 (ObjectLockRetainUntilDate).
// Either a period (`400d`) or a compliance preset with its documented minimum;
// a preset plus a longer period keeps the longer one.
import { parseDuration } from '../../config/units.js';

const DAY = 86_400_000;

export interface RetentionPreset {
  name: string;
  /** The regulation's minimum, in whole calendar years. */
  years: number;
  /** How long the most recent logs must stay immediately at hand (local copy), if the rule says so. */
  atHandDays?: number;
  rule: string;
}

export const RETENTION_PRESETS: Record<string, RetentionPreset> = {
  'pci-dss': {
    name: 'pci-dss',
    years: 1,
    atHandDays: 90,
    rule: 'PCI DSS v4.0 10.5.1: audit log history kept at least 12 months, the most recent three months immediately available',
  },
  hipaa: { name: 'hipaa', years: 6, rule: 'HIPAA 45 CFR 164.316(b)(2): documentation kept 6 years' },
  'sec-17a-4': {
    name: 'sec-17a-4',
    years: 6,
    rule: 'SEC Rule 17a-4(a)/(f): records kept 6 years on non-rewriteable, non-erasable storage (WORM)',
  },
  sox: { name: 'sox', years: 7, rule: 'SOX section 802 / 17 CFR 210.2-06: audit records kept 7 years' },
};

export interface Retention {
  /** The preset, when one was chosen. */
  preset: RetentionPreset | undefined;
  /** An explicit period in ms, when one was given. */
  periodMs: number | undefined;
}

/** What the config accepts: `400d`, `pci-dss`, or `{ preset: pci-dss, period: 400d }`. */
export type RetentionInput = string | number | { preset?: string; period?: string | number };

/** Parses a retention setting; throws an Error whose message says how to fix it. */
export function parseRetention(input: RetentionInput): Retention {
  if (typeof input === 'object' && input !== null) {
    const preset = input.preset === undefined ? undefined : presetByName(input.preset);
    const periodMs = input.period === undefined ? undefined : parsePeriod(input.period);
    if (!preset && periodMs === undefined) throw new Error('give a preset, a period or both, e.g. { preset: pci-dss, period: 400d }');
    if (preset && periodMs !== undefined && periodMs < preset.years * 365 * DAY) {
      throw new Error(
        `period ${formatDays(periodMs)} is shorter than the ${preset.name} minimum of ${preset.years} year(s) (${preset.years * 365}d): ${preset.rule}`,
      );
    }
    return { preset, periodMs };
  }
  if (typeof input === 'string' && !/^\d/.test(input.trim())) return { preset: presetByName(input), periodMs: undefined };
  return { preset: undefined, periodMs: parsePeriod(input) };
}

function presetByName(name: string): RetentionPreset {
  const p = RETENTION_PRESETS[name.trim().toLowerCase()];
  if (!p) throw new Error(`unknown retention preset "${name}": use one of ${Object.keys(RETENTION_PRESETS).join(', ')} or a period like 400d`);
  return p;
}

function parsePeriod(v: string | number): number {
  const ms = parseDuration(v);
  if (ms < DAY) throw new Error(`a retention of ${typeof v === 'string' ? v : `${v}ms`} is too short to mean anything for an archive: use days, e.g. 400d`);
  return ms;
}

/**
 * The retain-until date for something sealed at `sealedAt` (ms): the longer of
 * the explicit period and the preset's calendar years (so a leap day never
 * makes a preset fall short).
 */
export function retainUntil(r: Retention, sealedAt: number): number {
  let until = r.periodMs === undefined ? sealedAt : sealedAt + r.periodMs;
  if (r.preset) {
    const d = new Date(sealedAt);
    d.setUTCFullYear(d.getUTCFullYear() + r.preset.years);
    until = Math.max(until, d.getTime());
  }
  // S3 keeps retention dates to the second: round up so we never fall short.
  return Math.ceil(until / 1000) * 1000;
}

/** The effective minimum period in days, for reports. */
export function retentionDays(r: Retention): number {
  return Math.max(r.periodMs === undefined ? 0 : r.periodMs / DAY, r.preset ? r.preset.years * 365 : 0);
}

export function describeRetention(r: Retention): string {
  const parts: string[] = [];
  if (r.preset) parts.push(`${r.preset.name} (${r.preset.years} year${r.preset.years > 1 ? 's' : ''})`);
  if (r.periodMs !== undefined) parts.push(formatDays(r.periodMs));
  return parts.join(', ');
}

function formatDays(ms: number): string {
  return `${Math.round((ms / DAY) * 100) / 100}d`;
}
