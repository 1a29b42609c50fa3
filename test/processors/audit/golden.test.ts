// Pins every output of the audit processor on a fixed, varied workload, so that
// speed work on it cannot change what it writes: the records' attributes (names,
// values, order), bodies, times and dropped counts, whether each record may
// still be spliced from its bytes (the rewritten marks the wire encoder reads),
// the spliced batch and one-record encodings, and the processor's counters.
// Each (config, workload) pair is reduced to a SHA-256 recorded from the code
// before that work began; a change to any output changes a digest. The splice
// check (VIGIL_CHECK_SPLICE) is on throughout, so a change made in place without
// a mark fails here too. The corpus part reads ../shared/corpora and skips
// cleanly when it is absent.
//
// If a digest changes on purpose (a deliberate change to what the processor
// writes), say so in the commit and record the new digests printed on failure.
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import Long from 'long';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeProtobufRequest, encodeBatchProtobuf, encodeProtobufRequest, encodeRecordRequest, type ExportRequestMessage, requestToBatch } from '../../../src/otlp/convert.js';
import { decodeProtobufBatch } from '../../../src/otlp/wire-decode.js';
import { setSpliceCheck } from '../../../src/otlp/wire-encode.js';
import { spliceableAttributes } from '../../../src/otlp/wire-frame.js';
import type { AnyValue, KeyValue, LogBatch, LogRecord, VigilRecord } from '../../../src/pipeline/record.js';
import { millisToNanos } from '../../../src/pipeline/record.js';
import { auditConfigSchema } from '../../../src/processors/audit/config.js';
import { AuditProcessor, buildSettings } from '../../../src/processors/audit/processor.js';
import { Rng } from '../../../src/simulate/rng.js';
import { Telemetry } from '../../../src/telemetry/metrics.js';
import { accessLogRecord, rng } from '../../helpers/harness/access-log.js';
import { CORPORA, corpusLines, haveCorpora } from './corpora.js';

const NOW = Date.UTC(2026, 11, 4, 9, 30, 0, 123);
const KEY = 'golden-key-0123456789abcdef0123456789abcdef';
const OLD_KEY = 'golden-old-key-0123456789abcdef0123456789ab';
const ENV = { GOLDEN_KEY: KEY, GOLDEN_OLD_KEY: OLD_KEY };

const CONFIGS: Record<string, unknown> = {
  default: {},
  pseudonymised: { pseudonymisation: { key_env: 'GOLDEN_KEY' } },
  'pseudonymised, rotating, truncated, body kept': {
    pseudonymisation: { key_env: 'GOLDEN_KEY', previous_key_env: 'GOLDEN_OLD_KEY', previous_until: '2027-01-01', ip_truncation: '/24 /48', body: 'keep', attributes: ['client.address', 'user.id'] },
  },
  'tight limits, rules, no geo, no ocsf': {
    environment: 'staging',
    skip_enriched: false,
    parse: { max_body_size: 300, duration_unit: 'ms' },
    limits: { max_value_length: 64, max_attributes: 16, max_depth: 2 },
    outcome: { failure_statuses: ['5xx', 401], rules: [{ route: '/health', outcome: 'unknown' }, { route: '/login', methods: ['POST'], statuses: ['200-299'], outcome: 'success' }] },
    action: { login_routes: ['/auth'], logout_routes: ['/bye'] },
    resource: { collapse_ids: true, placeholder: ':id', id_patterns: ['^[a-z]{3}-\\d+$'] },
    geo: { enabled: false },
    ocsf: { enabled: false },
  },
};

// ---- the workload --------------------------------------------------------------------

const str = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });
const int = (key: string, v: number): KeyValue => ({ key, value: { intValue: v } });

