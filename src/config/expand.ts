// ${env:VAR} and ${env:VAR:-default} expansion, as the Collector's env provider
// does it: applied to string values after YAML parsing; `$$` escapes a dollar.
// `${VAR}` is the same as `${env:VAR}`: env is the Collector's default scheme.
// A value that is exactly one reference takes the YAML type of what it expands
// to (so `port: ${env:PORT}` is a number), like the Collector.
import { parse as parseYaml } from 'yaml';
import { ConfigError, type ConfigIssue, joinPath } from './errors.js';

const REF = /\$\$|\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{([^}]*)\}/g;

export function expandEnv(value: unknown, env: NodeJS.ProcessEnv = process.env): unknown {
  const issues: ConfigIssue[] = [];
  const out = walk(value, '', env, issues, new Set());
  if (issues.length > 0) throw new ConfigError(issues);
  return out;
}

/** Deeper than any real config: what is below is refused rather than risking the stack. */
const MAX_DEPTH = 64;

/** `ancestors`: the maps and lists above v, to catch a YAML alias that refers to its own anchor (a cycle). */
function walk(v: unknown, path: string, env: NodeJS.ProcessEnv, issues: ConfigIssue[], ancestors: Set<object>): unknown {
  if (typeof v === 'string') return expandString(v, path, env, issues);
  if (!v || typeof v !== 'object') return v;
  if (ancestors.has(v)) {
    issues.push({ path, message: 'refers to itself (a YAML alias inside its own anchor): write the value out instead' });
    return undefined;
  }
  if (ancestors.size >= MAX_DEPTH) {
    issues.push({ path, message: `nested more than ${MAX_DEPTH} levels deep` });
    return undefined;
  }
  ancestors.add(v);
  try {
    if (Array.isArray(v)) return v.map((e, i) => walk(e, joinPath(path, i), env, issues, ancestors));
    // fromEntries defines own keys: a `__proto__` key stays a key (and is reported as unknown), never a prototype.
    return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, walk(e, joinPath(path, k), env, issues, ancestors)]));
  } finally {
    ancestors.delete(v);
  }
}

function expandString(s: string, path: string, env: NodeJS.ProcessEnv, issues: ConfigIssue[]): unknown {
  if (!s.includes('$')) return s;
  let whole = false;
  const expanded = s.replace(REF, (m, name: string | undefined, def: string | undefined, other: string | undefined, offset: number) => {
    if (m === '$$') return '$';
    if (other !== undefined) {
      issues.push({ path, message: `unsupported reference "${m}": use \${NAME}, \${env:NAME} or \${env:NAME:-default} (Vigil reads no other scheme)` });
      return m;
    }
    const val = env[name!];
    if (val === undefined || val === '') {
      if (def !== undefined) return def;
      issues.push({ path, message: `environment variable ${name} is not set: export it or write \${env:${name}:-default}` });
      return '';
    }
    if (offset === 0 && m.length === s.length) whole = true;
    return val;
  });
  if (!whole && !(s.startsWith('${') && s.endsWith('}') && s.indexOf('${', 1) < 0)) return expanded;
  try {
    const typed: unknown = parseYaml(expanded);
    return typed === null || typeof typed === 'object' ? expanded : typed;
  } catch {
    return expanded;
  }
}
