// Loading and validating a Collector-style config:
//   receivers / processors / exporters / extensions: maps of `type[/name]` → settings
//   service: { extensions, telemetry, pipelines: { logs[/name]: { receivers, processors, exporters } } }
// Every problem is collected and reported with its key path; nothing starts
// until the whole config is valid.
import { z } from 'zod';
import type { AnyFactory, ComponentKind } from '../pipeline/component.js';
import { componentType } from '../pipeline/component.js';
import { ConfigError, type ConfigIssue, joinPath } from './errors.js';
import { expandEnv } from './expand.js';
import { type ConfigSources, parseConfigText, readConfigSources } from './sources.js';
import { closest, knownKeysAt } from './suggest.js';
import { duration, hostPort } from './units.js';
import { type ServerAuthConfig, serverAuthSchema } from '../security/auth.js';
import { type TlsServerConfig, tlsServerSchema } from '../security/tls.js';
import { redactIssues, referencedEnvValues } from '../security/redact.js';

export interface ComponentConfig {
  id: string;
  factory: AnyFactory;
  config: unknown;
}

export interface PipelineConfig {
  id: string;
  receivers: string[];
  processors: string[];
  exporters: string[];
}

export interface ServiceConfig {
  extensions: string[];
  telemetry: {
    metrics: { address: string | null; level: 'none' | 'basic' | 'detailed'; tls?: TlsServerConfig; auth?: ServerAuthConfig };
    logs: { level: 'debug' | 'info' | 'warn' | 'error'; encoding?: 'json' | 'console' };
    status_page: boolean;
  };
  shutdown_timeout: number;
  pipelines: PipelineConfig[];
}

export interface VigilConfig {
  receivers: Map<string, ComponentConfig>;
  processors: Map<string, ComponentConfig>;
  exporters: Map<string, ComponentConfig>;
  extensions: Map<string, ComponentConfig>;
  service: ServiceConfig;
  /** Where the config came from, for messages. */
  source: string;
  /** Accepted but worth telling the operator (deprecated names, ignored settings): logged at start, printed by `validate`. */
  warnings: ConfigIssue[];
}

export type Registry = ReadonlyMap<string, AnyFactory>;

export { DEFAULT_CONFIG_PATH, parseConfigText } from './sources.js';
export type { ConfigSources } from './sources.js';

/**
 * Component type names the Collector has renamed, still accepted with a warning
 * as the Collector does: `kind:old` → the current type.
 */
const DEPRECATED_TYPES: ReadonlyMap<string, string> = new Map([
  ['exporter:otlp', 'otlp_grpc'],
  ['exporter:otlphttp', 'otlp_http'],
]);

/** Collector processors Vigil does without, accepted with a warning and left out of the pipelines. */
const IGNORED_PROCESSORS: ReadonlyMap<string, string> = new Map([
  [
    'batch',
    'Vigil has no batch processor: it is ignored. Batch on the exporter instead, with sending_queue.batch (flush_timeout, min_size, max_size) as in the Collector; see src/exporters/otlp/README.md',
  ],
]);

const SECTIONS: [string, ComponentKind][] = [
  ['receivers', 'receiver'],
  ['processors', 'processor'],
  ['exporters', 'exporter'],
  ['extensions', 'extension'],
];

const idList = z.array(z.string()).default([]);

const DEFAULT_METRICS_ADDRESS = '127.0.0.1:8888';

/** `readers: [{ pull: { exporter: { prometheus: { host, port } } } }]`, the Collector's telemetry form. */
const readerSchema = z
  .object({
    pull: z
      .object({
        exporter: z
          .object({
            prometheus: z
              .object({
                host: z.string().default('127.0.0.1'),
                port: z.number().int().min(0).max(65535),
                // The Collector's naming switches; Vigil's metric names are fixed (see docs/collector-differences.md).
                without_type_suffix: z.boolean().optional(),
                without_units: z.boolean().optional(),
                without_scope_info: z.boolean().optional(),
              })
              .strict(),
          })
          .strict(),
      })
      .strict()
      .optional(),
    periodic: z.unknown().optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.periodic !== undefined || r.pull === undefined) {
      ctx.addIssue({ code: 'custom', message: 'Vigil serves its metrics for Prometheus to scrape: use a pull reader with exporter.prometheus (host, port); periodic (push) readers are not supported' });
    }
  });

/** The address a pull reader serves on, `host:port` (IPv6 hosts bracketed). */
function readerAddress(r: z.infer<typeof readerSchema>): string {
  const p = r.pull!.exporter.prometheus;
  return `${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}`;
}