function log(body: AnyValue | undefined, attributes: KeyValue[] = [], extra: Partial<LogRecord> = {}): LogRecord {
  return { timeUnixNano: Long.UZERO, observedTimeUnixNano: millisToNanos(1_764_000_000_000), body, attributes, ...extra } as LogRecord;
}
const text = (t: string, attributes: KeyValue[] = [], extra: Partial<LogRecord> = {}) => log({ stringValue: t }, attributes, extra);
const kvlist = (o: Record<string, AnyValue>): AnyValue => ({ kvlistValue: { values: Object.entries(o).map(([key, value]) => ({ key, value })) } });
const s = (v: string): AnyValue => ({ stringValue: v });

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'PROPFIND', 'get'];
const PATHS = ['/', '/login', '/api/login', '/logout', '/api/orders/12345', '/api/users/550e8400-e29b-41d4-a716-446655440000/cart', '/auth', '/bye', '/health', '/search?q=a%20b&x=1', '/static/app.js', '/files/abc-123/x', '/über/ñ'];
const STATUSES = [200, 201, 204, 301, 304, 400, 401, 403, 404, 429, 500, 502, 503];
const ADDRS = ['203.0.113.7', '198.51.100.23', '2001:db8::1', '8.8.8.8', '81.2.69.142', '2a02:2e0:3fe:1001:302::', '10.0.0.1', '::1', 'not-an-ip', '1.2.3.4:5678', '[2001:db8::2]:443'];
const USERS = ['-', 'alice', 'bob', 'carol@example.com', 'user with space', 'ü', ''];
const AGENTS = ['curl/8.5.0', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36', '-', 'sqlmap/1.7 "quoted" \\ back'];

function clfLines(r: Rng, n: number): LogRecord[] {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r.next() * xs.length)];
  return Array.from({ length: n }, (_, k) => {
    const t = new Date(Date.UTC(2025, 5, 1) + k * 7_919_000);
    const day = String(t.getUTCDate()).padStart(2, '0');
    const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][t.getUTCMonth()];
    const time = `${day}/${mon}/${t.getUTCFullYear()}:${t.toISOString().slice(11, 19)} ${k % 3 === 0 ? '+0000' : '-0700'}`;
    const line = `${pick(ADDRS)} - ${pick(USERS) || '-'} [${time}] "${pick(METHODS)} ${pick(PATHS)} HTTP/${k % 4 === 0 ? '2.0' : '1.1'}" ${pick(STATUSES)} ${k % 5 === 0 ? '-' : Math.floor(r.next() * 90_000)}`;
    const combined = k % 2 === 0 ? `${line} "${k % 4 === 0 ? 'https://example.com/ref?a=1' : '-'}" "${pick(AGENTS).replaceAll('"', '\\"')}"` : line;
    const tail = k % 7 === 0 ? ` ${(r.next() * 3).toFixed(3)}` : '';
    return text(combined + tail, k % 6 === 0 ? [str('service.instance', `i-${k}`)] : []);
  });
}

