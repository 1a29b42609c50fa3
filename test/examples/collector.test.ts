// examples/collector and examples/collector-loadbalancing: the Vigil configs are
// loaded as the READMEs say (and one is run for real, with only its addresses and
// directories replaced); the Collector configs are checked for consistency with
// them. No Collector binary exists here, so the Collector YAML is not executed.
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import * as grpcJs from '@grpc/grpc-js';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { defaultRegistry } from '../../src/components.js';
import { ConfigError } from '../../src/config/errors.js';
import { expandEnv } from '../../src/config/expand.js';
import { loadConfig } from '../../src/config/load.js';
import { kindOf, defaultDetectors } from '../../src/processors/anomaly/config.js';
import { startVigilProcess, type VigilProcess, listening } from '../helpers/cli.js';
import { type Downstream, startGrpcDownstream, until, withoutCheckpoints } from '../helpers/downstream.js';
import { tempDir } from '../helpers/tmp.js';
import { makePki } from '../security/pki.js';
import { attributesOf, checkCollectorWiring, EXAMPLES, exampleText, exitWithin, portOf, resourceAttribute, type Yaml } from './helpers.js';

const running: VigilProcess[] = [];
const downstreams: Downstream[] = [];
afterEach(async () => {
  for (const v of running.splice(0)) if (v.child.exitCode === null) v.child.kill('SIGKILL');
  for (const d of downstreams.splice(0)) await d.stop().catch(() => undefined);
});

/** A Collector config value with its ${env:X:-default} references resolved to the defaults (`env`: the required ones). */
function withDefaults<T>(v: T, env: NodeJS.ProcessEnv = {}): T {
  return expandEnv(v, env) as T;
}

/** Every ${env:NAME} (with or without default) a YAML text references. */
function envNames(text: string): Set<string> {
  return new Set([...text.matchAll(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]));
}

