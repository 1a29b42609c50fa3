// examples/node-sdk and examples/pino against a real Vigil: `vigil run` as a
// child process (OTLP receivers on free ports, audit + anomaly, a file exporter),
// each example as a child process sending over OTLP/HTTP protobuf and gRPC, real
// HTTP requests to it, SIGTERM (which must flush), then the enriched records
// read back from Vigil's output.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VigilRecord } from '../../src/pipeline/record.js';
import { startVigilProcess, type VigilProcess, listening } from '../helpers/cli.js';
import { until } from '../helpers/downstream.js';
import { tempDir } from '../helpers/tmp.js';
import { attributesOf, cleanEnv, exitWithin, readOtlpJsonLines, resourceAttribute, startExample } from './helpers.js';

let vigil: VigilProcess;
let dir: string;
let grpc: string;
let http: string;

beforeAll(async () => {
  dir = tempDir('vigil-examples-');
  const config = join(dir, 'vigil.yaml');
  writeFileSync(
    config,
    `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0 }
      http: { endpoint: 127.0.0.1:0 }
processors:
  audit: {}
  anomaly: {}
exporters:
  file: { path: ${join(dir, 'out.jsonl')} }
service:
  telemetry: { metrics: { address: '' }, logs: { level: warn } }
  pipelines:
    logs: { receivers: [otlp], processors: [audit, anomaly], exporters: [file] }
`,
  );
  vigil = await startVigilProcess(['run', '--config', config], { cwd: dir });
  grpc = listening(vigil).grpc;
  http = listening(vigil).http;
});

afterAll(async () => {
  if (!vigil || vigil.child.exitCode !== null) return;
  vigil.child.kill('SIGTERM');
  await exitWithin(vigil, 30_000, 'vigil');
});

function recordsOf(service: string): VigilRecord[] {
  return readOtlpJsonLines(join(dir, 'out.jsonl')).filter((r) => resourceAttribute(r, 'service.name') === service);
}

const cases = [
  { example: 'node-sdk', protocol: 'http/protobuf' },
  { example: 'node-sdk', protocol: 'grpc' },
  { example: 'pino', protocol: 'http/protobuf' },
  { example: 'pino', protocol: 'grpc' },
];

describe('Node examples send audit-ready access logs to a real Vigil', () => {
  it.each(cases)('$example over $protocol', async ({ example, protocol }) => {
    const service = `orders-${example}-${protocol.replace('/', '-')}`;
    const app = await startExample(
      `${example}/server.js`,
      cleanEnv({
        PORT: '0',
        HOST: '127.0.0.1',
        OTEL_SERVICE_NAME: service,
        OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: protocol,
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: protocol === 'grpc' ? `http://${grpc}` : http,
      }),
    );
    try {
      const orders = await fetch(`${app.url}/orders/42?expand=items`, { headers: { 'x-user-id': 'alice', 'user-agent': 'examples-test/1.0' } });
      expect(orders.status).toBe(200);
      const login = await fetch(`${app.url}/login`, { method: 'POST', body: JSON.stringify({ user: 'mallory', password: 'guess' }) });
      expect(login.status).toBe(401);
      expect((await fetch(`${app.url}/admin/export`)).status).toBe(403);
      expect((await fetch(`${app.url}/nope`)).status).toBe(404);
      await Promise.all([orders.text(), login.text()]);
    } finally {
      app.child.kill('SIGTERM');
    }
    // SIGTERM flushes what the SDK still holds and exits cleanly.
    expect(await exitWithin(app, 20_000, example), app.output()).toBe(0);

    await until(() => recordsOf(service).length >= 4, `the 4 access-log records of ${service} in Vigil's output`, 20_000);
    const records = recordsOf(service);
    expect(records).toHaveLength(4);
    const byPath = new Map(records.map((r) => [String(attributesOf(r)['url.path']), attributesOf(r)]));

    for (const a of byPath.values()) {
      expect(a['audit.record_id']).toMatch(/^[0-9a-f]{32}$/);
      expect(a['audit.schema_version']).toBe('1');
      expect(a['audit.parse_status']).toBe('ok');
      expect(a['client.address']).toBe('127.0.0.1');
      expect(typeof a['anomaly.score']).toBe('number');
      expect(a['anomaly.detected']).toBe(false);
      expect(a['audit.ingested_at']).toMatch(/^\d{4}-\d\d-\d\dT/);
    }
    const order = byPath.get('/orders/42')!;
    expect(order).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/orders/{id}',
      'http.response.status_code': 200,
      'url.query': 'expand=items',
      'user.id': 'alice',
      'user_agent.original': 'examples-test/1.0',
      'audit.outcome': 'success',
      'audit.action': 'read',
      'audit.resource': '/orders/{id}',
      'ocsf.class_uid': 4002,
    });
    expect(order['http.server.request.duration']).toBeGreaterThan(0);
    expect(order['http.server.request.duration']).toBeLessThan(60);
    expect(byPath.get('/login')).toMatchObject({
      'http.request.method': 'POST',
      'http.response.status_code': 401,
      'user.id': 'mallory',
      'audit.action': 'login',
      'audit.outcome': 'failure',
      'ocsf.class_uid': 3002,
    });
    expect(byPath.get('/admin/export')).toMatchObject({ 'http.response.status_code': 403, 'audit.outcome': 'failure' });
    expect(byPath.get('/nope')).toMatchObject({ 'http.response.status_code': 404, 'audit.resource': '/nope' });
    expect(byPath.get('/nope')!['http.route']).toBeUndefined();

    const login = records.find((r) => attributesOf(r)['url.path'] === '/login')!;
    expect(login.log.severityText).toMatch(/^warn$/i);
    expect(login.scope.scope.name).toBe('orders-api.access');
  });
});