function jsonBodies(r: Rng, n: number): LogRecord[] {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r.next() * xs.length)];
  const shapes: ((k: number) => unknown)[] = [
    (k) => ({ time: '2025-06-01T10:00:00Z', remote_addr: pick(ADDRS), request: `${pick(METHODS)} ${pick(PATHS)} HTTP/1.1`, status: String(pick(STATUSES)), body_bytes_sent: k * 13, request_time: '0.012', http_referer: '-', http_user_agent: pick(AGENTS), remote_user: pick(USERS) }),
    (k) => ({ level: 'info', ts: 1_748_772_000.5 + k, msg: 'handled request', request: { remote_ip: pick(ADDRS), proto: 'HTTP/2.0', method: pick(METHODS), host: 'shop.example', uri: pick(PATHS), headers: { 'User-Agent': [pick(AGENTS)], Referer: ['https://r.example/'] } }, duration: 0.0042 * k, size: 512, status: pick(STATUSES), user_id: pick(USERS) }),
    (k) => ({ ClientHost: pick(ADDRS), ClientUsername: pick(USERS), DownstreamStatus: pick(STATUSES), RequestMethod: pick(METHODS), RequestPath: pick(PATHS), RequestProtocol: 'HTTP/1.1', RequestHost: 'traefik.local', Duration: 1_234_567 * k, StartUTC: '2025-06-01T10:00:00.123456789Z', DownstreamContentSize: k }),
    (k) => ({ req: { method: pick(METHODS), url: pick(PATHS), remoteAddress: pick(ADDRS), headers: { 'user-agent': pick(AGENTS) } }, res: { statusCode: pick(STATUSES) }, responseTime: k * 3, time: 1_748_772_000_000 + k }),
    (k) => ({ httpRequest: { requestMethod: pick(METHODS), requestUrl: `https://api.example${pick(PATHS)}`, status: pick(STATUSES), remoteIp: pick(ADDRS), latency: `${k * 0.01}s`, userAgent: pick(AGENTS), protocol: 'HTTP/1.1', responseSize: String(k * 100) }, session_id: `sess-${k % 4}` }),
    (k) => ({ '@timestamp': '2025-06-01T10:00:00.000Z', 'event.action': k % 2 ? 'login' : 'logout', 'event.outcome': k % 3 ? 'success' : 'failure', 'user.name': pick(USERS), 'source.ip': pick(ADDRS), 'url.path': pick(PATHS), 'http.request.method': pick(METHODS), 'http.response.status_code': pick(STATUSES), 'event.duration': 12_000_000 }),
    (k) => ({ message: `${pick(ADDRS)} - - [01/Jun/2025:10:00:00 +0000] "GET ${pick(PATHS)} HTTP/1.1" 200 ${k}`, stream: 'stdout' }),
    (k) => ({ method: 'GET', path: '/x', status: 'oops', note: '\u0000nul\u0000', emoji: '😀'.repeat(k % 5), big: 'x'.repeat(k * 40) }),
    () => ({ nothing: 'useful', nested: { deeper: { deepest: [1, 2, { a: null }] } } }),
  ];
  const out: LogRecord[] = [];
  for (let k = 0; k < n; k++) {
    const o = shapes[k % shapes.length](k);
    const t = JSON.stringify(o);
    out.push(text(k % 5 === 0 ? `  ${t}` : t));
  }
  out.push(text('{"method": "GET", "path": "/truncated'), text('{not json at all'), text('{}'), text('[1,2,3]'), text('{"status": 1e400, "method": "GET", "path": "/"}'));
  return out;
}

function semconvOnly(r: Rng, n: number): LogRecord[] {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r.next() * xs.length)];
  const out: LogRecord[] = [];
  for (let k = 0; k < n; k++) {
    const attrs: KeyValue[] = [];
    switch (k % 6) {
      case 0:
        attrs.push(str('http.request.method', pick(METHODS)), str('url.path', pick(PATHS)), int('http.response.status_code', pick(STATUSES)), str('client.address', pick(ADDRS)), str('user.id', pick(USERS)));
        break;
      case 1: // deprecated names
        attrs.push(str('http.method', pick(METHODS)), str('http.target', pick(PATHS)), str('http.status_code', String(pick(STATUSES))), str('http.client_ip', pick(ADDRS)), str('enduser.id', pick(USERS)), str('http.user_agent', pick(AGENTS)), str('net.peer.ip', '192.0.2.1'));
        break;
      case 2:
        attrs.push(str('http.request.method', '_OTHER'), str('http.request.method_original', 'PURGE'), str('url.full', `https://x.example${pick(PATHS)}`), { key: 'http.response.status_code', value: { doubleValue: 404 } }, str('session.id', `s${k}`), str('event.outcome', k % 4 ? 'failure' : 'SUCCESS'));
        break;
      case 3: // partial: no status
        attrs.push(str('http.request.method', 'POST'), str('http.route', '/login'), str('client.address', pick(ADDRS)), str('geo.country.iso_code', 'ZZ'), str('deployment.environment.name', 'record-env'));
        break;
      case 4: // empty values and odd types
        attrs.push(str('http.request.method', ''), { key: 'url.path', value: {} }, { key: 'http.response.status_code', value: { boolValue: true } }, { key: 'user.id', value: { intValue: 42 } }, str('http.response.body.size', '12.5'), str('http.server.request.duration', '0.25'));
        break;
      default: // attributes and a body that disagree: attributes win
        attrs.push(str('http.request.method', 'DELETE'), int('http.response.status_code', 204), str('url.path', '/api/orders/9'), str('user.id', 'dave'));
        out.push(text(`${pick(ADDRS)} - erin [01/Jun/2025:10:00:00 +0000] "GET /other HTTP/1.1" 500 10 "-" "ua"`, attrs, { severityNumber: 17, severityText: 'ERROR' }));
        continue;
    }
    out.push(log(k % 2 ? undefined : s(''), attrs, { severityNumber: k % 24 }));
  }
  out.push(log(undefined), log({}), log({ boolValue: true }), log({ bytesValue: new Uint8Array([1, 2, 3]) }), log({ arrayValue: { values: [s('a')] } }), text(''));
  return out;
}

