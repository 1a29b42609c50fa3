// The audit rules, as pure functions of the merged access fields:
//   outcome  — an explicit outcome field, else the first matching configured rule, else the status class;
//   action   — an explicit login/logout, else login/logout routes, else the method (read/create/update/delete);
//   resource — the route when known, else the path with id-like segments collapsed.
import type { AuditConfig } from './config.js';
import type { Outcome } from './fields.js';

export interface RuleInput {
  method?: string;
  path?: string;
  route?: string;
  status?: number;
  /** An outcome the source stated explicitly. */
  outcome?: Outcome;
  /** An action the source stated explicitly (login, logout). */
  action?: string;
}

type StatusTest = (status: number) => boolean;

export interface CompiledRules {
  failure: StatusTest;
  outcomeRules: { route?: string; methods?: ReadonlySet<string>; statuses?: StatusTest; outcome: Outcome }[];
  loginRoutes: RegExp | undefined;
  logoutRoutes: RegExp | undefined;
  loginMethods: ReadonlySet<string>;
  collapseIds: boolean;
  placeholder: string;
  idPattern: RegExp | undefined;
}

/** `401`, `4xx`, `500-599` → a test. */
export function statusTest(patterns: readonly string[]): StatusTest {
  const tests = patterns.map((p): StatusTest => {
    if (/^\d(?:xx|XX)$/.test(p)) {
      const cls = Number(p[0]);
      return (s) => Math.floor(s / 100) === cls;
    }
    const dash = p.indexOf('-');
    if (dash > 0) {
      const lo = Number(p.slice(0, dash));
      const hi = Number(p.slice(dash + 1));
      return (s) => s >= lo && s <= hi;
    }
    const code = Number(p);
    return (s) => s === code;
  });
  // A loop, not tests.some(t => t(s)): that built a closure per record.
  return (s) => {
    for (let i = 0; i < tests.length; i++) if (tests[i](s)) return true;
    return false;
  };
}

export function compileRules(c: AuditConfig): CompiledRules {
  return {
    failure: statusTest(c.outcome.failure_statuses),
    outcomeRules: c.outcome.rules.map((r) => {
      const rule: CompiledRules['outcomeRules'][number] = { outcome: r.outcome };
      if (r.route !== undefined) rule.route = r.route.toLowerCase();
      if (r.methods !== undefined) rule.methods = new Set(r.methods);
      if (r.statuses !== undefined) rule.statuses = statusTest(r.statuses);
      return rule;
    }),
    loginRoutes: routesRegex(c.action.login_routes),
    logoutRoutes: routesRegex(c.action.logout_routes),
    loginMethods: new Set(c.action.login_methods),
    collapseIds: c.resource.collapse_ids,
    placeholder: c.resource.placeholder,
    idPattern: c.resource.id_patterns.length > 0 ? new RegExp(`^(?:${c.resource.id_patterns.map((p) => `(?:${p})`).join('|')})$`) : undefined,
  };
}

/**
 * Whether a (lower-cased) path contains a route pattern on segment boundaries:
 * `/login` matches `/login`, `/api/v1/login`, `/login/`, `/login.php`, `/login?x`
 * but not `/wp-login.php` or `/logins`.
 */
export function matchesRoute(path: string, pattern: string): boolean {
  let at = path.indexOf(pattern);
  while (at >= 0) {
    const end = at + pattern.length;
    if (end === path.length) return true;
    const c = path.charCodeAt(end);
    if (c === 47 /* / */ || c === 46 /* . */ || c === 63 /* ? */ || c === 59 /* ; */) return true;
    at = path.indexOf(pattern, at + 1);
  }
  return false;
}

/** One case-insensitive regular expression for a list of route patterns, with matchesRoute's semantics on the lower-cased path (one scan per record, not one per pattern). */
export function routesRegex(patterns: readonly string[]): RegExp | undefined {
  if (patterns.length === 0) return undefined;
  const alternatives = patterns.map((p) => p.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`(?:${alternatives.join('|')})(?:$|[/.?;])`, 'i');
}