const serviceSchema = z
  .object({
    extensions: idList,
    telemetry: z
      .object({
        metrics: z
          .object({
            address: z.union([hostPort(), z.literal(''), z.null()]).optional(),
            // The Collector's current form of the same thing: one pull reader with a Prometheus exporter.
            readers: z.array(readerSchema).max(1, 'Vigil serves one metrics endpoint: list one pull reader').optional(),
            level: z.enum(['none', 'basic', 'detailed']).default('basic'),
            // TLS and bearer-token auth of the telemetry server (metrics, status page): see src/security/README.md.
            tls: tlsServerSchema.optional(),
            auth: serverAuthSchema.optional(),
          })
          .strict()
          .default({ level: 'basic' }),
        logs: z
          .object({
            level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
            // Unset: console on a terminal, json otherwise (as the Collector's console default, but machine-readable when piped).
            encoding: z.enum(['json', 'console']).optional(),
          })
          .strict()
          .default({ level: 'info' }),
        status_page: z.boolean().default(true),
      })
      .strict()
      .default({ metrics: { level: 'basic' }, logs: { level: 'info' }, status_page: true }),
    shutdown_timeout: duration().default(30_000),
    pipelines: z.record(
      z.string(),
      z
        .object({ receivers: idList, processors: idList, exporters: idList })
        .strict(),
    ),
  })
  .strict();

/**
 * Turns zod issues into config issues under a base path, with a hint where zod's
 * message is terse; with the schema, an unknown key gets the closest known one.
 */
export function zodIssues(err: z.ZodError, base: string, schema?: z.ZodType): ConfigIssue[] {
  return err.issues.map((i) => {
    let message = i.message;
    if (i.code === 'unrecognized_keys') {
      const known = schema ? knownKeysAt(schema, i.path) : [];
      const named = i.keys.map((k) => {
        const near = closest(k, known);
        return near ? `"${k}" (did you mean "${near}"?)` : `"${k}"`;
      });
      const list = known.length > 0 ? `known keys here: ${known.join(', ')}` : "check the spelling against the component's README";
      message = `unknown key(s) ${named.join(', ')}: ${list}`;
    }
    return { path: joinPath(base, ...i.path.map(String)), message };
  });
}

/** The raw (unvalidated) config of one file, or of the embedded default. */
export function readConfigFile(path: string | undefined): { raw: unknown; source: string } {
  return readConfigSources({ configs: path === undefined ? [] : [path] });
}

export interface ValidateOptions {
  env?: NodeJS.ProcessEnv;
  /** `replay` runs only the pipeline's processors: receivers and exporters may be left out. */
  mode?: 'run' | 'replay';
}

/** Reads, merges and validates a config: one path, several (`--config` repeated), or sources with `--set`s. */
export function loadConfig(from: string | readonly string[] | ConfigSources | undefined, registry: Registry, opts: ValidateOptions = {}): VigilConfig {
  const sources: ConfigSources = from === undefined ? {} : typeof from === 'string' ? { configs: [from] } : isSourceList(from) ? { configs: from } : from;
  const { raw, source } = readConfigSources(sources);
  return validateConfig(raw, registry, source, opts);
}

function isSourceList(v: readonly string[] | ConfigSources): v is readonly string[] {
  return Array.isArray(v);
}