function hostile(): LogRecord[] {
  const many = Array.from({ length: 40 }, (_, k) => str(`k${k}`, `v${k}`));
  const deep = (d: number): AnyValue => (d === 0 ? s('bottom') : { arrayValue: { values: [deep(d - 1), kvlist({ inner: deep(d - 1) })] } });
  const clf = '198.51.100.9 - mallory [01/Jun/2025:10:00:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua"';
  return [
    text(clf, many),
    text(clf, [str('long', 'L'.repeat(5000)), str('nul', 'a\u0000b'), str('emoji-cut', `${'e'.repeat(63)}😀tail`), { key: 'deep', value: deep(6) }, str('k'.repeat(300), 'long key')]),
    text(`${clf}${' pad'.repeat(200)}`),
    text('x'.repeat(70_000)),
    text(`198.51.100.9 - ${'u'.repeat(200)} [01/Jun/2025:10:00:00 +0000] "GET /${'p'.repeat(200)} HTTP/1.1" 200 5 "-" "${'a'.repeat(200)}"`),
    text('"GET / HTTP/1.1" 200'),
    text('2025/06/01 10:00:00 [error] 1234#0: *5 open() "/srv/www/x" failed (2: No such file or directory), client: 203.0.113.5, server: shop, request: "GET /x HTTP/1.1", host: "shop.example"'),
    text('[Sun Jun 01 10:00:00.123456 2025] [core:error] [pid 42] [client 203.0.113.6:50000] AH00126: Invalid URI in request GET /%zz HTTP/1.1'),
    text('\u0000\u0001\u0002 binary-ish \uFFFD'),
    text(clf, [str('audit.record_id', 'spoofed'), str('audit.outcome', 'success'), str('ocsf.class_uid', '1'), str('audit.custom', 'kept'), str('anomaly.score', '0.9')]),
    text(clf, [str('audit.schema_version', '1'), str('audit.record_id', 'already-enriched-id'), str('audit.outcome', 'failure')]),
    text(clf, [int('audit.schema_version', 1), str('audit.record_id', '')]),
    log(kvlist({ method: s('POST'), path: s('/login'), status: { intValue: 401 }, client_ip: s('203.0.113.9'), user: s('alice'), headers: kvlist({ 'user-agent': { arrayValue: { values: [s('ua1'), s('ua2')] } } }), msg: s('alice logged in from 203.0.113.9') })),
    log(kvlist({ req: kvlist({ method: s('GET'), url: s('/api/orders/77') }), res: kvlist({ statusCode: { intValue: 200 } }), remoteAddress: s('2001:db8::7'), deep: deep(8) })),
    log(kvlist({ nothing: s('here') })),
    text(clf, [], { timeUnixNano: millisToNanos(1_700_000_000_000) }),
    text(clf, [], { traceId: new Uint8Array(16).fill(9), spanId: new Uint8Array(8).fill(3), flags: 1, eventName: 'http.access', droppedAttributesCount: 2 }),
  ];
}

/** Duplicates in one request: identical records get distinct, stable ids. */
function duplicates(): LogRecord[] {
  const line = '203.0.113.1 - - [01/Jun/2025:10:00:00 +0000] "GET / HTTP/1.1" 200 1';
  return [text(line), text(line), text(`${line} `), text(line)];
}

function request(records: LogRecord[], resourceAttrs: KeyValue[] = [str('service.name', 'golden')]): ExportRequestMessage {
  return {
    resourceLogs: [
      { resource: { attributes: resourceAttrs }, schemaUrl: 'https://opentelemetry.io/schemas/1.30.0', scopeLogs: [{ scope: { name: 'golden', version: '1' }, logRecords: records.slice(0, Math.ceil(records.length / 2)) }, { scope: { name: 'second' }, logRecords: records.slice(Math.ceil(records.length / 2)) }] },
      { resource: { attributes: [str('deployment.environment', 'legacy-env'), str('service.name', 'other')] }, scopeLogs: [{ scope: { name: 'golden' }, logRecords: duplicates() }] },
    ],
  };
}

