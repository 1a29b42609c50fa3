import { describe, expect, it } from 'vitest';
import Long from 'long';
import { validateConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/config/errors.js';
import { defaultRegistry } from '../../../src/components.js';
import { batchToRequest, decodeProtobufRequest, encodeProtobufRequest, requestToBatch } from '../../../src/otlp/convert.js';
import { decodeJsonRequest, encodeJsonRequest } from '../../../src/otlp/json.js';
import { anyValue, isSharedAttribute, nanosToMillis } from '../../../src/pipeline/record.js';
import type { KeyValue, VigilRecord } from '../../../src/pipeline/record.js';
import { Telemetry } from '../../../src/telemetry/metrics.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { auditConfigSchema } from '../../../src/processors/audit/config.js';
import { createAuditProcessor } from '../../../src/processors/audit/processor.js';
import { attrsOf, auditProcessor, record, resource } from './helpers.js';
import { corpusLines, haveCorpora } from './corpora.js';

const kv = (key: string, v: string | number): KeyValue => ({ key, value: anyValue(v) });
const COMBINED =
  '83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1" 200 203023 "http://semicomplete.com/presentations/logstash-monitorama-2013/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36"';

function enrich(recs: VigilRecord[], config: unknown = {}): VigilRecord[] {
  const p = auditProcessor(config);
  p.process(recs);
  return recs;
}

describe('audit processor: a Combined line', () => {
  it('becomes the full audit schema, body and time kept', () => {
    const [r] = enrich([record(COMBINED)]);
    const a = attrsOf(r);
    expect(a).toEqual({
      'http.request.method': 'GET',
      'url.path': '/presentations/logstash-monitorama-2013/images/kibana-search.png',
      'http.response.status_code': 200,
      'http.response.body.size': 203023,
      'client.address': '83.149.9.216',
      'user_agent.original': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36',
      'http.request.header.referer': ['http://semicomplete.com/presentations/logstash-monitorama-2013/'],
      'network.protocol.name': 'http',
      'network.protocol.version': '1.1',
      'geo.country.iso_code': 'RU',
      'audit.record_id': expect.stringMatching(/^[0-9a-f]{32}$/),
      'audit.schema_version': '1',
      'audit.outcome': 'success',
      'audit.action': 'read',
      'audit.resource': '/presentations/logstash-monitorama-2013/images/kibana-search.png',
      'audit.parse_status': 'ok',
      'audit.ingested_at': expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      'ocsf.class_uid': 4002,
      'ocsf.category_uid': 4,
      'ocsf.activity_id': 3,
      'ocsf.type_uid': 400203,
      'ocsf.status_id': 1,
      'ocsf.severity_id': 1,
    });
    expect(r.log.body).toEqual({ stringValue: COMBINED });
    expect(nanosToMillis(r.log.timeUnixNano)).toBe(Date.UTC(2015, 4, 17, 10, 5, 3));
  });

  it('keeps a timestamp the sender set', () => {
    const r = record(COMBINED);
    r.log.timeUnixNano = Long.fromString('1600000000000000000', true);
    enrich([r]);
    expect(nanosToMillis(r.log.timeUnixNano)).toBe(1_600_000_000_000);
  });
});

describe('audit processor: semconv attributes', () => {
  it('keeps what the sender set and fills only what is missing', () => {
    const [r] = enrich([
      record('1.2.3.4 - bob [01/Jan/2024:00:00:00 +0000] "POST /api/items/42 HTTP/1.1" 500 10 "-" "ua"', [
        kv('http.request.method', 'PUT'),
        kv('http.route', '/api/items/:id'),
        kv('custom.thing', 'untouched'),
      ]),
    ]);
    const a = attrsOf(r);
    expect(a['http.request.method']).toBe('PUT');
    expect(a['http.route']).toBe('/api/items/:id');
    expect(a['custom.thing']).toBe('untouched');
    expect(a['url.path']).toBe('/api/items/42');
    expect(a['user.id']).toBe('bob');
    expect(a['audit.resource']).toBe('/api/items/:id');
    expect(a['audit.action']).toBe('update');
    expect(a['audit.outcome']).toBe('failure');
    expect(a['audit.parse_status']).toBe('ok');
  });

  it('reads deprecated names and an OTel-SDK record with no body as ok', () => {
    const [r] = enrich([
      record(undefined, [kv('http.method', 'GET'), kv('http.target', '/users/123/orders?page=2'), kv('http.status_code', 404), kv('net.peer.ip', '10.1.2.3'), kv('enduser.id', 'u-9')]),
    ]);
    const a = attrsOf(r);
    expect(a).toMatchObject({
      'http.request.method': 'GET',
      'url.path': '/users/123/orders',
      'http.response.status_code': 404,
      'client.address': '10.1.2.3',
      'user.id': 'u-9',
      'audit.resource': '/users/{id}/orders',
      'audit.outcome': 'failure',
      'audit.parse_status': 'ok',
      'http.method': 'GET',
    });
    expect(a['geo.country.iso_code']).toBeUndefined();
  });

  it('marks a plain message without access fields unparsed, with the reason', () => {
    const [r] = enrich([record('worker started')]);
    expect(attrsOf(r)).toMatchObject({ 'audit.parse_status': 'unparsed', 'audit.outcome': 'unknown', 'audit.action': 'unknown', 'audit.parse_issue': expect.any(String) });
  });

  it('sends an unknown method as _OTHER with the original kept', () => {
    const [r] = enrich([record('1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "PROPFIND /dav/ HTTP/1.1" 207 10')]);
    expect(attrsOf(r)).toMatchObject({ 'http.request.method': '_OTHER', 'http.request.method_original': 'PROPFIND', 'ocsf.activity_id': 99, 'audit.action': 'other' });
  });
});

describe('audit processor: environment', () => {
  it('takes deployment.environment.name from the resource, else from config', () => {
    const [fromResource] = enrich([record(COMBINED, [], resource({ 'deployment.environment.name': 'staging' }))], { environment: 'prod' });
    expect(attrsOf(fromResource)['deployment.environment.name']).toBe('staging');
    const [fromConfig] = enrich([record(COMBINED)], { environment: 'prod' });
    expect(attrsOf(fromConfig)['deployment.environment.name']).toBe('prod');
    const [none] = enrich([record(COMBINED)]);
    expect(attrsOf(none)['deployment.environment.name']).toBeUndefined();
  });
});

describe('audit processor: outcome, action, resource rules', () => {
  const line = (method: string, path: string, status: number) => `9.9.9.9 - - [01/Jan/2024:00:00:00 +0000] "${method} ${path} HTTP/1.1" ${status} 1`;
  const run = (method: string, path: string, status: number, config: unknown = {}) => attrsOf(enrich([record(line(method, path, status))], config)[0]);

  it('makes POSTs to authentication routes logins (OCSF Authentication) and GETs of them reads', () => {
    expect(run('POST', '/login', 401)).toMatchObject({ 'audit.action': 'login', 'audit.outcome': 'failure', 'ocsf.class_uid': 3002, 'ocsf.category_uid': 3, 'ocsf.activity_id': 1, 'ocsf.type_uid': 300201, 'ocsf.status_id': 2, 'ocsf.severity_id': 3 });
    expect(run('POST', '/api/v2/oauth/token', 200)).toMatchObject({ 'audit.action': 'login', 'audit.outcome': 'success', 'ocsf.status_id': 1 });
    expect(run('POST', '/ghost/api/admin/session', 404)['audit.action']).toBe('login');
    expect(run('POST', '/signin.php?x=1', 200)['audit.action']).toBe('login');
    expect(run('GET', '/login', 200)['audit.action']).toBe('read');
    expect(run('POST', '/logins', 200)['audit.action']).toBe('create');
    expect(run('GET', '/logout', 302)).toMatchObject({ 'audit.action': 'logout', 'ocsf.activity_id': 2 });
  });

  it('maps methods to actions and OCSF HTTP activities', () => {
    expect(run('DELETE', '/a', 204)).toMatchObject({ 'audit.action': 'delete', 'ocsf.activity_id': 2 });
    expect(run('PATCH', '/a', 200)).toMatchObject({ 'audit.action': 'update', 'ocsf.activity_id': 9 });
    expect(run('HEAD', '/a', 200)).toMatchObject({ 'audit.action': 'read', 'ocsf.activity_id': 4 });
  });

  it('collapses ids in resources', () => {
    expect(run('GET', '/api/v1/request/440', 200)['audit.resource']).toBe('/api/v1/request/{id}');
    expect(run('GET', '/o/3f2b8c1e-9d4a-4b6e-8f0a-1c2d3e4f5a6b/x', 200)['audit.resource']).toBe('/o/{id}/x');
    expect(run('GET', '/blob/5f8d0a3b2c1e4f6a7b8c9d0e', 200)['audit.resource']).toBe('/blob/{id}');
    expect(run('GET', '/u/jane@example.com/profile', 200)['audit.resource']).toBe('/u/{id}/profile');
    expect(run('GET', '/static/app.v2.js', 200)['audit.resource']).toBe('/static/app.v2.js');
    expect(run('GET', '/t/ABC-123', 200, { resource: { id_patterns: ['[A-Z]+-\\d+'], placeholder: ':id' } })['audit.resource']).toBe('/t/:id');
    expect(run('GET', '/api/v1/request/440', 200, { resource: { collapse_ids: false } })['audit.resource']).toBe('/api/v1/request/440');
  });

  it('shares one frozen audit.resource between records (encoders encode it once), and past 512 distinct resources gives new ones plain attributes', () => {
    const resourceOf = (rec: VigilRecord) => rec.log.attributes.find((a) => a.key === 'audit.resource')!;
    const get = (path: string) => record(undefined, [kv('http.request.method', 'GET'), kv('url.path', path), kv('http.response.status_code', 200)]);
    const recs = enrich([get('/shared/route'), get('/shared/route'), ...Array.from({ length: 600 }, (_, i) => get(`/distinct/r${i}`))]);
    expect(resourceOf(recs[0])).toBe(resourceOf(recs[1]));
    expect(isSharedAttribute(resourceOf(recs[0]))).toBe(true);
    const last = resourceOf(recs[recs.length - 1]);
    expect(last).toEqual({ key: 'audit.resource', value: { stringValue: '/distinct/r599' } });
    expect(isSharedAttribute(last)).toBe(false);
  });

  it('applies configured outcome rules and failure statuses', () => {
    const config = { outcome: { failure_statuses: ['5xx', 401, 403], rules: [{ route: '/wp-login.php', methods: ['post'], statuses: ['200'], outcome: 'failure' }] } };
    expect(run('POST', '/wp-login.php', 200, config)['audit.outcome']).toBe('failure');
    expect(run('POST', '/wp-login.php', 302, config)['audit.outcome']).toBe('success');
    expect(run('GET', '/missing', 404, config)['audit.outcome']).toBe('success');
    expect(run('GET', '/secret', 403, config)['audit.outcome']).toBe('failure');
  });

  it('takes an explicit outcome over the status', () => {
    const [r] = enrich([record(JSON.stringify({ method: 'POST', path: '/api/session', status: 200, outcome: 'denied', user: 'x' }))]);
    expect(attrsOf(r)).toMatchObject({ 'audit.outcome': 'failure', 'audit.action': 'login' });
  });
});

describe('audit processor: audit.record_id', () => {
  const build = () => [record(COMBINED, [kv('a', 1)]), record('other line')];

  it('is the same when the same records are sent again, and differs between records', () => {
    const first = enrich(build()).map((r) => attrsOf(r)['audit.record_id']);
    const again = enrich(build()).map((r) => attrsOf(r)['audit.record_id']);
    expect(again).toEqual(first);
    expect(first[0]).not.toBe(first[1]);
  });

  it('gives identical records in one batch distinct ids, stable on resend', () => {
    const ids = () => enrich([record('same'), record('same'), record('same')]).map((r) => attrsOf(r)['audit.record_id']);
    const a = ids();
    expect(new Set(a).size).toBe(3);
    expect(ids()).toEqual(a);
  });

  it('depends on the resource and on every field of the record', () => {
    const base = attrsOf(enrich([record('x')])[0])['audit.record_id'];
    expect(attrsOf(enrich([record('x', [], resource({ 'service.name': 'b' }))])[0])['audit.record_id']).not.toBe(base);
    const other = record('x');
    other.log.severityNumber = 9;
    expect(attrsOf(enrich([other])[0])['audit.record_id']).not.toBe(base);
  });

  it('is the same whether the request arrived as protobuf or as OTLP/JSON', () => {
    const sent = [record(COMBINED, [kv('n', 7), { key: 'd', value: { doubleValue: 1.5 } }, { key: 'b', value: { boolValue: true } }])];
    sent[0].log.severityNumber = 9;
    sent[0].log.traceId = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const req = batchToRequest(sent);
    const viaProto = requestToBatch(decodeProtobufRequest(encodeProtobufRequest(req))).records;
    const viaJson = requestToBatch(decodeJsonRequest(encodeJsonRequest(req)).request).records;
    enrich(viaProto);
    enrich(viaJson);
    expect(attrsOf(viaJson[0])['audit.record_id']).toBe(attrsOf(viaProto[0])['audit.record_id']);
    const { 'audit.ingested_at': _a, ...protoAttrs } = attrsOf(viaProto[0]);
    const { 'audit.ingested_at': _b, ...jsonAttrs } = attrsOf(viaJson[0]);
    expect(jsonAttrs).toEqual(protoAttrs);
  });

  it('passes records already enriched by a Vigil unchanged (idempotent), unless told not to', () => {
    const [r] = enrich([record(COMBINED)]);
    const before = JSON.stringify(attrsOf(r));
    enrich([r]);
    expect(JSON.stringify(attrsOf(r))).toBe(before);
    const spoofed = record(COMBINED, [kv('audit.record_id', 'forged')]);
    enrich([spoofed]);
    expect(attrsOf(spoofed)['audit.record_id']).not.toBe('forged');
  });
});

describe('audit processor: limits', () => {
  it('truncates long values, drops excess attributes, cuts deep nesting, replaces NUL and lone surrogates, and marks it all', () => {
    let deep: any = { stringValue: 'leaf' };
    for (let i = 0; i < 10; i++) deep = { kvlistValue: { values: [{ key: 'k', value: deep }] } };
    const attrs: KeyValue[] = [
      kv('long', 'x'.repeat(10_000)),
      kv('nul', 'a\u0000b'),
      kv('surrogate', 'a\uD800b'),
      { key: 'deep', value: deep },
      ...Array.from({ length: 200 }, (_, i) => kv(`extra.${i}`, i)),
    ];
    const r = record('1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET /' + 'p'.repeat(9000) + ' HTTP/1.1" 200 1', attrs);
    enrich([r], { limits: { max_value_length: 1000, max_attributes: 100, max_depth: 3 } });
    const a = attrsOf(r);
    expect((a.long as string).length).toBe(1000);
    expect(a.nul).toBe('a\uFFFDb');
    expect(a.surrogate).toBe('a\uFFFDb');
    expect((a['url.path'] as string).length).toBe(1000);
    expect(r.log.droppedAttributesCount).toBe(104);
    expect(a['audit.limits_applied']).toEqual(expect.arrayContaining(['attribute_count', 'value_length:long', 'nul:nul', 'invalid_utf8:surrogate', 'depth:deep', 'value_length:url.path']));
    expect(JSON.stringify(r.log.attributes.find((x) => x.key === 'deep'))).toContain('nested deeper than 3 levels');
    expect(attrsOf(r)['audit.parse_status']).toBe('ok');
  });

  it('does not parse bodies over the size limit', () => {
    const big = `${COMBINED} ${'z'.repeat(100)}`;
    const [r] = enrich([record(big)], { parse: { max_body_size: 64 } });
    expect(attrsOf(r)).toMatchObject({ 'audit.parse_status': 'unparsed', 'audit.parse_issue': 'body longer than 64 characters is not parsed' });
    expect(r.log.body).toEqual({ stringValue: big });
  });
});

describe('audit processor: the CrowdSec attack corpus', () => {
  it.skipIf(!haveCorpora)('never throws, keeps every body, and reads what can be read', () => {
    const lines = corpusLines('crowdsec-http-attacks.log');
    const records = lines.map((l) => record(l));
    enrich(records);
    const status = records.map((r) => attrsOf(r)['audit.parse_status']);
    records.forEach((r, i) => {
      expect(r.log.body).toEqual({ stringValue: lines[i] });
      expect(attrsOf(r)['audit.record_id']).toMatch(/^[0-9a-f]{32}$/);
    });
    expect(status.every((s) => s === 'ok' || s === 'partial' || s === 'unparsed')).toBe(true);
    const at = (n: number) => attrsOf(records[n - 1]);
    // TLS handshake bytes as the request: partial, with client, status and time read
    expect(at(159)).toMatchObject({ 'audit.parse_status': 'partial', 'client.address': '1.2.3.4', 'http.response.status_code': 400, 'audit.outcome': 'failure' });
    expect(at(159)['http.request.method']).toBeUndefined();
    expect(nanosToMillis(records[158].log.timeUnixNano)).toBe(Date.UTC(2023, 9, 16, 18, 57, 49));
    // Gh0st RAT binary junk
    expect(at(777)).toMatchObject({ 'audit.parse_status': 'partial', 'client.address': '1.2.3.4' });
    // syslog-wrapped nginx line: everything read
    expect(at(215)).toMatchObject({ 'audit.parse_status': 'ok', 'client.address': '81.150.104.130', 'url.path': '/wp-login.php', 'audit.action': 'login', 'geo.country.iso_code': 'GB' });
    // a line missing its ident field
    expect(at(893)).toMatchObject({ 'audit.parse_status': 'partial', 'client.address': '192.168.1.1', 'url.path': '/api/test' });
    // nginx basic-auth failure in the error log: a failed login by user foo
    expect(at(754)).toMatchObject({ 'audit.parse_status': 'partial', 'user.id': 'foo', 'client.address': '127.0.0.1', 'audit.action': 'login', 'audit.outcome': 'failure', 'ocsf.class_uid': 3002 });
    // IPv6 client with empty referer and agent
    const v6 = records.find((r) => attrsOf(r)['client.address'] === '2001:db8:1:2:3:4:5:6')!;
    expect(attrsOf(v6)['audit.parse_status']).toBe('ok');
    expect(attrsOf(v6)['user_agent.original']).toBeUndefined();
    expect(attrsOf(v6)['geo.country.iso_code']).toBeUndefined();
  });
});

describe('audit processor: Caddy and Traefik map to the same attributes', () => {
  it.skipIf(!haveCorpora)('writes the same semconv attribute names for both', () => {
    const names = (file: string, index: number) => {
      const [r] = enrich([record(corpusLines(file)[index])]);
      return Object.keys(attrsOf(r)).filter((k) => !k.startsWith('audit.') && !k.startsWith('ocsf.') && k !== 'server.port').sort();
    };
    const caddy = names('crowdsec-json/caddy-basic-auth-bf.jsonl', 0);
    expect(caddy).toEqual(names('crowdsec-json/traefik_json.jsonl', 0));
    expect(caddy).toEqual(['client.address', 'http.request.method', 'http.response.body.size', 'http.response.status_code', 'http.server.request.duration', 'network.protocol.name', 'network.protocol.version', 'server.address', 'url.path', 'user_agent.original']);
  });
});

describe('audit processor: configuration', () => {
  const base = { exporters: { debug: {} }, service: { pipelines: { logs: { processors: [], exporters: ['debug'] } } } };
  const issues = (audit: unknown) => {
    try {
      validateConfig({ ...base, processors: { audit } }, defaultRegistry(), 'test');
      return [];
    } catch (err) {
      return (err as ConfigError).issues;
    }
  };

  it('is registered and accepts an empty block', () => {
    expect(issues({})).toEqual([]);
    expect(issues(null)).toEqual([]);
  });

  it('names the key of every mistake', () => {
    expect(issues({ geo: { databse: 'x' } })).toEqual([{ path: 'processors.audit.geo', message: expect.stringContaining('"databse"') }]);
    expect(issues({ action: { login_routes: ['login'] } })).toEqual([{ path: 'processors.audit.action.login_routes.0', message: expect.stringContaining('starting with /') }]);
    expect(issues({ outcome: { failure_statuses: ['4x'] } })).toEqual([{ path: 'processors.audit.outcome.failure_statuses.0', message: expect.stringContaining('4xx') }]);
    expect(issues({ resource: { id_patterns: ['(['] } })).toEqual([{ path: 'processors.audit.resource.id_patterns.0', message: expect.stringContaining('regular expression') }]);
    expect(issues({ pseudonymisation: {} })).toEqual([{ path: 'processors.audit.pseudonymisation.key_file', message: expect.stringContaining('needs a key') }]);
    expect(issues({ pseudonymisation: { key_file: '/k', key_env: 'K' } })).toEqual([{ path: 'processors.audit.pseudonymisation.key_env', message: 'set key_file or key_env, not both' }]);
    expect(issues({ pseudonymisation: { key_env: 'K', ip_truncation: '/33' } })).toEqual([{ path: 'processors.audit.pseudonymisation.ip_truncation', message: expect.stringContaining('/32') }]);
  });

  it('refuses a geo database that is not there, naming the key', () => {
    expect(() => createAuditProcessor(auditConfigSchema.parse({ geo: { database: '/nonexistent/x.mmdb' } }), 'audit/x', silentLogger(), new Telemetry({ processMetrics: false }))).toThrow(
      expect.objectContaining({ issues: [{ path: 'processors.audit/x.geo.database', message: expect.stringContaining('cannot read the geo database /nonexistent/x.mmdb') }] }),
    );
  });

  it('counts records by parse status in its metrics', async () => {
    const telemetry = new Telemetry({ processMetrics: false });
    const p = createAuditProcessor(auditConfigSchema.parse({}), 'audit', silentLogger(), telemetry);
    p.process([record(COMBINED), record('nothing to see'), record(COMBINED)]);
    const text = await telemetry.registry.metrics();
    expect(text).toContain('vigil_audit_records_total{processor="audit",parse_status="ok"} 2');
    expect(text).toContain('vigil_audit_records_total{processor="audit",parse_status="unparsed"} 1');
    expect(text).toContain('vigil_audit_geo_lookups_total{processor="audit",cache="hit"} 1');
  });
});
