// JSON access-log objects (a JSON string body, or a kvlist body such as pino
// sends): the usual field names of nginx/Apache JSON formats, Caddy, Traefik,
// pino-http, Google Cloud's httpRequest and ECS, tried in order, first hit wins.
// A path like `request.headers.User-Agent` is looked up as one flat key first,
// then by walking nested objects; header arrays give their first value.
import type { AccessFields, BodyParse, DurationUnit } from './fields.js';
import {
  applyTarget, isAddress, normaliseAction, normaliseOutcome, parseDuration, parseRequestLine, parseTimestamp, splitHostPort, validStatus,
} from './fields.js';
import { parseClf } from './clf.js';

export type JsonObject = { [key: string]: unknown };

interface Path {
  flat: string;
  parts: string[];
}

const paths = (...names: string[]): Path[] => names.map((flat) => ({ flat, parts: flat.split('.') }));

const METHOD = paths('method', 'verb', 'request.method', 'RequestMethod', 'request_method', 'req.method', 'http.request.method', 'http.method', 'httpRequest.requestMethod');
const PATH = paths('path', 'uri', 'url', 'request_uri', 'request.uri', 'RequestPath', 'req.url', 'url.path', 'url.original', 'httpRequest.requestUrl');
const REQUEST_LINE = paths('request');
const STATUS = paths('status', 'status_code', 'statusCode', 'response', 'DownstreamStatus', 'res.statusCode', 'response.status', 'response_status', 'http.response.status_code', 'http.status_code', 'httpRequest.status');
const SIZE = paths('body_bytes_sent', 'DownstreamContentSize', 'size', 'bytes', 'bytes_sent', 'response_size', 'responseSize', 'http.response.body.size', 'http.response.body.bytes', 'httpRequest.responseSize');
const USER_AGENT = paths('user_agent', 'http_user_agent', 'userAgent', 'agent', 'request.headers.User-Agent', 'request.headers.user-agent', 'request_User-Agent', 'req.headers.user-agent', 'headers.User-Agent', 'headers.user-agent', 'user_agent.original', 'httpRequest.userAgent');
const USER = paths('user', 'username', 'user_name', 'user_id', 'userId', 'remote_user', 'user.name', 'user.id', 'ClientUsername', 'enduser.id');
const CLIENT = paths('client_ip', 'clientip', 'clientIp', 'ip', 'remote_addr', 'remote_ip', 'ClientHost', 'ClientAddr', 'request.client_ip', 'request.remote_ip', 'req.remoteAddress', 'remoteAddress', 'client.address', 'client.ip', 'source.ip', 'httpRequest.remoteIp');
const TIME = paths('time', 'timestamp', '@timestamp', 'ts', 'StartUTC', 'time_local', 'time_iso8601', 'datetime', 'date');
const SESSION = paths('session', 'session_id', 'sessionId', 'sid', 'session.id');
const ROUTE = paths('route', 'http.route');
const PROTOCOL = paths('proto', 'protocol', 'server_protocol', 'request.proto', 'RequestProtocol', 'httpRequest.protocol');
const HOST = paths('request.host', 'RequestHost', 'http_host', 'host', 'server_name', 'vhost', 'server.address');
const REFERER = paths('referer', 'referrer', 'http_referer', 'request.headers.Referer', 'request.headers.referer', 'request_Referer', 'req.headers.referer', 'httpRequest.referer');
const OUTCOME = paths('outcome', 'event.outcome', 'result', 'success');
const ACTION = paths('event.action', 'action', 'event');
const MESSAGE = paths('message', 'msg', 'log');

/**
 * Duration fields and their unit. `rule` is the configurable unit of a bare
 * number in `duration` / `latency` (Caddy and zap write seconds); a string with
 * a unit (`1.5ms`, `0.2s`) is read with that unit whatever the field.
 */
const DURATION: [Path, DurationUnit | 'rule'][] = [
  ['duration_ms', 'ms'], ['latency_ms', 'ms'], ['elapsed_ms', 'ms'], ['took_ms', 'ms'], ['responseTime', 'ms'],
  ['request_time', 's'], ['http.server.request.duration', 's'],
  ['duration', 'rule'], ['latency', 'rule'], ['httpRequest.latency', 's'],
  ['Duration', 'ns'], ['event.duration', 'ns'],
].map(([p, u]) => [paths(p)[0], u as DurationUnit | 'rule']);

export interface JsonOptions {
  /** Unit of a bare number in `duration` / `latency`. */
  durationUnit: DurationUnit;
}

function lookup(obj: JsonObject, p: Path): unknown {
  if (Object.hasOwn(obj, p.flat)) return obj[p.flat];
  if (p.parts.length === 1) return undefined;
  let cur: unknown = obj;
  for (const part of p.parts) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as JsonObject)[part];
  }
  return cur;
}