function workloads(): Record<string, ExportRequestMessage> {
  const r = rng(1204);
  const accessLog = Array.from({ length: 64 }, (_, k) => accessLogRecord(r, Date.UTC(2026, 10, 1) + k * 10));
  return {
    'access log (semconv + combined)': request(accessLog, [str('service.name', 'shop'), str('deployment.environment.name', 'production')]),
    'CLF and combined bodies': request(clfLines(new Rng(7), 80)),
    'JSON bodies': request(jsonBodies(new Rng(8), 60)),
    'semconv attributes': request(semconvOnly(new Rng(9), 60)),
    'hostile, limits, sender audit.*, kvlist bodies': request(hostile()),
  };
}

/** Every corpus file of ../shared/corpora read as text bodies (at most 400 lines each). */
function corpusWorkloads(): Record<string, ExportRequestMessage> {
  const out: Record<string, ExportRequestMessage> = {};
  const files = ['elastic-apache_logs.combined', 'javagrok-access_log.common', 'crowdsec-http-attacks.log', ...readdirSync(`${CORPORA}/crowdsec-json`).sort().map((f) => `crowdsec-json/${f}`)];
  for (const f of files) out[`corpus ${f}`] = request(corpusLines(f).slice(0, 400).map((l) => text(l)));
  return out;
}

// ---- the digest ---------------------------------------------------------------------

function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return `bytes:${Buffer.from(v).toString('hex')}`;
  if (Long.isLong(v)) return `long:${v.toString()}`;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) o[k] = plain((v as Record<string, unknown>)[k]);
    return o;
  }
  return v;
}

function describeRecord(rec: VigilRecord): unknown {
  const l = rec.log;
  return {
    spliceable: spliceableAttributes(rec) !== undefined,
    attributes: l.attributes.map((kv) => [kv.key, plain(kv.value)]),
    body: plain(l.body),
    time: plain(l.timeUnixNano),
    observed: plain(l.observedTimeUnixNano),
    severity: [l.severityNumber ?? 0, l.severityText ?? ''],
    dropped: l.droppedAttributesCount ?? 0,
  };
}

async function counters(t: Telemetry): Promise<string> {
  const lines: string[] = [];
  for (const name of ['vigil_audit_records_total', 'vigil_audit_limited_records_total', 'vigil_audit_geo_lookups_total']) {
    const m = t.registry.getSingleMetric(name);
    if (m) for (const v of (await m.get()).values) lines.push(`${name}${JSON.stringify(plain(v.labels))}=${v.value}`);
  }
  return lines.sort().join('\n');
}

/** The processor on one request, wire path (frames kept) then object path: one digest of all it wrote. */
async function digest(config: unknown, req: ExportRequestMessage): Promise<string> {
  const bytes = encodeProtobufRequest(req);
  const h = createHash('sha256');
  const telemetry = new Telemetry({ processMetrics: false });
  const processor = new AuditProcessor('audit', buildSettings(auditConfigSchema.parse(config), 'audit', { env: ENV, clock: () => NOW }), telemetry, () => NOW);
  const wire: LogBatch = processor.process(decodeProtobufBatch(bytes).records);
  h.update(JSON.stringify(wire.map(describeRecord)));
  h.update(encodeBatchProtobuf(wire));
  for (const rec of wire) h.update(encodeRecordRequest(rec));
  const objects: LogBatch = processor.process(requestToBatch(decodeProtobufRequest(bytes)).records);
  h.update(JSON.stringify(objects.map(describeRecord)));
  h.update(await counters(telemetry));
  return h.digest('hex');
}

/**
 * Records built in memory (no bytes): strings no protobuf decoder would hand over, such as lone surrogates.
 * Only their objects are pinned: a lone surrogate left in a body encodes to bytes the splice check's strict decoder refuses.
 */