describe('examples/collector', () => {
  const vigilPath = join(EXAMPLES, 'collector', 'vigil.yaml');
  const secured = { VIGIL_TLS_CERT: '/etc/vigil/tls/vigil.pem', VIGIL_TLS_KEY: '/etc/vigil/tls/vigil.key', VIGIL_TLS_CA: '/etc/vigil/tls/ca.pem', VIGIL_TOKEN: 'a-token-of-at-least-16-chars' };

  it('vigil.yaml loads with the defaults and with the variables the README documents', () => {
    const readme = exampleText('collector', 'README.md');
    for (const name of envNames(exampleText('collector', 'vigil.yaml'))) expect(readme, `README documents ${name}`).toContain(name);

    for (const name of Object.keys(secured)) expect(readme, `README sets ${name}`).toMatch(new RegExp(`export (\\S+ )*${name}=`));
    const plain = loadConfig(vigilPath, defaultRegistry(), { env: secured });
    expect((plain.exporters.get('otlp_grpc/siem')!.config as Yaml).endpoint).toBe('otelcol:14317');
    expect((plain.exporters.get('worm')!.config as Yaml).directory).toBe('/var/lib/vigil/archive');
    // Across hosts: TLS and a bearer token, both ways.
    const grpcReceiver = (plain.receivers.get('otlp')!.config as Yaml).protocols.grpc;
    expect(grpcReceiver.tls).toMatchObject({ cert_file: secured.VIGIL_TLS_CERT, key_file: secured.VIGIL_TLS_KEY });
    expect(grpcReceiver.auth).toEqual({ authenticator: 'bearertokenauth' });
    expect((plain.exporters.get('otlp_grpc/siem')!.config as Yaml).tls).toMatchObject({ insecure: false, ca_file: secured.VIGIL_TLS_CA });
    expect((plain.exporters.get('otlp_grpc/siem')!.config as Yaml).headers).toEqual({ authorization: `Bearer ${secured.VIGIL_TOKEN}` });
    expect(() => loadConfig(vigilPath, defaultRegistry(), { env: {} })).toThrow(/VIGIL_TLS_CERT is not set/);

    const env = { ...secured, VIGIL_DATA_DIR: '/data/vigil', VIGIL_RETURN_ENDPOINT: 'collector.internal:24317', DEPLOYMENT_ENVIRONMENT: 'staging' };
    const cfg = loadConfig(vigilPath, defaultRegistry(), { env });
    expect((cfg.exporters.get('otlp_grpc/siem')!.config as Yaml).endpoint).toBe('collector.internal:24317');
    expect((cfg.exporters.get('worm')!.config as Yaml).directory).toBe('/data/vigil/archive');
    expect((cfg.extensions.get('file_storage')!.config as Yaml).directory).toBe('/data/vigil/queue');
    expect((cfg.processors.get('audit')!.config as Yaml).environment).toBe('staging');
    expect(cfg.service.pipelines[0]).toMatchObject({ receivers: ['otlp'], processors: ['memory_limiter', 'audit', 'anomaly'], exporters: ['worm', 'otlp_grpc/siem'] });
  });

  it('otelcol.yaml is wired to vigil.yaml: ports, pipelines, durable queues, no batching before Vigil', () => {
    const col = parseYaml(exampleText('collector', 'otelcol.yaml')) as Yaml;
    const vig = parseYaml(exampleText('collector', 'vigil.yaml')) as Yaml;
    checkCollectorWiring(col);
    const toVigil = withDefaults(col.exporters['otlp_grpc/vigil'], { VIGIL_CA_FILE: '/etc/otelcol/tls/ca.pem' });
    expect(portOf(toVigil.endpoint)).toBe(portOf(vig.receivers.otlp.protocols.grpc.endpoint));
    const back = withDefaults(vig.exporters['otlp_grpc/siem'], { VIGIL_TLS_CA: '/ca.pem', VIGIL_TOKEN: 'a-token-of-at-least-16-chars' });
    expect(portOf(back.endpoint)).toBe(portOf(col.receivers['otlp/vigil'].protocols.grpc.endpoint));
    expect(col.service.pipelines['logs/to_vigil'].exporters).toEqual(['otlp_grpc/vigil']);
    expect(col.service.pipelines['logs/siem'].receivers).toEqual(['otlp/vigil']);
    // The return path must not loop back into Vigil.
    expect(col.service.pipelines['logs/siem'].exporters).not.toContain('otlp_grpc/vigil');
    expect(Object.keys(col.processors)).not.toContain('batch');
    // TLS and the token both ways, as Vigil's side expects them.
    expect(toVigil.tls).toEqual({ ca_file: expect.any(String) });
    expect(col.extensions[toVigil.auth.authenticator]).toBeDefined();
    expect(col.receivers['otlp/vigil'].protocols.grpc.auth.authenticator).toBe(toVigil.auth.authenticator);
    expect(col.receivers['otlp/vigil'].protocols.grpc.tls).toEqual({ cert_file: expect.any(String), key_file: expect.any(String) });
    expect(col.service.extensions).toContain(toVigil.auth.authenticator);
    expect(toVigil.sending_queue.storage).toBe('file_storage');
    expect(col.receivers['filelog/access'].storage).toBe('file_storage');
    const readme = exampleText('collector', 'README.md');
    for (const name of envNames(exampleText('collector', 'otelcol.yaml'))) expect(readme, `README documents ${name}`).toContain(name);
  });

  it('vigil.yaml runs: records sent as the Collector sends them come back enriched on the return path', async () => {
    const dir = tempDir('vigil-collector-example-');
    const back = await startGrpcDownstream(); // stands in for the Collector's otlp/vigil receiver
    downstreams.push(back);
    // The example as it is, but listening on free loopback ports.
    const cfg = parseYaml(exampleText('collector', 'vigil.yaml')) as Yaml;
    cfg.receivers.otlp.protocols.grpc.endpoint = '127.0.0.1:0';
    cfg.extensions.health_check.endpoint = '127.0.0.1:0';
    cfg.service.telemetry.metrics.address = '';
    cfg.service.telemetry.logs = { level: 'warn' };
    // The stand-in Collector is plaintext: only the return path's TLS is replaced (its token stays).
    cfg.exporters['otlp_grpc/siem'].tls = { insecure: true };
    const path = join(dir, 'vigil.yaml');
    writeFileSync(path, stringifyYaml(cfg));
    const pki = makePki(tempDir('vigil-collector-pki-'));
    const token = 'collector-example-token-0123456789';
    const v = await startVigilProcess(['run', '--config', path], {
      cwd: dir,
      env: { VIGIL_DATA_DIR: dir, VIGIL_RETURN_ENDPOINT: back.address, VIGIL_TLS_CERT: pki.server.cert, VIGIL_TLS_KEY: pki.server.key, VIGIL_TLS_CA: pki.ca, VIGIL_TOKEN: token },
    });
    running.push(v);
    const port = listening(v).grpc.split(':').pop();
    const url = `https://localhost:${port}`;
    const credentials = grpcJs.credentials.createSsl(readFileSync(pki.ca));
    const withToken = new grpcJs.Metadata();
    withToken.set('authorization', `Bearer ${token}`);

    // Without the token the receiver refuses, even over TLS.
    const refused = await new Promise<{ code: number }>((resolve) =>
      new GrpcLogExporter({ url, credentials }).export([] as never, (r) => resolve({ code: r.code })),
    );
    expect(refused.code).not.toBe(0);

    // What filelog/access sends (the raw line as the body), and what an SDK sends.
    const line = '203.0.113.7 - carol [26/Nov/2026:09:15:02 +0000] "POST /api/login HTTP/1.1" 401 73 "-" "curl/8.5.0" 0.012';
    for (const [service, emit] of [
      ['nginx', { body: line, attributes: { 'log.file.name': 'access.log' } }],
      ['checkout', { body: 'GET /cart 200', attributes: { 'http.request.method': 'GET', 'url.path': '/cart', 'http.response.status_code': 200, 'client.address': '198.51.100.4' } }],
    ] as const) {
      const provider = new LoggerProvider({
        resource: resourceFromAttributes({ 'service.name': service }),
        processors: [new BatchLogRecordProcessor({ exporter: new GrpcLogExporter({ url, credentials, metadata: withToken }) })],
      });
      provider.getLogger('test').emit({ ...emit, attributes: { ...emit.attributes } });
      await provider.shutdown();
    }

    // The archive's signed checkpoints take the return path too (worm and otlp_grpc/siem share the
    // pipeline), one within a second of the first record: on a slow machine, before the second.
    const sent = () => withoutCheckpoints(back.records());
    await until(() => sent().length >= 2, () => `both records on the return path (${sent().length} of 2, ${back.records().length} records in all)`);
    const nginx = sent().find((r) => resourceAttribute(r, 'service.name') === 'nginx')!;
    expect(attributesOf(nginx)).toMatchObject({
      'log.file.name': 'access.log',
      'client.address': '203.0.113.7',
      'user.id': 'carol',
      'http.request.method': 'POST',
      'url.path': '/api/login',
      'http.response.status_code': 401,
      'audit.action': 'login',
      'audit.outcome': 'failure',
      'audit.parse_status': 'ok',
      'ocsf.class_uid': 3002,
    });
    expect(nginx.log.body?.stringValue).toBe(line);
    const checkout = sent().find((r) => resourceAttribute(r, 'service.name') === 'checkout')!;
    expect(attributesOf(checkout)).toMatchObject({ 'audit.outcome': 'success', 'audit.action': 'read', 'anomaly.detected': false });
    for (const r of sent()) expect(attributesOf(r)['audit.record_id']).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(back.authorizations)).toEqual(new Set([`Bearer ${token}`]));

    // The archive and the persistent queue live under VIGIL_DATA_DIR.
    v.child.kill('SIGTERM');
    expect(await exitWithin(v, 30_000, 'vigil')).toBe(0);
    expect(readdirSync(join(dir, 'archive')).some((f) => /^segment-\d+\.(jsonl(\.gz)?|vlog(\.zst)?)$/.test(f))).toBe(true);
    expect(existsSync(join(dir, 'keys', 'archive.key'))).toBe(true);
    expect(existsSync(join(dir, 'queue'))).toBe(true);
  });
});

