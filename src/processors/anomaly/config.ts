// Configuration of the `anomaly` processor (Collector style, under
// processors.anomaly). Every detector is checked at start-up: exactly one
// signal kind, options that fit that kind, attribute references and conditions
// that parse; errors name the detector and the key.
import { z } from 'zod';
import { duration } from '../../config/units.js';
import { parseAttrRef } from './attr-ref.js';
import { parseCondition } from './filter.js';

export const KINDS = ['rate', 'ratio', 'value', 'distinct', 'novelty', 'hour_of_week'] as const;
export type KindName = (typeof KINDS)[number];

/** False alerts per 1,000 keys per day, per detector. */
export const DEFAULT_ALERT_BUDGET = 1;

function budget() {
  return z
    .number()
    .gt(0, 'alert_budget is false alerts per 1,000 keys per day, above 0, e.g. 1')
    .lt(1_000_000, 'alert_budget is false alerts per 1,000 keys per day, e.g. 1');
}

/** Options that only some kinds take. */
const KIND_OPTIONS: Record<string, readonly KindName[]> = {
  window: ['ratio', 'distinct'],
  sensitive: ['hour_of_week'],
  weight: ['rate'],
  min_count: ['rate', 'ratio', 'distinct', 'value'],
  scale: ['value'],
  direction: ['value'],
  suppress: ['value'],
  aggregate: ['value'],
};

export const detectorSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z][a-z0-9_]*$/, 'detector names are lowercase letters, digits and _ (used in metric labels and alerts)'),
    key: z
      .array(z.string().min(1))
      .min(1, 'list the attributes that identify what is tracked, e.g. key: [user.id]'),
    rate: duration().optional(),
    ratio: z.string().optional(),
    value: z.string().optional(),
    distinct: z.string().optional(),
    novelty: z.string().optional(),
    hour_of_week: z.literal(true, { message: 'write hour_of_week: true' }).optional(),
    where: z.string().optional(),
    threshold: z.number().gt(0, 'threshold is a score in (0, 1), e.g. 0.99').lt(1, 'threshold is a score in (0, 1), e.g. 0.99').optional(),
    alert_budget: budget().optional(),
    sensitive: z.union([z.string(), z.array(z.string()).min(1).max(4, 'sensitive takes up to 4 conditions')]).optional(),
    window: duration().optional(),
    weight: z.string().optional(),
    half_life: duration().optional(),
    warmup: z.number().int().nonnegative().optional(),
    max_keys: z.number().int().positive().optional(),
    min_count: z.number().positive().optional(),
    scale: z.enum(['linear', 'log']).optional(),
    direction: z.enum(['up', 'down', 'both']).optional(),
    suppress: duration().optional(),
    aggregate: duration().optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    // Checked per detector, so that one broken detector does not hide the problems of the others.
    for (const issue of detectorProblems(d)) ctx.addIssue({ code: 'custom', path: issue.path, message: `detector "${d.name}": ${issue.message}` });
  });
export type DetectorConfig = z.infer<typeof detectorSchema>;

export const anomalyConfigSchema = z
  .object({
    /** Expert override: score at which every detector alerts, instead of the budget's threshold. */
    threshold: z.number().gt(0, 'threshold is a score in (0, 1), e.g. 0.9').lt(1, 'threshold is a score in (0, 1), e.g. 0.9').optional(),
    /** False alerts per 1,000 keys per day, per detector, on ordinary traffic: the thresholds derive from it. */
    alert_budget: budget().default(DEFAULT_ALERT_BUDGET),
    max_keys: z.number().int().positive().default(100_000),
    half_life: duration().default(7 * 86_400_000),
    warmup: z.number().int().nonnegative().optional(),
    cooldown: duration().default(3_600_000),
    sensitive_routes: z.array(z.string().min(1)).min(1).default(['/admin*']),
    state: z
      .object({
        directory: z.string().min(1).optional(),
        interval: duration().default(300_000),
      })
      .strict()
      .default({ interval: 300_000 }),
    detectors: z.array(detectorSchema).optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Map<string, number>();
    (cfg.detectors ?? []).forEach((d, i) => {
      const prev = seen.get(d.name);
      if (prev !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['detectors', i, 'name'], message: `detector "${d.name}" is defined twice (also detectors.${prev}): names must be unique` });
      }
      seen.set(d.name, i);
    });
    cfg.sensitive_routes.forEach((r, i) => {
      if (/["\\]/.test(r)) ctx.addIssue({ code: 'custom', path: ['sensitive_routes', i], message: 'route patterns may not contain " or \\' });
    });
  });
export type AnomalyConfig = z.infer<typeof anomalyConfigSchema>;

export function kindOf(d: DetectorConfig): KindName {
  return KINDS.find((k) => d[k] !== undefined)!;
}