function inMemory(): LogBatch {
  const res = { resource: { attributes: [str('service.name', 'mem')] }, schemaUrl: '' };
  const sc = { scope: { name: 'mem' }, schemaUrl: '' };
  const clf = '203.0.113.4 - \uD800bob [01/Jun/2025:10:00:00 +0000] "GET /a\uDC00b HTTP/1.1" 200 5 "-" "ua\uD83D"';
  return [text(clf), text(clf, [str('user.id', 'x\uDBFFy'), str('lone', '\uDFFF'), str('nul', '\u0000')]), log(kvlist({ method: s('GET'), path: s('/p\uD800'), status: { intValue: 200 } }))].map((l) => ({ resource: res, scope: sc, log: l }));
}

async function digests(loads: Record<string, ExportRequestMessage>, withInMemory = false): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [c, config] of Object.entries(CONFIGS)) {
    for (const [w, req] of Object.entries(loads)) out[`${c} | ${w}`] = await digest(config, req);
    if (withInMemory) {
      const processor = new AuditProcessor('audit', buildSettings(auditConfigSchema.parse(config), 'audit', { env: ENV, clock: () => NOW }), new Telemetry({ processMetrics: false }), () => NOW);
      const batch = processor.process(inMemory());
      out[`${c} | in memory, ill-formed strings`] = createHash('sha256').update(JSON.stringify(batch.map(describeRecord))).digest('hex');
    }
  }
  return out;
}

beforeAll(() => setSpliceCheck(true));
afterAll(() => setSpliceCheck(process.env.VIGIL_CHECK_SPLICE === '1'));

describe('audit processor outputs, pinned', () => {
  it('writes the same records, encodings and counts as when pinned (built workloads × configs)', async () => {
    const got = await digests(workloads(), true);
    if (process.env.GOLDEN_PRINT === '1') console.log(JSON.stringify(got, null, 2));
    expect(got).toEqual(BUILT);
  });

  it.skipIf(!haveCorpora)('writes the same records, encodings and counts as when pinned (../shared/corpora × configs)', async () => {
    const got = await digests(corpusWorkloads());
    if (process.env.GOLDEN_PRINT === '1') console.log(JSON.stringify(got, null, 2));
    expect(got).toEqual(CORPUS);
  });

  it('really depends on what the processor writes (a changed attribute changes the digest)', async () => {
    const req = workloads()['CLF and combined bodies'];
    const before = await digest({}, req);
    const changed = await digest({ environment: 'a-value-no-record-had' }, req);
    expect(changed).not.toBe(before);
  });
});

