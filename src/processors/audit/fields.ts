// What the body parsers (CLF, JSON, error logs) extract from one access-log
// record, before it becomes semantic-convention attributes; and the small pure
// helpers they share (request line, target, addresses, times, durations).
import { isIP } from 'node:net';
import { Long, millisToNanos } from '../../pipeline/record.js';

export type ParseStatus = 'ok' | 'partial' | 'unparsed';
export type Outcome = 'success' | 'failure' | 'unknown';

export interface AccessFields {
  method?: string;
  /** Request target as sent (origin-form path?query, absolute URL, `*`, host:port). */
  target?: string;
  path?: string;
  query?: string;
  /** Set for absolute-form targets only. */
  fullUrl?: string;
  route?: string;
  /** `HTTP/1.1` as written. */
  protocol?: string;
  status?: number;
  /** Response body bytes. */
  size?: number;
  /** Request duration in seconds. */
  durationS?: number;
  user?: string;
  client?: string;
  clientPort?: number;
  session?: string;
  userAgent?: string;
  referer?: string;
  serverAddress?: string;
  serverPort?: number;
  /** Event time, ms since the epoch (UTC). */
  timeMs?: number;
  /** An explicit outcome the source stated (JSON `outcome`, an error log's "user not found"). */
  outcome?: Outcome;
  /** An explicit action the source stated (`login`, `logout`). */
  action?: string;
}

export interface BodyParse {
  status: ParseStatus;
  fields: AccessFields;
  /** Why the parse is partial or unparsed, for `audit.parse_issue`. */
  issue?: string;
}

// ---- HTTP ---------------------------------------------------------------------

/** The methods semantic conventions call known; any other goes out as `_OTHER` with the original kept. */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE', 'QUERY',
]);

const METHOD_RE = /^[A-Za-z][A-Za-z_-]{0,31}$/;
const PROTOCOL_RE = /^HTTP\/\d(?:\.\d)?$/;

/** `METHOD target [HTTP/x.y]` → parts, or undefined when the text is not a request line (binary junk, `-`). */
export function parseRequestLine(line: string): { method: string; target: string; protocol?: string } | undefined {
  const sp1 = line.indexOf(' ');
  if (sp1 <= 0) return undefined;
  const method = line.slice(0, sp1);
  if (!METHOD_RE.test(method)) return undefined;
  let rest = line.slice(sp1 + 1).trim();
  let protocol: string | undefined;
  const sp2 = rest.lastIndexOf(' ');
  if (sp2 >= 0) {
    const last = rest.slice(sp2 + 1);
    if (PROTOCOL_RE.test(last)) {
      protocol = last;
      rest = rest.slice(0, sp2).trimEnd();
    }
  } else if (PROTOCOL_RE.test(rest)) {
    return undefined; // `GET HTTP/1.1`: no target
  }
  if (rest === '') return undefined;
  return protocol === undefined ? { method, target: rest } : { method, target: rest, protocol };
}

/** Fills path / query / fullUrl from a request target or URL. */
export function applyTarget(f: AccessFields, target: string): void {
  f.target = target;
  let pathAndQuery = target;
  const scheme = target.indexOf('://');
  if (scheme > 0 && scheme < 10 && /^[A-Za-z][A-Za-z0-9+.-]*$/.test(target.slice(0, scheme))) {
    f.fullUrl = target;
    const slash = target.indexOf('/', scheme + 3);
    const q = target.indexOf('?', scheme + 3);
    const start = slash >= 0 && (q < 0 || slash < q) ? slash : q;
    pathAndQuery = start >= 0 ? target.slice(start) : '/';
    if (pathAndQuery.startsWith('?')) pathAndQuery = `/${pathAndQuery}`;
  }
  const hash = pathAndQuery.indexOf('#');
  if (hash >= 0) pathAndQuery = pathAndQuery.slice(0, hash);
  const q = pathAndQuery.indexOf('?');
  if (q >= 0) {
    f.path = pathAndQuery.slice(0, q);
    const query = pathAndQuery.slice(q + 1);
    if (query !== '') f.query = query;
  } else {
    f.path = pathAndQuery;
  }
}

/** `HTTP/1.1` → { name: 'http', version: '1.1' }. */
export function splitProtocol(p: string): { name: string; version?: string } | undefined {
  const slash = p.indexOf('/');
  if (slash <= 0) return undefined;
  const name = p.slice(0, slash).toLowerCase();
  const version = p.slice(slash + 1);
  return version === '' ? { name } : { name, version };
}

export function validStatus(n: number): boolean {
  return Number.isInteger(n) && n >= 100 && n <= 999;
}

// ---- addresses ------------------------------------------------------------------

const HOSTNAME_RE = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})$/;

/** A client or server address as logged: an IP literal or a host name (never resolved). */
export function isAddress(s: string): boolean {
  return isIP(s) !== 0 || HOSTNAME_RE.test(s);
}

/**
 * Splits `1.2.3.4:5678`, `[::1]:80`, `host:443` into address and port; a bare
 * IPv6 address (several colons, no brackets) has no port.
 */
