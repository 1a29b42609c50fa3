// The `audit` processor: a thin shell that builds the enrichment settings from
// config (loading the geo database and the pseudonymisation key, refusing to
// start without them), enriches every record of a batch in place, and counts.
import { Counter, type Registry } from 'prom-client';
import { ConfigError } from '../../config/errors.js';
import type { Processor, ProcessorFactory } from '../../pipeline/component.js';
import type { LogBatch } from '../../pipeline/record.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Telemetry } from '../../telemetry/metrics.js';
import { type AuditConfig, auditConfigSchema } from './config.js';
import { type EnrichSettings, enrichRecord, ingestedAtAttribute } from './enrich.js';
import { GeoLookup, packagedDatabasePath } from './geo.js';
import { KeyError, loadKeyEnv, loadKeyFile, Pseudonymiser } from './pseudonymise.js';
import { recordIds } from './record-id.js';
import { compileRules } from './rules.js';

interface AuditMetrics {
  records: Counter<'processor' | 'parse_status'>;
  limits: Counter<'processor'>;
  geo: Counter<'processor' | 'cache'>;
}

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
  return (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [registry] });
}

function metrics(t: Telemetry): AuditMetrics {
  return {
    records: counter(t.registry, 'vigil_audit_records_total', 'Records enriched by the audit processor, by how well their body was understood (ok, partial, unparsed, skipped = already enriched).', ['processor', 'parse_status']),
    limits: counter(t.registry, 'vigil_audit_limited_records_total', 'Records on which a limit was applied (value truncated, attributes dropped, nesting cut, NUL or invalid UTF-8 replaced).', ['processor']),
    geo: counter(t.registry, 'vigil_audit_geo_lookups_total', 'Country lookups of client addresses, by whether the cache answered.', ['processor', 'cache']),
  };
}

export interface AuditDeps {
  env?: NodeJS.ProcessEnv;
  /** The time the end of a pseudonym key rotation's overlap is judged against (tests). */
  clock?: () => number;
}

/** previous_until: a date is the start of that UTC day, as elsewhere in Vigil. */
function parseUntil(s: string): number {
  return /^\d{4}-\d{2}-\d{2}$/.test(s) ? Date.parse(`${s}T00:00:00Z`) : Date.parse(s);
}

/** Builds the enrichment settings; config problems that need I/O (key, database) become ConfigErrors naming the key. */
export function buildSettings(config: AuditConfig, id: string, deps: AuditDeps = {}): EnrichSettings {
  const base = `processors.${id}`;
  let geo: GeoLookup | undefined;
  if (config.geo.enabled) {
    try {
      geo = new GeoLookup(config.geo.database ?? packagedDatabasePath(), config.geo.cache_size);
    } catch (err) {
      throw new ConfigError([{ path: `${base}.geo.database`, message: (err as Error).message }]);
    }
  }
  let pseudonymiser: Pseudonymiser | undefined;
  const p = config.pseudonymisation;
  if (p?.enabled) {
    try {
      const key = p.key_file !== undefined ? loadKeyFile(p.key_file) : loadKeyEnv(p.key_env!, deps.env);
      const previousKey =
        p.previous_key_file !== undefined ? loadKeyFile(p.previous_key_file, 'previous_key_file') : p.previous_key_env !== undefined ? loadKeyEnv(p.previous_key_env, deps.env, 'previous_key_env') : undefined;
      const previous = previousKey && { key: previousKey, until: parseUntil(p.previous_until!) };
      pseudonymiser = new Pseudonymiser(p.ip_truncation ? { key, ipTruncation: p.ip_truncation, cacheSize: p.cache_size, previous, clock: deps.clock } : { key, cacheSize: p.cache_size, previous, clock: deps.clock });
    } catch (err) {
      if (err instanceof KeyError) throw new ConfigError([{ path: `${base}.pseudonymisation.${err.key}`, message: err.message }]);
      throw err;
    }
  }
  return {
    rules: compileRules(config),
    body: { maxParseLength: config.parse.max_body_size, durationUnit: config.parse.duration_unit },
    limits: { maxValueLength: config.limits.max_value_length, maxAttributes: config.limits.max_attributes, maxDepth: config.limits.max_depth },
    environment: config.environment,
    skipEnriched: config.skip_enriched,
    ocsf: config.ocsf.enabled,
    geo,
    pseudonymiser,
    pseudonymised: p?.enabled ? p.attributes : [],
    pseudonymiseBody: p?.enabled === true && p.body === 'replace',
  };
}