const BUILT: Record<string, string> = {
  'default | access log (semconv + combined)': '3076e85e9dec5642e169141ac22c30b0b5564e954a8f4e0890cc16af13598dba',
  'default | CLF and combined bodies': '991b33876ddefceb2bb099f1cd57661e9f19ea919a64696a0f2ceda92e2d029a',
  'default | JSON bodies': 'b00b7c633921737f59a99b80673a9278f8206fac337ca6a271678c1b17eb8373',
  'default | semconv attributes': '34688572ad09e80a3853d4d8b75757c1fb2555d38e03710693aeae65bb6e0ff6',
  'default | hostile, limits, sender audit.*, kvlist bodies': 'c4f4928bb63215715e4191efd8ec49ba05156de77cdc35340e2e5649e3560ed4',
  'pseudonymised | access log (semconv + combined)': '751bf88d03a09bed7d7fc067fa7af76a816bfdecb8880f24f31876d065a32922',
  'pseudonymised | CLF and combined bodies': '37b1ab3956614d3c4f11d377bb0c1c694d0023b00313f847e56e86adb09e2179',
  'pseudonymised | JSON bodies': '423264833d9846d0fe213a309be40a643b400add2deecff699da666b97bb369d',
  'pseudonymised | semconv attributes': 'b6f4dac22caf088fa16ece3451393555cf401ab6e0fb3997affbf71bdbe5c247',
  'pseudonymised | hostile, limits, sender audit.*, kvlist bodies': 'a04809cbcba60a8d254fef0882e7bab208185ca0dc97e7af30e661a1e42dafd4',
  'pseudonymised, rotating, truncated, body kept | access log (semconv + combined)': '230d998f38fa5179cb9fec163ed9722b44749d6648ece2860892e5b1542d03ba',
  'pseudonymised, rotating, truncated, body kept | CLF and combined bodies': '3b30207448d9639fa122f900244ed3ba0355bac5c5bd301f0d62264e462dde80',
  'pseudonymised, rotating, truncated, body kept | JSON bodies': '42666ba6e1051984f0b742b287f6c19819af426801becb6804551986b3bea846',
  'pseudonymised, rotating, truncated, body kept | semconv attributes': '0c2acfff0a991fe41bc23adc4c1f2c95344bbd969b6adb2ef6307233d9352bf8',
  'pseudonymised, rotating, truncated, body kept | hostile, limits, sender audit.*, kvlist bodies': '4ff5de1e10f4a6bec17faaeefb1f78928682f4be6c75af1d72639f87bc718293',
  'tight limits, rules, no geo, no ocsf | access log (semconv + combined)': 'af19b7d9750c17d6668ee8d6e1e428b3031f3d7d9f89f3b85bcee2d57ab36083',
  'tight limits, rules, no geo, no ocsf | CLF and combined bodies': 'c75a1c6879aa6e5c6a7bc37fbaff5d02e74e13ac8ea70988e8eadd19725498a0',
  'tight limits, rules, no geo, no ocsf | JSON bodies': '38e8a1478c9a8476a9781dc003450fa040ce0bb9c9be7dc56a76f52b9d7937cc',
  'tight limits, rules, no geo, no ocsf | semconv attributes': '27469b6a54dbbf6103926224bc88d3a6010af861b0e8dafceeb5d5cd4e3dc575',
  'tight limits, rules, no geo, no ocsf | hostile, limits, sender audit.*, kvlist bodies': 'd31af30a53c167f5c81b599683632f2718b5b1978412b5d4e0b607c851bf563d',
  'default | in memory, ill-formed strings': '1ad0d5d2052ac6815370a6ba748c0e7a40f185d28292b93befa93098effea117',
  'pseudonymised | in memory, ill-formed strings': '1c87f9ae506be81ba6f36a9ca91b0dd88762313b3f2db3feaa7a2e72545a0510',
  'pseudonymised, rotating, truncated, body kept | in memory, ill-formed strings': '92646132866600ba513d765b1938962dfc65d03162ef73d82811bf37d49d195e',
  'tight limits, rules, no geo, no ocsf | in memory, ill-formed strings': '8dcb0a41e2d8328768d1ecc50beef64ae69137650205e5c87e5798d38b3c3b38',
};