export function splitHostPort(s: string): { host: string; port?: number } {
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close > 0) {
      const host = s.slice(1, close);
      const port = s.charCodeAt(close + 1) === 58 ? toPort(s.slice(close + 2)) : undefined;
      return port === undefined ? { host } : { host, port };
    }
    return { host: s };
  }
  const colon = s.indexOf(':');
  if (colon > 0 && colon === s.lastIndexOf(':')) {
    const port = toPort(s.slice(colon + 1));
    if (port !== undefined) return { host: s.slice(0, colon), port };
  }
  return { host: s };
}

function toPort(s: string): number | undefined {
  if (!/^\d{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}

// ---- time -----------------------------------------------------------------------

const MONTHS: Record<string, number> = {
  jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11,
};

/** UTC ms of a civil time with a ±hhmm offset, or undefined when a part is out of range. */
export function civilToMillis(
  year: number, monthName: string, day: number, h: number, m: number, s: number, fracMs: number, sign: number, offH: number, offM: number,
): number | undefined {
  const month = MONTHS[monthName.toLowerCase()];
  if (month === undefined) return undefined;
  return civilIndexToMillis(year, month, day, h, m, s, fracMs, sign, offH, offM);
}

function civilIndexToMillis(
  year: number, month: number, day: number, h: number, m: number, s: number, fracMs: number, sign: number, offH: number, offM: number,
): number | undefined {
  if (day < 1 || day > 31 || h > 23 || m > 59 || s > 60 || offH > 23 || offM > 59) return undefined;
  return Date.UTC(year, month, day, h, m, s) + fracMs - sign * (offH * 60 + offM) * 60_000;
}

/** Month index by its three letters, case-insensitive, packed as a number (no substring per record). */
const MONTH_CODES = new Map<number, number>(Object.entries(MONTHS).map(([name, i]) => [(name.charCodeAt(0) << 16) | (name.charCodeAt(1) << 8) | name.charCodeAt(2), i]));

function digits2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * The common fixed-width form `[dd/Mon/yyyy:hh:mm:ss ±hhmm]` read at `i` (the
 * `[`) without a regular expression or substrings: the time in UTC ms, NaN for
 * an impossible date, or undefined when the text there is not of that form.
 */
export function fixedClfTimeAt(s: string, i: number): number | undefined {
  if (i + 28 > s.length || s.charCodeAt(i + 27) !== 93 /* ] */) return undefined;
  if (s.charCodeAt(i + 3) !== 47 || s.charCodeAt(i + 7) !== 47 || s.charCodeAt(i + 12) !== 58 || s.charCodeAt(i + 15) !== 58 || s.charCodeAt(i + 18) !== 58 || s.charCodeAt(i + 21) !== 32) return undefined;
  const day = digits2(s, i + 1);
  const y1 = digits2(s, i + 8);
  const y2 = digits2(s, i + 10);
  const h = digits2(s, i + 13);
  const m = digits2(s, i + 16);
  const sec = digits2(s, i + 19);
  const oh = digits2(s, i + 23);
  const om = digits2(s, i + 25);
  const signChar = s.charCodeAt(i + 22);
  if ((day | y1 | y2 | h | m | sec | oh | om) < 0 || (signChar !== 43 && signChar !== 45)) return undefined;
  const month = MONTH_CODES.get(((s.charCodeAt(i + 4) | 32) << 16) | ((s.charCodeAt(i + 5) | 32) << 8) | (s.charCodeAt(i + 6) | 32));
  if (month === undefined) return NaN;
  return civilIndexToMillis(y1 * 100 + y2, month, day, h, m, sec, 0, signChar === 45 ? -1 : 1, oh, om) ?? NaN;
}

const CLF_TIME_RE = /^(\d{2})\/([A-Za-z]{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))? ([+-])(\d{2}):?(\d{2})$/;

/** `17/May/2015:10:05:03 +0000` (Apache/nginx `$time_local`) → UTC ms. */
export function parseClfTime(s: string): number | undefined {
  const m = CLF_TIME_RE.exec(s);
  if (!m) return undefined;
  return civilToMillis(+m[3], m[2], +m[1], +m[4], +m[5], +m[6], m[7] ? fractionMs(m[7]) : 0, m[8] === '-' ? -1 : 1, +m[9], +m[10]);
}

export function fractionMs(digits: string): number {
  return Number(`0.${digits}`) * 1000;
}

const ISO_RE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/;

/**
 * A timestamp as JSON logs write it: ISO 8601 (a zone is required, else the
 * time is ambiguous and ignored), `$time_local`, or epoch seconds / ms / µs / ns
 * told apart by magnitude.
 */
export function parseTimestamp(v: unknown): number | undefined {
  if (typeof v === 'number') return epochToMillis(v);
  if (typeof v !== 'string' || v.length > 64) return undefined;
  if (/^\d+(?:\.\d+)?$/.test(v)) return epochToMillis(Number(v));
  if (ISO_RE.test(v)) {
    if (!/(?:Z|[+-]\d{2}:?\d{2})$/i.test(v)) return undefined;
    const ms = Date.parse(v.replace(' ', 'T'));
    return Number.isFinite(ms) ? ms : undefined;
  }
  return parseClfTime(v);
}

/** Epoch numbers before 1980 are not access-log times (a `time` field holding a duration, say). */
const EARLIEST_EPOCH_MS = Date.UTC(1980, 0, 1);

function epochToMillis(n: number): number | undefined {
  if (!Number.isFinite(n) || n <= 0) return undefined;
  let ms: number;
  if (n < 1e11) ms = n * 1000; // seconds (until year 5138)
  else if (n < 1e14) ms = n; // ms
  else if (n < 1e17) ms = n / 1000; // µs
  else ms = n / 1e6; // ns
  return ms >= EARLIEST_EPOCH_MS ? ms : undefined;
}

// ---- durations ------------------------------------------------------------------

export type DurationUnit = 'ns' | 'us' | 'ms' | 's';
const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, 'μs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
const GO_DURATION_PART = /(\d+(?:\.\d+)?)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * A duration in seconds: a number in the given unit, a numeric string in that
 * unit, or a string with its own unit (`1.5ms`, `350µs`, Go's `1m2.5s`).
 */
export function parseDuration(v: unknown, unit: DurationUnit): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v * UNIT_SECONDS[unit] : undefined;
  if (typeof v !== 'string' || v === '' || v.length > 40) return undefined;
  if (/^\d+(?:\.\d+)?$/.test(v)) return Number(v) * UNIT_SECONDS[unit];
  let total = 0;
  GO_DURATION_PART.lastIndex = 0;
  while (GO_DURATION_PART.lastIndex < v.length) {
    const at = GO_DURATION_PART.lastIndex;
    const m = GO_DURATION_PART.exec(v);
    if (!m || m.index !== at) return undefined;
    total += Number(m[1]) * UNIT_SECONDS[m[2]];
  }
  return total;
}

// ---- outcome --------------------------------------------------------------------

const SUCCESS_WORDS = new Set(['success', 'succeeded', 'successful', 'ok', 'allow', 'allowed', 'accepted', 'pass', 'passed', 'true']);
const FAILURE_WORDS = new Set(['failure', 'failed', 'fail', 'error', 'denied', 'deny', 'rejected', 'blocked', 'forbidden', 'unauthorized', 'false']);

/** An explicit outcome value (`success`, `failed`, `denied`, true/false) → audit outcome. */
export function normaliseOutcome(v: unknown): Outcome | undefined {
  if (typeof v === 'boolean') return v ? 'success' : 'failure';
  if (typeof v !== 'string') return undefined;
  const s = v.trim().toLowerCase();
  if (SUCCESS_WORDS.has(s)) return 'success';
  if (FAILURE_WORDS.has(s)) return 'failure';
  if (s === 'unknown') return 'unknown';
  return undefined;
}

const LOGIN_WORDS = new Set(['login', 'logon', 'log_in', 'log-in', 'signin', 'sign_in', 'sign-in', 'authenticate', 'authentication', 'auth']);
const LOGOUT_WORDS = new Set(['logout', 'logoff', 'log_out', 'log-out', 'signout', 'sign_out', 'sign-out']);

/** An explicit action value (`user.login`, `signin`) → `login` / `logout`, else undefined (other actions come from the method). */
export function normaliseAction(v: unknown): string | undefined {
  if (typeof v !== 'string' || v.length > 64) return undefined;
  const s = v.trim().toLowerCase();
  const last = s.slice(s.lastIndexOf('.') + 1);
  if (LOGIN_WORDS.has(s) || LOGIN_WORDS.has(last)) return 'login';
  if (LOGOUT_WORDS.has(s) || LOGOUT_WORDS.has(last)) return 'logout';
  return undefined;
}

// ---- 64-bit nanoseconds ---------------------------------------------------------

/**
 * Milliseconds (possibly fractional, positive) to an unsigned 64-bit nanosecond
 * Long, computed in exact double arithmetic on 32-bit halves: one allocation
 * instead of the several a Long multiply and add make (this runs per record).
 */
export function millisToNanosLong(ms: number): Long {
  if (!(ms > 0) || !Number.isFinite(ms) || ms >= 1.8e13) return millisToNanos(ms);
  const whole = Math.floor(ms);
  const frac = Math.round((ms - whole) * 1e6);
  const a = Math.floor(whole / 2097152); // whole = a·2^21 + b
  const b = whole - a * 2097152;
  const x = a * 1e6; // ns = x·2^21 + y
  const y = b * 1e6 + frac;
  let lo = (x % 2048) * 2097152 + y; // < 2^32 + 2^42: exact
  let hi = Math.floor(x / 2048);
  const carry = Math.floor(lo / 4294967296);
  lo -= carry * 4294967296;
  hi += carry;
  return Long.fromBits(lo | 0, hi | 0, true);
}
