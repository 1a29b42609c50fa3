// ${env:VAR} and ${env:VAR:-default} expansion, as the Collector's env provider
// does it: applied to string values after YAML parsing; `$$` escapes a dollar.
// A value that is exactly one reference takes the YAML type of what it expands
// to (so `port: ${env:PORT}` is a number), like the Collector.
import { parse as parseYaml } from 'yaml';
import { ConfigError, type ConfigIssue, joinPath } from './errors.js';

const REF = /\$\$|\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{([^}]*)\}/g;

export function expandEnv(value: unknown, env: NodeJS.ProcessEnv = process.env): unknown {
  const issues: ConfigIssue[] = [];
  const out = walk(value, '', env, issues);
  if (issues.length > 0) throw new ConfigError(issues);
  return out;
}

function walk(v: unknown, path: string, env: NodeJS.ProcessEnv, issues: ConfigIssue[]): unknown {
  if (typeof v === 'string') return expandString(v, path, env, issues);
  if (Array.isArray(v)) return v.map((e, i) => walk(e, joinPath(path, i), env, issues));
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(v)) o[k] = walk(e, joinPath(path, k), env, issues);
    return o;
  }
  return v;
}

function expandString(s: string, path: string, env: NodeJS.ProcessEnv, issues: ConfigIssue[]): unknown {
  if (!s.includes('$')) return s;
  let whole = false;
  const expanded = s.replace(REF, (m, name: string | undefined, def: string | undefined, other: string | undefined, offset: number) => {
    if (m === '$$') return '$';
    if (other !== undefined) {
      issues.push({ path, message: `unsupported reference "${m}": use \${env:NAME} or \${env:NAME:-default}` });
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
  if (!whole && !(s.startsWith('${env:') && s.endsWith('}') && s.indexOf('${', 1) < 0)) return expanded;
  try {
    const typed: unknown = parseYaml(expanded);
    return typed === null || typeof typed === 'object' ? expanded : typed;
  } catch {
    return expanded;
  }
}