const CORPUS: Record<string, string> = {
  'default | corpus elastic-apache_logs.combined': 'cc93669924feeb3b98c89729ab98bb8b90a15501459f5f20f6084a879383c5be',
  'default | corpus javagrok-access_log.common': '55835a2ea98f0b5263153f134a958cf27439d09ae0e3e1a034e40fad33fa929d',
  'default | corpus crowdsec-http-attacks.log': 'b0c7bc052119c37e0db1a8b9701df1809ec603cb1c13055d0266457a7e13af8f',
  'default | corpus crowdsec-json/caddy-basic-auth-bf.jsonl': '6bbbd55d4296e7dc48bc68589c9ea99710a4694f18352f7276ba474bf6d43305',
  'default | corpus crowdsec-json/caddy-logs.jsonl': 'c31f2930bed15e19d3e0983ebe85465ff2376dc628669c39173fdd2b793145d7',
  'default | corpus crowdsec-json/traefik_base-http-scenario.jsonl': 'bf8af0dbbd36a0ef0a3c0d0fa61a78a54927e8b4c7b69c0201d4d3d12ec75079',
  'default | corpus crowdsec-json/traefik_json.jsonl': '697d4efa3facc64146ceb8474f5745bbf7cbbf1122bcc5c093a9ce77673057cf',
  'pseudonymised | corpus elastic-apache_logs.combined': 'd32a360309c1e02cfa0e53aca769b5de1912296de4cd4fb6c4c3110611c122e7',
  'pseudonymised | corpus javagrok-access_log.common': '9e548fbe824dfb5044fa62f4e7fd1c532806d3fd642dc5b75185ecd82815e82e',
  'pseudonymised | corpus crowdsec-http-attacks.log': 'a32c7452e5e82f5ba4f16d305f7636219acf8c09757edeabf4eef3cdc6815b24',
  'pseudonymised | corpus crowdsec-json/caddy-basic-auth-bf.jsonl': '5f81817dfc7fa04f6db87bd89bae5b55b863aeb9c43921fb5d5f27273440b7b3',
  'pseudonymised | corpus crowdsec-json/caddy-logs.jsonl': '11cb1baa24f3d8fb33305b486bc2e02c73e34f652044975b7db0134e88b7e334',
  'pseudonymised | corpus crowdsec-json/traefik_base-http-scenario.jsonl': 'e4c393c9bff32ad486df9270132ed2f4ed475cab6376849f7164fb51203ea81b',
  'pseudonymised | corpus crowdsec-json/traefik_json.jsonl': '52bebb3d5eafc129f502e4328eee361454a87b92797f842533a95a43e0236e4d',
  'pseudonymised, rotating, truncated, body kept | corpus elastic-apache_logs.combined': 'fd9fc7cc969ea2e97ce09d09bab369cc2a4797406f42adb50a80b90c3accb21e',
  'pseudonymised, rotating, truncated, body kept | corpus javagrok-access_log.common': '7d8d26504a8e6afe436a8654e969a401668f2714d4746f63ba63692f1ad08679',
  'pseudonymised, rotating, truncated, body kept | corpus crowdsec-http-attacks.log': '3a2a62b65ba52379637af922946a26d72472240324a97ddc4895ab7661fc194c',
  'pseudonymised, rotating, truncated, body kept | corpus crowdsec-json/caddy-basic-auth-bf.jsonl': '4d0515c8ca11fb05b05fe63d40762a9e5cecdce37fb8f8359c231155609c0d07',
  'pseudonymised, rotating, truncated, body kept | corpus crowdsec-json/caddy-logs.jsonl': '2b22006f182dcda1c3cace83df4f3b29e1c29798817ec6ec4a052beb7b9e51f9',
  'pseudonymised, rotating, truncated, body kept | corpus crowdsec-json/traefik_base-http-scenario.jsonl': 'c0ebb5c060b36036f31da628c140ff96b11bc4624975727ea0193ef49a735b2c',
  'pseudonymised, rotating, truncated, body kept | corpus crowdsec-json/traefik_json.jsonl': 'e614c7b5125ea66bad6fd6ef0039dcf2c517bb0d8ac7b92effe92e401fffc34e',
  'tight limits, rules, no geo, no ocsf | corpus elastic-apache_logs.combined': '28f7af92143d337d7e52ea491c0eae52915aeb6081d0746844abbd2ce1b0c412',
  'tight limits, rules, no geo, no ocsf | corpus javagrok-access_log.common': '268e9bfb34cf3bf8180cbb952244146d9490d327279440059065ea95e5ed942b',
  'tight limits, rules, no geo, no ocsf | corpus crowdsec-http-attacks.log': '73d50ceca744f3fd398cbc980ae8916ad0c0d488c386bf819c6249b7d2066cc8',
  'tight limits, rules, no geo, no ocsf | corpus crowdsec-json/caddy-basic-auth-bf.jsonl': '0b35953ae61f9fa3dee31f318c77feeec78ca4397640d326730026c353e959a3',
  'tight limits, rules, no geo, no ocsf | corpus crowdsec-json/caddy-logs.jsonl': '7d697c9c7d2360340ec751490e6cef2bf6cefd0f8d14fd54247ec4c73b78110a',
  'tight limits, rules, no geo, no ocsf | corpus crowdsec-json/traefik_base-http-scenario.jsonl': '4c2ceb3ac4117c4177a05d3dbeaab549d06cd8a030e50794617c72802a4fea1f',
  'tight limits, rules, no geo, no ocsf | corpus crowdsec-json/traefik_json.jsonl': '894d2c7ee9e8d2b4d3a9b3d133b9cceae592341c1e0c88af543edd9c503c1c01',
};