export function decideOutcome(r: CompiledRules, input: RuleInput): Outcome {
  if (input.outcome !== undefined) return input.outcome;
  const lowerPath = r.outcomeRules.length > 0 ? (input.route ?? input.path)?.toLowerCase() : undefined;
  for (const rule of r.outcomeRules) {
    if (rule.route !== undefined && (lowerPath === undefined || !matchesRoute(lowerPath, rule.route))) continue;
    if (rule.methods !== undefined && (input.method === undefined || !rule.methods.has(input.method.toUpperCase()))) continue;
    if (rule.statuses !== undefined && (input.status === undefined || !rule.statuses(input.status))) continue;
    return rule.outcome;
  }
  if (input.status === undefined) return 'unknown';
  return r.failure(input.status) ? 'failure' : 'success';
}

/** A Map, not an object: a method named `constructor` must not find Object's. */
const METHOD_ACTIONS = new Map<string, string>([
  ['GET', 'read'], ['HEAD', 'read'], ['OPTIONS', 'read'], ['QUERY', 'read'], ['TRACE', 'read'],
  ['POST', 'create'], ['PUT', 'update'], ['PATCH', 'update'], ['DELETE', 'delete'], ['CONNECT', 'connect'],
]);

export function decideAction(r: CompiledRules, input: RuleInput): string {
  if (input.action !== undefined) return input.action;
  const m = input.method;
  const method = m === undefined || METHOD_ACTIONS.has(m) ? m : m.toUpperCase();
  const path = input.route ?? input.path;
  if (path !== undefined) {
    if (r.logoutRoutes?.test(path)) return 'logout';
    if ((method === undefined || r.loginMethods.has(method)) && r.loginRoutes?.test(path)) return 'login';
  }
  if (method === undefined) return 'unknown';
  return METHOD_ACTIONS.get(method) ?? 'other';
}

/** The route when known, else the path with id-like segments replaced by the placeholder. */
export function decideResource(r: CompiledRules, input: RuleInput): string | undefined {
  if (input.route !== undefined) return input.route;
  const path = input.path;
  if (path === undefined || !r.collapseIds) return path;
  const idPattern = r.idPattern;
  let out: string | undefined;
  let copied = 0;
  let start = path.charCodeAt(0) === 47 ? 1 : 0;
  while (start <= path.length) {
    let end = path.indexOf('/', start);
    if (end < 0) end = path.length;
    if (end > start && (isIdSegment(path, start, end) || (idPattern !== undefined && idPattern.test(path.slice(start, end))))) {
      out = (out ?? '') + path.slice(copied, start) + r.placeholder;
      copied = end;
    }
    start = end + 1;
  }
  return out === undefined ? path : out + path.slice(copied);
}

/**
 * Whether path[start, end) identifies one item rather than a kind of resource:
 * all digits, a UUID, 16+ hex digits (object ids, hashes), an opaque token of
 * 20+ letters and digits mixing both, or an e-mail address. One pass over the
 * characters, no allocation (this runs for every segment of every record).
 */
export function isIdSegment(s: string, start: number, end: number): boolean {
  const len = end - start;
  let digits = 0;
  let hex = 0;
  let letters = 0;
  let at = -1;
  let dashes = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      digits++;
      hex++;
    } else if ((c >= 97 && c <= 102) || (c >= 65 && c <= 70)) {
      hex++;
      letters++;
    } else if ((c >= 103 && c <= 122) || (c >= 71 && c <= 90)) {
      letters++;
    } else if (c === 45) {
      dashes++;
    } else if (c === 64) {
      if (at >= 0) return false;
      at = i;
    }
  }
  if (digits === len) return true;
  if (hex === len && len >= 16) return true;
  if (len === 36 && dashes === 4 && hex === 32 && s.charCodeAt(start + 8) === 45 && s.charCodeAt(start + 13) === 45 && s.charCodeAt(start + 18) === 45 && s.charCodeAt(start + 23) === 45) return true;
  if (len >= 20 && digits + letters === len && digits > 0 && letters > 0) return true;
  if (at > start && at < end - 1) {
    const dot = s.indexOf('.', at + 2);
    return dot >= 0 && dot < end - 1;
  }
  return false;
}
