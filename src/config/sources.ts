// Where a config comes from, as the Collector reads it: one or more `--config`
// sources merged in order (maps merged deeply, later scalars win, lists are
// replaced whole), then each `--set key::sub=value` applied on top.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { packageRoot } from '../util/paths.js';
import { ConfigError } from './errors.js';

export const DEFAULT_CONFIG_PATH = 'config/vigil.default.yaml';

export interface ConfigSources {
  /** Files (or `file:PATH`, `yaml:key::sub: value` URIs) in merge order; none = the embedded default. */
  configs?: readonly string[];
  /** `--set key::sub=value` overrides, applied after every config, in order. */
  sets?: readonly string[];
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

/** One `--config` value as data: a file path, `file:PATH`, or `yaml:key::sub: value` (the Collector's inline form). */
export function readConfigSource(uri: string): unknown {
  if (uri.startsWith('yaml:')) {
    const text = uri.slice('yaml:'.length);
    const colon = text.indexOf(': ');
    if (colon < 0) throw new ConfigError([{ path: '', message: `--config ${uri}: write yaml:key::sub: value` }]);
    return nest(text.slice(0, colon).split('::'), parseConfigText(text.slice(colon + 2), uri));
  }
  const file = uri.startsWith('file:') ? uri.slice('file:'.length) : uri;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file (check the --config path)' : e.message;
    throw new ConfigError([{ path: '', message: `cannot read config file ${file}: ${why}` }]);
  }
  return parseConfigText(text, file);
}

/** The merged raw config of every source, and a description of where it came from. */
export function readConfigSources(src: ConfigSources = {}): { raw: unknown; source: string } {
  const configs = src.configs ?? [];
  let raw: unknown = configs.length === 0 ? readConfigSource(join(packageRoot(), DEFAULT_CONFIG_PATH)) : {};
  for (const uri of configs) raw = mergeConfig(raw, readConfigSource(uri));
  for (const s of src.sets ?? []) raw = mergeConfig(raw, parseSet(s));
  const source = configs.length === 0 ? 'embedded default' : configs.join(' + ');
  return { raw, source: src.sets?.length ? `${source} (with ${src.sets.length} --set)` : source };
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The Collector's merge: maps deeply, anything else (scalars, lists, null) replaced by the later value. */
export function mergeConfig(base: unknown, over: unknown): unknown {
  if (!isMap(base) || !isMap(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    // defineProperty: a `__proto__` key stays a key (and is reported as unknown), never a prototype.
    Object.defineProperty(out, k, { value: k in base ? mergeConfig(base[k], v) : v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** `exporters::otlp_grpc::endpoint=host:4317` → `{ exporters: { otlp_grpc: { endpoint: 'host:4317' } } }`; the value is YAML. */
export function parseSet(s: string): unknown {
  const eq = s.indexOf('=');
  const keys = eq < 0 ? [] : s.slice(0, eq).split('::');
  if (eq <= 0 || keys.some((k) => k.trim() === '')) {
    throw new ConfigError([{ path: '', message: `--set ${s}: write --set key::subkey=value, e.g. --set exporters::worm::directory=/data` }]);
  }
  return nest(keys, parseConfigText(s.slice(eq + 1), `--set ${s}`));
}

function nest(keys: string[], value: unknown): unknown {
  let v = value;
  for (let i = keys.length - 1; i >= 0; i--) {
    const o: Record<string, unknown> = {};
    Object.defineProperty(o, keys[i], { value: v, enumerable: true, writable: true, configurable: true });
    v = o;
  }
  return v;
}