/** A non-empty string (numbers stringified, header arrays → first element); `-` counts as empty. */
function str(v: unknown): string | undefined {
  if (Array.isArray(v)) v = v[0];
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  return s === '' || s === '-' ? undefined : s;
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && /^\d+(?:\.\d+)?$/.test(v)) return Number(v);
  return undefined;
}

function first<T>(obj: JsonObject, candidates: Path[], read: (v: unknown) => T | undefined): T | undefined {
  for (const p of candidates) {
    const v = lookup(obj, p);
    if (v === undefined || v === null) continue;
    const r = read(v);
    if (r !== undefined) return r;
  }
  return undefined;
}

/** Maps a parsed JSON object to access fields. */
export function mapJsonObject(obj: JsonObject, opts: JsonOptions): BodyParse {
  const f: AccessFields = {};

  const method = first(obj, METHOD, str);
  if (method !== undefined) f.method = method;
  const target = first(obj, PATH, str);
  if (target !== undefined) applyTarget(f, target);
  const requestLine = first(obj, REQUEST_LINE, str);
  if (requestLine !== undefined) {
    const r = parseRequestLine(requestLine);
    if (r) {
      f.method ??= r.method;
      if (r.protocol !== undefined) f.protocol = r.protocol;
      if (f.target === undefined) applyTarget(f, r.target);
    } else if (f.target === undefined && requestLine.startsWith('/')) {
      applyTarget(f, requestLine);
    }
  }
  const status = first(obj, STATUS, num);
  if (status !== undefined && validStatus(status)) f.status = status;
  const size = first(obj, SIZE, num);
  if (size !== undefined && Number.isInteger(size)) f.size = size;
  for (const [p, unit] of DURATION) {
    const v = lookup(obj, p);
    if (v === undefined || v === null) continue;
    const d = parseDuration(v, unit === 'rule' ? opts.durationUnit : unit);
    if (d !== undefined) {
      f.durationS = d;
      break;
    }
  }
  const ua = first(obj, USER_AGENT, str);
  if (ua !== undefined) f.userAgent = ua;
  const user = first(obj, USER, str);
  if (user !== undefined) f.user = user;
  const client = first(obj, CLIENT, (v) => {
    const s = str(v);
    if (s === undefined) return undefined;
    const hp = splitHostPort(s);
    return isAddress(hp.host) ? hp : undefined;
  });
  if (client !== undefined) {
    f.client = client.host;
    if (client.port !== undefined) f.clientPort = client.port;
  }
  const time = first(obj, TIME, parseTimestamp);
  if (time !== undefined) f.timeMs = time;
  const session = first(obj, SESSION, str);
  if (session !== undefined) f.session = session;
  const route = first(obj, ROUTE, str);
  if (route !== undefined) f.route = route;
  const protocol = first(obj, PROTOCOL, str);
  if (protocol !== undefined && f.protocol === undefined && protocol.includes('/')) f.protocol = protocol;
  const host = first(obj, HOST, (v) => {
    const s = str(v);
    if (s === undefined) return undefined;
    const hp = splitHostPort(s);
    return isAddress(hp.host) ? hp : undefined;
  });
  if (host !== undefined) {
    f.serverAddress = host.host;
    if (host.port !== undefined) f.serverPort = host.port;
  }
  const referer = first(obj, REFERER, str);
  if (referer !== undefined) f.referer = referer;
  const outcome = first(obj, OUTCOME, normaliseOutcome);
  if (outcome !== undefined) f.outcome = outcome;
  const action = first(obj, ACTION, normaliseAction);
  if (action !== undefined) f.action = action;

  const http = f.method !== undefined || f.path !== undefined || f.status !== undefined;
  if (!http) {
    // A wrapper (Docker's {"log": …}, journald/syslog JSON) around a text access-log line.
    const message = first(obj, MESSAGE, (v) => (typeof v === 'string' ? v : undefined));
    if (message !== undefined) {
      const inner = parseClf(message);
      if (inner) {
        for (const [k, v] of Object.entries(f) as [keyof AccessFields, never][]) if (inner.fields[k] === undefined) inner.fields[k] = v;
        return inner;
      }
    }
  }
  if (f.method !== undefined && f.path !== undefined && f.status !== undefined) return { status: 'ok', fields: f };
  if (http || f.client !== undefined || f.user !== undefined || f.outcome !== undefined || f.action !== undefined) {
    return { status: 'partial', fields: f, issue: missing(f) };
  }
  return { status: 'unparsed', fields: f, issue: 'JSON body has no access-log fields' };
}

function missing(f: AccessFields): string {
  const m: string[] = [];
  if (f.method === undefined) m.push('method');
  if (f.path === undefined) m.push('path');
  if (f.status === undefined) m.push('status');
  return `JSON body lacks ${m.join(', ')}`;
}

/** Parses a JSON text body; undefined when it is not a JSON object. */
export function parseJsonText(text: string, opts: JsonOptions): BodyParse | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  return mapJsonObject(parsed as JsonObject, opts);
}