/** Everything wrong with one detector, each with the key it is about. */
export function detectorProblems(d: DetectorConfig): { path: string[]; message: string }[] {
  const out: { path: string[]; message: string }[] = [];
  const kinds = KINDS.filter((k) => d[k] !== undefined);
  if (kinds.length !== 1) {
    out.push({
      path: kinds.length === 0 ? [] : [kinds[1]],
      message:
        kinds.length === 0
          ? `give exactly one signal kind: ${KINDS.join(', ')} (e.g. value: http.server.request.duration)`
          : `has ${kinds.join(' and ')}: give exactly one signal kind per detector`,
    });
    return out;
  }
  const kind = kinds[0];
  for (const [option, kindsAllowed] of Object.entries(KIND_OPTIONS)) {
    if ((d as Record<string, unknown>)[option] !== undefined && !kindsAllowed.includes(kind)) {
      out.push({ path: [option], message: `${option} applies to ${kindsAllowed.join('/')} detectors, not ${kind}` });
    }
  }
  d.key.forEach((k, i) => {
    try {
      parseAttrRef(k);
    } catch (err) {
      out.push({ path: ['key', String(i)], message: (err as Error).message });
    }
  });
  const refs: [string, string | undefined][] = [
    ['value', d.value],
    ['distinct', d.distinct],
    ['novelty', d.novelty],
    ['weight', d.weight],
  ];
  for (const [field, text] of refs) {
    if (text === undefined) continue;
    try {
      parseAttrRef(text);
    } catch (err) {
      out.push({ path: [field], message: (err as Error).message });
    }
  }
  const conditions: [string, string | undefined][] = [
    ['where', d.where],
    ['ratio', d.ratio],
    ...(Array.isArray(d.sensitive) ? d.sensitive.map((c, i): [string, string] => [`sensitive.${i}`, c]) : [['sensitive', d.sensitive] as [string, string | undefined]]),
  ];
  for (const [field, text] of conditions) {
    if (text === undefined) continue;
    try {
      parseCondition(text);
    } catch (err) {
      out.push({ path: [field], message: `invalid condition: ${(err as Error).message}` });
    }
  }
  if (kind === 'rate' && !(d.rate! > 0)) out.push({ path: ['rate'], message: 'the rate window must be longer than 0, e.g. rate: 1m' });
  if (d.window !== undefined && !(d.window > 0)) out.push({ path: ['window'], message: 'window must be longer than 0, e.g. 5m' });
  if (kind === 'value' && d.min_count !== undefined && d.aggregate === undefined) out.push({ path: ['min_count'], message: 'min_count applies to a value detector only with aggregate (records per bucket)' });
  if (d.aggregate !== undefined && !(d.aggregate > 0)) out.push({ path: ['aggregate'], message: 'aggregate must be longer than 0, e.g. 1m' });
  if (d.half_life !== undefined && !(d.half_life > 0)) out.push({ path: ['half_life'], message: 'half_life must be longer than 0, e.g. 7d' });
  return out;
}

/** A response this large gives an off-hours session weight (an export, a dump). */
const BULK_RESPONSE_BYTES = 10_000_000;
const LOGIN_FAILURE = 'audit.action == "login" and audit.outcome == "failure"';
const ROUTE = 'http.route|url.path';

/** The detections Vigil runs when `detectors` is absent. */
export function defaultDetectors(sensitiveRoutes: readonly string[]): DetectorConfig[] {
  const sensitive = `${ROUTE} matches [${sensitiveRoutes.map((r) => JSON.stringify(r)).join(', ')}]`;
  return [
    { name: 'route_5xx', key: [ROUTE], ratio: 'http.response.status_code >= 500' },
    { name: 'route_429', key: [ROUTE], ratio: 'http.response.status_code == 429' },
    { name: 'client_rate', key: ['client.address'], rate: 60_000 },
    { name: 'login_failures', key: ['user.id'], rate: 300_000, where: LOGIN_FAILURE },
    { name: 'credential_stuffing', key: ['client.address'], distinct: 'user.id', where: LOGIN_FAILURE, window: 600_000 },
    { name: 'off_hours', key: ['user.id'], hour_of_week: true, sensitive: [sensitive, `http.response.body.size >= ${BULK_RESPONSE_BYTES}`] },
    { name: 'new_country', key: ['user.id'], novelty: 'geo.country.iso_code' },
    { name: 'sensitive_route_network', key: [ROUTE], novelty: 'net(client.address)', where: sensitive },
    { name: 'download_bytes', key: ['user.id'], rate: 3_600_000, weight: 'http.response.body.size' },
    { name: 'route_latency', key: [ROUTE], value: 'http.server.request.duration', scale: 'log', direction: 'up', aggregate: 300_000 },
  ];
}
