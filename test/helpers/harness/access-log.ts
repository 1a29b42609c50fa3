// Realistic access-log records (semconv attributes and a Combined Log Format
// body) from a seeded random source: the traffic of the reliability harness,
// which the benchmarks' workload (bench/lib/workload.ts) builds on too.
import type { KeyValue, LogRecord } from '../../../src/pipeline/record.js';
import { millisToNanos } from '../../../src/pipeline/record.js';
import { Rng } from '../../../src/simulate/rng.js';

const ROUTES = ['/api/orders', '/api/orders/{id}', '/api/cart', '/login', '/static/app.js', '/api/search', '/admin/users', '/health'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'GET', 'PUT', 'DELETE'];
const STATUSES = [200, 200, 200, 200, 201, 204, 301, 304, 400, 401, 403, 404, 429, 500, 503];
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36', 'curl/8.5.0', 'okhttp/4.12.0'];

/** A deterministic random source in [0, 1) for a seed: the same seed, the same traffic. */
export function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

/** A string attribute. */
export function s(key: string, v: string): KeyValue {
  return { key, value: { stringValue: v } };
}
function i(key: string, v: number): KeyValue {
  return { key, value: { intValue: v } };
}

export function accessLogRecord(r: () => number, timeMs: number): LogRecord {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const user = `user${Math.floor(r() * 5000)}`;
  const ip = `203.0.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`;
  const route = pick(ROUTES);
  const path = route.replace('{id}', String(Math.floor(r() * 100000)));
  const method = pick(METHODS);
  const status = pick(STATUSES);
  const bytes = Math.floor(r() * 50000);
  const agent = pick(AGENTS);
  const ts = new Date(timeMs);
  const clf = `${ip} - ${user} [${ts.toISOString()}] "${method} ${path} HTTP/1.1" ${status} ${bytes} "-" "${agent}"`;
  return {
    timeUnixNano: millisToNanos(timeMs),
    observedTimeUnixNano: millisToNanos(timeMs + 3),
    severityNumber: status >= 500 ? 17 : 9,
    severityText: status >= 500 ? 'ERROR' : 'INFO',
    body: { stringValue: clf },
    attributes: [
      s('http.request.method', method),
      s('url.path', path),
      s('http.route', route),
      i('http.response.status_code', status),
      s('client.address', ip),
      s('user.id', user),
      s('user_agent.original', agent),
      { key: 'http.server.request.duration', value: { doubleValue: Math.round(r() * 2000) / 1000 } },
      i('http.response.body.size', bytes),
    ],
    traceId: Uint8Array.from({ length: 16 }, () => Math.floor(r() * 256)),
    spanId: Uint8Array.from({ length: 8 }, () => Math.floor(r() * 256)),
    flags: 1,
  };
}
