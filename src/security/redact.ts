// Config values that came from the environment are where secrets live
// (`token: ${env:VIGIL_TOKEN}`). A validation message may quote the value it
// is about (`invalid duration "<value>"`): when that value came from the
// environment it is replaced by its reference, so a secret put in the wrong
// place never reaches the terminal or the log.
import type { ConfigIssue } from '../config/errors.js';

const REF = /\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}/g;
/** Shorter values (ports, levels, booleans) are not secrets and would make messages harder to read if replaced. */
export const MIN_REDACTED_LENGTH = 8;
const MAX_DEPTH = 64;

/** Every environment value the raw config refers to (long enough to be a secret), mapped to its reference. */
export function referencedEnvValues(raw: unknown, env: NodeJS.ProcessEnv): Map<string, string> {
  const out = new Map<string, string>();
  const seen = new Set<object>();
  const walk = (v: unknown, depth: number): void => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(REF)) {
        const value = env[m[1]];
        if (value !== undefined && value.length >= MIN_REDACTED_LENGTH) out.set(value, `\${env:${m[1]}}`);
      }
      return;
    }
    if (!v || typeof v !== 'object' || depth > MAX_DEPTH || seen.has(v)) return;
    seen.add(v);
    for (const e of Array.isArray(v) ? v : Object.values(v)) walk(e, depth + 1);
  };
  walk(raw, 0);
  return out;
}

/** The issues with every referenced value (also as it appears inside JSON quotes) replaced by its reference. */
export function redactIssues(issues: ConfigIssue[], values: Map<string, string>): ConfigIssue[] {
  if (values.size === 0) return issues;
  // Longest first, so a value containing another is replaced whole.
  const pairs = [...values].sort((a, b) => b[0].length - a[0].length);
  const redact = (s: string): string => {
    let r = s;
    for (const [value, ref] of pairs) {
      r = r.split(value).join(ref);
      const escaped = JSON.stringify(value).slice(1, -1);
      if (escaped !== value) r = r.split(escaped).join(ref);
    }
    return r;
  };
  return issues.map((i) => ({ path: i.path, message: redact(i.message) }));
}

/**
 * A URL fit for a banner or a log line: credentials in it (`https://user:pass@host`)
 * and query values (`?api_key=…`) are replaced by `***`.
 */
export function redactUrl(url: URL): string {
  const u = new URL(url.href);
  if (u.username) u.username = '***';
  if (u.password) u.password = '***';
  for (const key of [...new Set(u.searchParams.keys())]) u.searchParams.set(key, '***');
  return u.href;
}
