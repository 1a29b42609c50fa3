// Loading and validating a Collector-style config:
//   receivers / processors / exporters / extensions: maps of `type[/name]` → settings
//   service: { extensions, telemetry, pipelines: { logs[/name]: { receivers, processors, exporters } } }
// Every problem is collected and reported with its key path; nothing starts
// until the whole config is valid.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { AnyFactory, ComponentKind } from '../pipeline/component.js';
import { componentType } from '../pipeline/component.js';
import { packageRoot } from '../util/paths.js';
import { ConfigError, type ConfigIssue, joinPath } from './errors.js';
import { expandEnv } from './expand.js';
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
    logs: { level: 'debug' | 'info' | 'warn' | 'error' };
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
}

export type Registry = ReadonlyMap<string, AnyFactory>;

export const DEFAULT_CONFIG_PATH = 'config/vigil.default.yaml';

const SECTIONS: [string, ComponentKind][] = [
  ['receivers', 'receiver'],
  ['processors', 'processor'],
  ['exporters', 'exporter'],
  ['extensions', 'extension'],
];

const idList = z.array(z.string()).default([]);

const serviceSchema = z
  .object({
    extensions: idList,
    telemetry: z
      .object({
        metrics: z
          .object({
            address: z.union([hostPort(), z.literal(''), z.null()]).default('127.0.0.1:8888'),
            level: z.enum(['none', 'basic', 'detailed']).default('basic'),
            // TLS and bearer-token auth of the telemetry server (metrics, status page): see src/security/README.md.
            tls: tlsServerSchema.optional(),
            auth: serverAuthSchema.optional(),
          })
          .strict()
          .default({ address: '127.0.0.1:8888', level: 'basic' }),
        logs: z
          .object({ level: z.enum(['debug', 'info', 'warn', 'error']).default('info') })
          .strict()
          .default({ level: 'info' }),
        status_page: z.boolean().default(true),
      })
      .strict()
      .default({ metrics: { address: '127.0.0.1:8888', level: 'basic' }, logs: { level: 'info' }, status_page: true }),
    shutdown_timeout: duration().default(30_000),
    pipelines: z.record(
      z.string(),
      z
        .object({ receivers: idList, processors: idList, exporters: idList })
        .strict(),
    ),
  })
  .strict();

/** Turns zod issues into config issues under a base path, with a hint where zod's message is terse. */
export function zodIssues(err: z.ZodError, base: string): ConfigIssue[] {
  return err.issues.map((i) => {
    let message = i.message;
    if (i.code === 'unrecognized_keys') message = `unknown key(s) ${i.keys.map((k) => `"${k}"`).join(', ')}: check the spelling against the component's README`;
    return { path: joinPath(base, ...i.path.map(String)), message };
  });
}

export function readConfigFile(path: string | undefined): { raw: unknown; source: string } {
  const file = path ?? join(packageRoot(), DEFAULT_CONFIG_PATH);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ path: '', message: `cannot read config file ${file}: ${(err as Error).message}` }]);
  }
  return { raw: parseConfigText(text, file), source: path ?? 'embedded default' };
}

/** The YAML of a config file as plain data; `file` names it in errors. */
export function parseConfigText(text: string, file: string): unknown {
  try {
    return parseYaml(text, { maxAliasCount: 100 }) ?? {};
  } catch (err) {
    // Only the first line: the rest is an excerpt of the file, which may hold a literal secret.
    const reason = (err as Error).message.split('\n')[0].replace(/:$/, '');
    throw new ConfigError([{ path: '', message: `${file} is not valid YAML: ${reason}` }]);
  }
}

export interface ValidateOptions {
  env?: NodeJS.ProcessEnv;
  /** `replay` runs only the pipeline's processors: receivers and exporters may be left out. */
  mode?: 'run' | 'replay';
}

export function loadConfig(path: string | undefined, registry: Registry, opts: ValidateOptions = {}): VigilConfig {
  const { raw, source } = readConfigFile(path);
  return validateConfig(raw, registry, source, opts);
}

export function validateConfig(raw: unknown, registry: Registry, source = 'config', opts: ValidateOptions = {}): VigilConfig {
  const env = opts.env ?? process.env;
  const replay = opts.mode === 'replay';
  const issues: ConfigIssue[] = [];
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

  const sections = new Map<ComponentKind, Map<string, ComponentConfig>>();
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
      const type = componentType(id);
      if (!/^[a-z][a-z0-9_]*(\/[A-Za-z0-9_.-]+)?$/.test(id)) {
        issues.push({ path, message: 'component ids are `type` or `type/name` (lowercase type, name of letters, digits, _ . -)' });
        continue;
      }
      const factory = registry.get(`${kind}:${type}`);
      if (!factory) {
        const known = [...registry.values()].filter((f) => f.kind === kind).map((f) => f.type).sort();
        issues.push({ path, message: `unknown ${kind} type "${type}": known ${kind} types are ${known.join(', ') || '(none)'}` });
        continue;
      }
      const parsed = factory.configSchema.safeParse(settings ?? {});
      if (!parsed.success) {
        issues.push(...zodIssues(parsed.error, path));
        continue;
      }
      out.set(id, { id, factory, config: parsed.data });
    }
  }

  const svc = serviceSchema.safeParse(expanded.service ?? { pipelines: {} });
  let service: ServiceConfig | undefined;
  if (!svc.success) {
    issues.push(...zodIssues(svc.error, 'service'));
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
      for (const [field, kind] of refs) {
        const ids = p[field as 'receivers'];
        ids.forEach((id, i) => {
          if (!sections.get(kind)!.has(id)) {
            issues.push({
              path: joinPath(ppath, field, i),
              message: `references ${kind} "${id}" which is not defined: add it under ${field}: or remove it from the pipeline`,
            });
          }
        });
        if (new Set(ids).size !== ids.length) issues.push({ path: joinPath(ppath, field), message: 'lists a component twice' });
      }
      if (!replay && p.receivers.length === 0 && p.exporters.length === 0 && p.processors.length === 0) {
        issues.push({ path: ppath, message: 'an empty pipeline does nothing: list its receivers, processors and exporters' });
      }
      if (!replay && p.exporters.length === 0) issues.push({ path: joinPath(ppath, 'exporters'), message: 'a pipeline needs at least one exporter' });
      pipelines.push({ id: pid, ...p });
    }
    if (pipelines.length === 0 && issues.length === 0) {
      issues.push({ path: 'service.pipelines', message: 'define at least one pipeline, e.g. logs: { receivers: [otlp], exporters: [worm] }' });
    }
    s.extensions.forEach((id, i) => {
      if (!sections.get('extension')!.has(id)) {
        issues.push({ path: joinPath('service.extensions', i), message: `extension "${id}" is not defined under extensions:` });
      }
    });
    service = { extensions: s.extensions, telemetry: s.telemetry, shutdown_timeout: s.shutdown_timeout, pipelines };
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
  };
}