export class AuditProcessor implements Processor {
  private readonly metrics: AuditMetrics;
  private geoHits = 0;
  private geoMisses = 0;

  constructor(
    private readonly id: string,
    readonly settings: EnrichSettings,
    telemetry: Telemetry,
    private readonly now: () => number = Date.now,
  ) {
    this.metrics = metrics(telemetry);
  }

  /** Enriches every record in place; never throws on record content. */
  process(batch: LogBatch): LogBatch {
    if (batch.length === 0) return batch;
    const ids = recordIds(batch);
    const ingestedAt = ingestedAtAttribute(new Date(this.now()).toISOString());
    let ok = 0;
    let partial = 0;
    let unparsed = 0;
    let skipped = 0;
    let limited = 0;
    for (let i = 0; i < batch.length; i++) {
      const r = enrichRecord(batch[i], ids[i], ingestedAt, this.settings);
      if (r.status === 'ok') ok++;
      else if (r.status === 'partial') partial++;
      else if (r.status === 'unparsed') unparsed++;
      else skipped++;
      if (r.marks > 0) limited++;
    }
    const m = this.metrics;
    const labels = { processor: this.id };
    if (ok) m.records.inc({ ...labels, parse_status: 'ok' }, ok);
    if (partial) m.records.inc({ ...labels, parse_status: 'partial' }, partial);
    if (unparsed) m.records.inc({ ...labels, parse_status: 'unparsed' }, unparsed);
    if (skipped) m.records.inc({ ...labels, parse_status: 'skipped' }, skipped);
    if (limited) m.limits.inc(labels, limited);
    const geo = this.settings.geo;
    if (geo) {
      if (geo.hits > this.geoHits) m.geo.inc({ ...labels, cache: 'hit' }, geo.hits - this.geoHits);
      if (geo.misses > this.geoMisses) m.geo.inc({ ...labels, cache: 'miss' }, geo.misses - this.geoMisses);
      this.geoHits = geo.hits;
      this.geoMisses = geo.misses;
    }
    return batch;
  }
}

function describe(config: AuditConfig, settings: EnrichSettings): Record<string, unknown> {
  const p = config.pseudonymisation;
  return {
    geo: settings.geo?.describe() ?? 'off',
    pseudonymisation: p?.enabled
      ? {
          attributes: p.attributes,
          key: p.key_file !== undefined ? `file ${p.key_file}` : `env ${p.key_env}`,
          ...(p.previous_until !== undefined
            ? { previous_key: p.previous_key_file !== undefined ? `file ${p.previous_key_file}` : `env ${p.previous_key_env}`, previous_until: p.previous_until }
            : {}),
          ip_truncation: p.ip_truncation ?? false,
          body: p.body,
        }
      : 'off',
    environment: config.environment ?? '(from resource)',
  };
}

export function createAuditProcessor(config: AuditConfig, id: string, logger: Logger, telemetry: Telemetry, deps: AuditDeps = {}): AuditProcessor {
  const settings = buildSettings(config, id, deps);
  logger.info(describe(config, settings), 'audit processor ready');
  return new AuditProcessor(id, settings, telemetry);
}

export const auditProcessorFactory: ProcessorFactory<AuditConfig> = {
  kind: 'processor',
  type: 'audit',
  mutatesData: true, // enriches records in place
  configSchema: auditConfigSchema,
  create: (config, ctx) => createAuditProcessor(config, ctx.id, ctx.logger, ctx.telemetry),
};