export function validateConfig(raw: unknown, registry: Registry, source = 'config', opts: ValidateOptions = {}): VigilConfig {
  const env = opts.env ?? process.env;
  const replay = opts.mode === 'replay';
  const issues: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([{ path: '', message: 'the config must be a YAML mapping with receivers, exporters and service' }]);
  }
  let expanded: Record<string, unknown>;
  try {
    expanded = expandEnv(raw, env) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw err;
  }

  for (const key of Object.keys(expanded)) {
    if (!['receivers', 'processors', 'exporters', 'extensions', 'service', 'connectors'].includes(key)) {
      issues.push({ path: key, message: 'unknown top-level section: expected receivers, processors, exporters, extensions or service' });
    }
  }

  const connectors = expanded.connectors;
  if (connectors && typeof connectors === 'object' && Object.keys(connectors).length > 0) {
    issues.push({ path: 'connectors', message: 'Vigil has no connectors (its pipelines are logs pipelines fed by receivers): remove connectors: and list receivers and exporters in each pipeline' });
  }

  const sections = new Map<ComponentKind, Map<string, ComponentConfig>>();
  const declared = new Set<string>();
  const ignoredIds = new Set<string>();
  for (const [section, kind] of SECTIONS) {
    const out = new Map<string, ComponentConfig>();
    sections.set(kind, out);
    const value = expanded[section];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      issues.push({ path: section, message: `must be a mapping of ${kind} ids to their settings` });
      continue;
    }
    for (const [id, settings] of Object.entries(value as Record<string, unknown>)) {
      const path = joinPath(section, id);
      // Written but invalid: pipelines referring to it get no second, misleading "not defined".
      declared.add(`${kind}:${id}`);
      let type = componentType(id);
      if (!/^[a-z][a-z0-9_]*(\/[A-Za-z0-9_.-]+)?$/.test(id)) {
        issues.push({ path, message: 'component ids are `type` or `type/name` (lowercase type, name of letters, digits, _ . -)' });
        continue;
      }
      const ignored = kind === 'processor' ? IGNORED_PROCESSORS.get(type) : undefined;
      if (ignored && !registry.has(`${kind}:${type}`)) {
        warnings.push({ path, message: ignored });
        ignoredIds.add(id);
        continue;
      }
      const renamed = DEPRECATED_TYPES.get(`${kind}:${type}`);
      if (renamed && !registry.has(`${kind}:${type}`)) {
        warnings.push({ path, message: `the "${type}" ${kind} is now called "${renamed}" (as in the Collector); "${type}" still works but is deprecated` });
        type = renamed;
      }
      const factory = registry.get(`${kind}:${type}`);
      if (!factory) {
        const known = [...registry.values()].filter((f) => f.kind === kind).map((f) => f.type).sort();
        const near = closest(type, known);
        issues.push({ path, message: `unknown ${kind} type "${type}"${near ? ` (did you mean "${near}"?)` : ''}: known ${kind} types are ${known.join(', ') || '(none)'}` });
        continue;
      }
      const parsed = factory.configSchema.safeParse(settings ?? {});
      if (!parsed.success) {
        issues.push(...zodIssues(parsed.error, path, factory.configSchema));
        continue;
      }
      out.set(id, { id, factory, config: parsed.data });
    }
  }

  const svc = serviceSchema.safeParse(expanded.service ?? { pipelines: {} });
  let service: ServiceConfig | undefined;
  if (!svc.success) {
    issues.push(...zodIssues(svc.error, 'service', serviceSchema));
  } else {
    const s = svc.data;
    const pipelines: PipelineConfig[] = [];
    for (const [pid, p] of Object.entries(s.pipelines)) {
      const ppath = joinPath('service.pipelines', pid);
      if (componentType(pid) !== 'logs') {
        issues.push({ path: ppath, message: 'Vigil processes logs only: name pipelines `logs` or `logs/<name>`' });
        continue;
      }
      const refs: [keyof PipelineConfig, ComponentKind][] = [
        ['receivers', 'receiver'],
        ['processors', 'processor'],
        ['exporters', 'exporter'],
      ];
      const processors = p.processors.filter((id) => !ignoredIds.has(id));
      for (const [field, kind] of refs) {
        const ids = p[field as 'receivers'];
        ids.forEach((id, i) => {
          if (!sections.get(kind)!.has(id) && !declared.has(`${kind}:${id}`)) {
            issues.push({
              path: joinPath(ppath, field, i),
              message: `references ${kind} "${id}" which is not defined: add it under ${field}: or remove it from the pipeline`,
            });
          }
        });
        if (new Set(ids).size !== ids.length) issues.push({ path: joinPath(ppath, field), message: 'lists a component twice' });
      }
      if (!replay && p.receivers.length === 0 && p.exporters.length === 0 && processors.length === 0) {
        issues.push({ path: ppath, message: 'an empty pipeline does nothing: list its receivers, processors and exporters' });
      }
      if (!replay && p.exporters.length === 0) issues.push({ path: joinPath(ppath, 'exporters'), message: 'a pipeline needs at least one exporter' });
      pipelines.push({ id: pid, ...p, processors });
    }
    if (pipelines.length === 0 && issues.length === 0) {
      issues.push({ path: 'service.pipelines', message: 'define at least one pipeline, e.g. logs: { receivers: [otlp], exporters: [worm] }' });
    }
    s.extensions.forEach((id, i) => {
      if (!sections.get('extension')!.has(id)) {
        issues.push({ path: joinPath('service.extensions', i), message: `extension "${id}" is not defined under extensions:` });
      }
    });
    const m = s.telemetry.metrics;
    if (m.address !== undefined && m.readers !== undefined) {
      issues.push({ path: 'service.telemetry.metrics', message: 'set either address or readers (the same endpoint, two ways): prefer readers, the Collector\'s current form' });
    }
    const address = m.readers?.[0]?.pull ? readerAddress(m.readers[0]) : m.address === undefined ? DEFAULT_METRICS_ADDRESS : m.address;
    const { readers: _readers, ...metrics } = m;
    service = {
      extensions: s.extensions,
      telemetry: { ...s.telemetry, metrics: { ...metrics, address }, logs: { level: s.telemetry.logs.level, encoding: s.telemetry.logs.encoding } },
      shutdown_timeout: s.shutdown_timeout,
      pipelines,
    };
  }

  // A message quoting a value that came from ${env:…} names the reference instead (it may be a secret).
  if (issues.length > 0) throw new ConfigError(redactIssues(issues, referencedEnvValues(raw, env)));
  return {
    receivers: sections.get('receiver')!,
    processors: sections.get('processor')!,
    exporters: sections.get('exporter')!,
    extensions: sections.get('extension')!,
    service: service!,
    source,
    warnings: redactIssues(warnings, referencedEnvValues(raw, env)),
  };
}