describe('examples/collector-loadbalancing', () => {
  const vigilPath = join(EXAMPLES, 'collector-loadbalancing', 'vigil.yaml');
  const required = {
    VIGIL_S3_BUCKET: 'audit-logs',
    ALERTMANAGER_URL: 'http://alertmanager:9093',
    VIGIL_TLS_CERT: '/etc/vigil/tls/vigil.pem',
    VIGIL_TLS_KEY: '/etc/vigil/tls/vigil.key',
    VIGIL_TLS_CA: '/etc/vigil/tls/ca.pem',
    VIGIL_TOKEN: 'a-token-of-at-least-16-chars',
  };

  it('vigil.yaml loads with the variables the README sets, and names the required ones when missing', () => {
    const readme = exampleText('collector-loadbalancing', 'README.md');
    for (const name of envNames(exampleText('collector-loadbalancing', 'vigil.yaml'))) expect(readme, `README documents ${name}`).toContain(name);
    for (const name of Object.keys(required)) expect(readme, `README sets ${name}`).toMatch(new RegExp(`export (\\S+ )*${name}=`));

    const cfg = loadConfig(vigilPath, defaultRegistry(), { env: { ...required, VIGIL_PSEUDONYM_KEY: 'k', HOSTNAME: 'vigil-1' } });
    const worm = cfg.exporters.get('worm')!.config as Yaml;
    expect(worm.s3.bucket).toBe('audit-logs');
    expect(worm.s3.object_lock.mode).toBe('COMPLIANCE');
    expect((cfg.exporters.get('alertmanager')!.config as Yaml).labels).toEqual({ vigil_instance: 'vigil-1' });
    expect((cfg.processors.get('audit')!.config as Yaml).pseudonymisation.key_env).toBe('VIGIL_PSEUDONYM_KEY');

    let err: unknown;
    try {
      loadConfig(vigilPath, defaultRegistry(), { env: {} });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    for (const name of Object.keys(required)) expect((err as Error).message).toContain(name);
  });

  it('the gateway shards on one key, set by transform, grouped per resource, routed by attributes to the Vigil port', () => {
    const col = parseYaml(exampleText('collector-loadbalancing', 'otelcol.yaml')) as Yaml;
    const vig = parseYaml(exampleText('collector-loadbalancing', 'vigil.yaml')) as Yaml;
    checkCollectorWiring(col);
    const lb = col.exporters.loadbalancing;
    expect(lb.routing_key).toBe('attributes');
    expect(lb.routing_attributes).toHaveLength(1);
    const key = lb.routing_attributes[0] as string;
    expect(col.processors['groupbyattrs/shard'].keys).toEqual([key]);
    const statements: string[] = col.processors['transform/shard'].log_statements.flatMap((s: Yaml) => s.statements);
    expect(statements.some((s) => s.startsWith(`set(attributes["${key}"]`) && s.includes('attributes["client.address"]'))).toBe(true);
    // Order matters: the key is set, then grouped, then routed.
    expect(col.service.pipelines['logs/shard'].processors.slice(-2)).toEqual(['transform/shard', 'groupbyattrs/shard']);
    expect(col.service.pipelines['logs/shard'].exporters).toEqual(['loadbalancing']);
    const vigilPort = portOf(vig.receivers.otlp.protocols.grpc.endpoint);
    for (const h of lb.resolver.static.hostnames) expect(portOf(h)).toBe(vigilPort);
    expect(portOf(withDefaults(vig.exporters['otlp_grpc/siem'], required).endpoint)).toBe(portOf(col.receivers['otlp/vigil'].protocols.grpc.endpoint));
    // Across hosts: TLS and the token both ways.
    expect(lb.protocol.otlp.tls).toEqual({ ca_file: expect.any(String) });
    expect(lb.protocol.otlp.auth.authenticator).toBe(col.receivers['otlp/vigil'].protocols.grpc.auth.authenticator);
    expect(col.service.extensions).toContain(lb.protocol.otlp.auth.authenticator);
    expect(vig.receivers.otlp.protocols.grpc.auth).toEqual({ authenticator: 'bearertokenauth' });
    expect(vig.receivers.otlp.protocols.grpc.tls.cert_file).toBeDefined();
  });

  it("the README's detector table lists exactly the default detectors, exact where the key is the shard key", () => {
    const readme = exampleText('collector-loadbalancing', 'README.md');
    const rows = [...readme.matchAll(/^\| `([a-z0-9_]+)` \| ([a-z_]+) \| `([^`]+)` \| (.+) \|$/gm)].map((m) => ({
      name: m[1],
      kind: m[2],
      key: m[3].replace(/\\\|/g, '|'),
      verdict: m[4],
    }));
    const defaults = defaultDetectors(['/admin*']);
    expect(rows.map((r) => r.name).sort()).toEqual(defaults.map((d) => d.name).sort());
    for (const d of defaults) {
      const row = rows.find((r) => r.name === d.name)!;
      expect(row.kind, d.name).toBe(kindOf(d));
      expect(row.key, d.name).toBe(d.key.join(', '));
      expect(row.verdict.startsWith('**exact**'), `${d.name}: ${row.verdict}`).toBe(d.key.length === 1 && d.key[0] === 'client.address');
    }
  });
});
