// Bearer-token authentication (the bearertokenauth extension) on both OTLP
// receivers, the telemetry server and health_check: calls without a valid
// token get UNAUTHENTICATED / 401 + WWW-Authenticate, are counted, and store
// nothing; several tokens work at once; a token file is re-read when it
// changes (rotation) and refused when others can read it.
import * as grpc from '@grpc/grpc-js';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as HttpJsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { validateConfig } from '../../src/config/load.js';
import { BearerTokenAuthExtension, bearerTokenAuthConfigSchema } from '../../src/extensions/bearertokenauth/bearertokenauth.js';
import { HealthCheckExtension } from '../../src/extensions/health_check/health_check.js';
import { TokenSet, credentialOf, parseTokenFile } from '../../src/security/bearer.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { Telemetry } from '../../src/telemetry/metrics.js';
import { TelemetryServer } from '../../src/telemetry/server.js';
import { until } from '../helpers/downstream.js';
import { tempDir } from '../helpers/tmp.js';
import { BODY_RECORDS, grpcCall, request, sendWithSdk } from './clients.js';
import { type Secured, logLines, registry, startSecured } from './harness.js';
import { makePki, read } from './pki.js';

const dir = tempDir('vigil-auth-');
const pkiDir = tempDir('vigil-auth-pki-');
const TOKEN_A = 'tok-A-3f9c1e7a5b2d8e4f6a1c';
const TOKEN_B = 'tok-B-8d2e6f1a9c3b7e5d4a2f';
const running: { stop(): Promise<unknown> }[] = [];
afterAll(async () => {
  for (const r of running.reverse()) await r.stop();
});

describe('bearer tokens (pure parts)', () => {
  it('takes the credential out of the header, scheme case-insensitive', () => {
    expect(credentialOf(`Bearer ${TOKEN_A}`, 'Bearer')).toBe(TOKEN_A);
    expect(credentialOf(`bearer   ${TOKEN_A}`, 'Bearer')).toBe(TOKEN_A);
    expect(credentialOf(`Basic ${TOKEN_A}`, 'Bearer')).toBeUndefined();
    expect(credentialOf('Bearer', 'Bearer')).toBeUndefined();
    expect(credentialOf('Bearer a b', 'Bearer')).toBeUndefined();
    expect(credentialOf(undefined, 'Bearer')).toBeUndefined();
    expect(credentialOf(TOKEN_A, '')).toBe(TOKEN_A);
  });

  it('matches any configured token and nothing else (prefixes, extensions and case included)', () => {
    const set = new TokenSet([TOKEN_A, TOKEN_B]);
    expect(set.has(TOKEN_A)).toBe(true);
    expect(set.has(TOKEN_B)).toBe(true);
    for (const wrong of ['', TOKEN_A.slice(0, -1), `${TOKEN_A}x`, TOKEN_A.toUpperCase(), 'tok-C-0000000000000000']) expect(set.has(wrong)).toBe(false);
    expect(new TokenSet([]).has('')).toBe(false);
  });

  it('reads token files: one per line, blank lines and comments ignored', () => {
    expect(parseTokenFile(`# rotation in progress\n${TOKEN_A}\r\n\n  ${TOKEN_B}  \n`)).toEqual([TOKEN_A, TOKEN_B]);
  });

  it('refuses weak or malformed tokens in config, never quoting them', () => {
    const short = 'short-secret';
    const r = bearerTokenAuthConfigSchema.safeParse({ tokens: [TOKEN_A, short, `${TOKEN_B} x`] });
    expect(r.success).toBe(false);
    const msgs = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(msgs).toEqual([expect.stringMatching(/^tokens\.1: a token must be at least 16/), expect.stringMatching(/^tokens\.2: a token is one word/)]);
    expect(JSON.stringify(r.error)).not.toContain(short);
    expect(bearerTokenAuthConfigSchema.safeParse({}).error?.issues[0].message).toMatch(/set token/);
    expect(bearerTokenAuthConfigSchema.safeParse({ token: TOKEN_A, filename: '/x' }).error?.issues[0].message).toMatch(/only one of/);
  });
});

describe('bearer-token auth on the otlp receiver', () => {
  let h: Secured;
  const log = logLines();
  beforeAll(async () => {
    h = await startSecured(dir, {
      grpc: { auth: { authenticator: 'bearertokenauth' } },
      http: { auth: { authenticator: 'bearertokenauth' } },
      extensions: { bearertokenauth: { tokens: [TOKEN_A, TOKEN_B] } },
      logger: log.logger,
    });
    running.push(h);
  });

  it('gRPC: no token or a wrong one → UNAUTHENTICATED, nothing stored, counted; a valid one → OK', async () => {
    const none = await grpcCall(h.grpc);
    const wrong = await grpcCall(h.grpc, { metadata: { authorization: `Bearer ${TOKEN_A}x` } });
    const basic = await grpcCall(h.grpc, { metadata: { authorization: `Basic ${TOKEN_A}` } });
    for (const out of [none, wrong, basic]) expect(out).toEqual({ code: grpc.status.UNAUTHENTICATED, details: 'missing or invalid bearer token' });
    expect(h.gate.arrived).toBe(0);
    expect(h.stored()).toHaveLength(0);
    expect(await h.metric('vigil_server_refused_requests_total', { server: 'otlp', transport: 'grpc', reason: 'unauthenticated' })).toBe(3);

    expect((await grpcCall(h.grpc, { metadata: { authorization: `Bearer ${TOKEN_A}` } })).code).toBe(grpc.status.OK);
    expect((await grpcCall(h.grpc, { metadata: { authorization: `bearer ${TOKEN_B}` } })).code).toBe(grpc.status.OK);
    expect(h.stored()).toHaveLength(2 * BODY_RECORDS);
  });

  it('HTTP: 401 with WWW-Authenticate (error="invalid_token" only when a token was sent), nothing stored; a valid token → 200', async () => {
    const before = h.stored().length;
    const none = await request(`http://${h.http}/v1/logs`, { headers: { 'content-type': 'application/json' }, body: Buffer.from('{}') });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="vigil"');
    expect(JSON.parse(none.body.toString())).toMatchObject({ code: 16, message: 'missing or invalid bearer token' });
    const wrong = await request(`http://${h.http}/v1/logs`, { headers: { authorization: `Bearer ${TOKEN_B.slice(1)}`, 'content-type': 'application/json' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toBe('Bearer realm="vigil", error="invalid_token"');
    // Auth comes before everything else the request could be refused for.
    const get = await request(`http://${h.http}/v1/logs`, { method: 'GET' });
    expect(get.status).toBe(401);
    expect(h.stored()).toHaveLength(before);
    expect(await h.metric('vigil_server_refused_requests_total', { server: 'otlp', transport: 'http', reason: 'unauthenticated' })).toBe(3);

    const ok = await request(`http://${h.http}/v1/logs`, { headers: { authorization: `Bearer ${TOKEN_B}` } });
    expect(ok.status).toBe(200);
    expect(h.stored()).toHaveLength(before + BODY_RECORDS);
  });

  it('the official exporters send their token as a header / metadata', async () => {
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${TOKEN_A}`);
    expect(await sendWithSdk(new GrpcLogExporter({ url: `http://${h.grpc}`, metadata: md }), 'auth-grpc')).toBe(0);
    expect(await sendWithSdk(new HttpJsonLogExporter({ url: `http://${h.http}/v1/logs`, headers: { Authorization: `Bearer ${TOKEN_B}` } }), 'auth-http')).toBe(0);
    const noToken = await sendWithSdk(new HttpJsonLogExporter({ url: `http://${h.http}/v1/logs` }), 'auth-none');
    expect(noToken).not.toBe(0);
    const scopes = h.stored().map((r) => r.scope.scope.name);
    expect(scopes.filter((s) => s === 'auth-grpc')).toHaveLength(2);
    expect(scopes.filter((s) => s === 'auth-http')).toHaveLength(2);
    expect(scopes).not.toContain('auth-none');
  });

  it('never logs a token, sent or configured', () => {
    expect(log.text()).not.toContain('tok-');
    expect(log.lines.some((l) => l.code === 'UNAUTHENTICATED' || l.status === 401)).toBe(true);
  });

  it('says so in its description', () => {
    expect(h.receiver.describe()).toEqual([`OTLP/gRPC ${h.grpc} (bearer auth)`, `OTLP/HTTP http://${h.http}/v1/logs (bearer auth)`]);
  });
});

describe('token file', () => {
  it('is re-read when it changes: both tokens during a rotation, then only the new one', async () => {
    const file = join(dir, 'tokens');
    writeFileSync(file, `${TOKEN_A}\n`, { mode: 0o600 });
    const log = logLines();
    const h = await startSecured(dir, {
      http: null,
      grpc: { auth: { authenticator: 'bearertokenauth/file' } },
      extensions: { 'bearertokenauth/file': { filename: file, reload_interval: '50ms' } },
      logger: log.logger,
    });
    running.push(h);
    const call = (t: string) => grpcCall(h.grpc, { metadata: { authorization: `Bearer ${t}` } }).then((o) => o.code);
    expect(await call(TOKEN_A)).toBe(grpc.status.OK);
    expect(await call(TOKEN_B)).toBe(grpc.status.UNAUTHENTICATED);

    writeFileSync(file, `${TOKEN_A}\n${TOKEN_B}\n`);
    await until(async () => (await call(TOKEN_B)) === grpc.status.OK, 'the new token to be accepted');
    expect(await call(TOKEN_A)).toBe(grpc.status.OK);

    writeFileSync(file, `${TOKEN_B}\n`);
    await until(async () => (await call(TOKEN_A)) === grpc.status.UNAUTHENTICATED, 'the old token to be refused');
    expect(await call(TOKEN_B)).toBe(grpc.status.OK);

    // An empty file (a rotation caught half-way) keeps the previous tokens. Refusals are counted from
    // here: a write above may have been polled half-way (truncated, still empty) and refused already.
    const refusals = () => log.lines.filter((l) => l.msg === 'token file changed but cannot be used; keeping the previous tokens').length;
    const refusedBefore = refusals();
    writeFileSync(file, '');
    await until(() => refusals() > refusedBefore, 'the refusal to be logged');
    expect(await call(TOKEN_B)).toBe(grpc.status.OK);
    expect(log.text()).not.toContain('tok-');
  });

  it('is refused when group or others can read it, naming the key', () => {
    const file = join(dir, 'shared-tokens');
    writeFileSync(file, `${TOKEN_A}\n`);
    chmodSync(file, 0o644);
    const make = () => new BearerTokenAuthExtension(bearerTokenAuthConfigSchema.parse({ filename: file }), 'bearertokenauth', silentLogger());
    expect(make).toThrow(ConfigError);
    expect(make).toThrow(/extensions\.bearertokenauth\.filename: the token file .* is accessible by group or others \(mode 0644\): run chmod 600/);
  });
});

describe('wiring mistakes', () => {
  it('an auth block naming an extension that is not running stops start-up, naming the key', async () => {
    await expect(startSecured(dir, { http: null, grpc: { auth: { authenticator: 'bearertokenauth' } } })).rejects.toThrow(
      /receivers\.otlp\.protocols\.grpc\.auth\.authenticator: extension "bearertokenauth" is not running: define it under extensions: and list it in service\.extensions/,
    );
    await expect(
      startSecured(dir, { grpc: null, http: { auth: { authenticator: 'health_check' } }, extensions: { health_check: { endpoint: '127.0.0.1:0' } } }),
    ).rejects.toThrow(/extension "health_check" does not authenticate requests/);
  });

  it('service.telemetry.metrics takes tls and auth', () => {
    const c = validateConfig(
      {
        receivers: { otlp: { protocols: { grpc: {} } } },
        exporters: { file: { path: join(dir, 'x.jsonl') } },
        extensions: { bearertokenauth: { token: TOKEN_A } },
        service: {
          extensions: ['bearertokenauth'],
          telemetry: { metrics: { address: '0.0.0.0:8888', tls: { cert_file: 'a.pem', key_file: 'a.key' }, auth: { authenticator: 'bearertokenauth' } } },
          pipelines: { logs: { receivers: ['otlp'], exporters: ['file'] } },
        },
      },
      registry,
    );
    expect(c.service.telemetry.metrics).toMatchObject({ tls: { cert_file: 'a.pem', min_version: '1.2' }, auth: { authenticator: 'bearertokenauth' } });
  });
});

describe('telemetry server and health_check', () => {
  const ext = () => new BearerTokenAuthExtension(bearerTokenAuthConfigSchema.parse({ token: TOKEN_A }), 'bearertokenauth', silentLogger());
  const host = (auth: BearerTokenAuthExtension) => ({ getExtension: <T>(id: string) => (id === 'bearertokenauth' ? (auth as T) : undefined), state: 'ready' as const });

  it('/metrics (and every route mounted later) needs the token when auth is set; TLS works too', async () => {
    const pki = makePki(pkiDir);
    const telemetry = new Telemetry({ processMetrics: false });
    const log = logLines();
    const server = new TelemetryServer('127.0.0.1:0', telemetry, {
      auth: { authenticator: 'bearertokenauth' },
      tls: { cert_file: pki.server.cert, key_file: pki.server.key, reload_interval: 0, min_version: '1.2' },
      logger: log.logger,
    });
    server.mount('/status', (_req, res) => void res.end('status page'));
    await server.start(host(ext()));
    running.push(server);
    const url = server.url('/metrics');
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const ca = read(pki.ca);
    const denied = await request(url, { method: 'GET', ca });
    expect(denied.status).toBe(401);
    expect(denied.headers['www-authenticate']).toBe('Bearer realm="vigil"');
    expect((await request(server.url('/status'), { method: 'GET', ca })).status).toBe(401);
    const ok = await request(url, { method: 'GET', ca, headers: { authorization: `Bearer ${TOKEN_A}` } });
    expect(ok.status).toBe(200);
    expect(ok.body.toString()).toContain('vigil_server_refused_requests_total{server="telemetry",transport="http",reason="unauthenticated"} 2');
    expect((await request(server.url('/status'), { method: 'GET', ca, headers: { authorization: `Bearer ${TOKEN_A}` } })).body.toString()).toBe('status page');
    // Loopback: no exposure warning.
    expect(log.lines.some((l) => l.level === 'warn')).toBe(false);
  });

  it('warns when the telemetry server listens beyond loopback without auth', async () => {
    const log = logLines();
    const server = new TelemetryServer('0.0.0.0:0', new Telemetry({ processMetrics: false }), { logger: log.logger });
    await server.start();
    running.push(server);
    expect(log.lines.find((l) => l.level === 'warn')).toMatchObject({
      key: 'service.telemetry.metrics',
      tls: false,
      auth: false,
      msg: expect.stringMatching(/non-loopback address: .*Set service\.telemetry\.metrics\.tls and service\.telemetry\.metrics\.auth, or bind to 127\.0\.0\.1/),
    });
  });

  it('health_check answers probes without a token by default, and only with one when auth is set', async () => {
    const open = new HealthCheckExtension({ endpoint: '127.0.0.1:0', path: '/' });
    await open.start(host(ext()));
    running.push({ stop: () => open.shutdown() });
    expect((await request(`http://${open.address()}/`, { method: 'GET' })).status).toBe(200);

    const closed = new HealthCheckExtension({ endpoint: '127.0.0.1:0', path: '/', auth: { authenticator: 'bearertokenauth' } });
    await closed.start(host(ext()));
    running.push({ stop: () => closed.shutdown() });
    expect((await request(`http://${closed.address()}/`, { method: 'GET' })).status).toBe(401);
    expect((await request(`http://${closed.address()}/`, { method: 'GET', headers: { authorization: `Bearer ${TOKEN_A}` } })).status).toBe(200);

    mkdirSync(join(pkiDir, 'health'));
    const pki = makePki(join(pkiDir, 'health'));
    const tls = new HealthCheckExtension({ endpoint: '127.0.0.1:0', path: '/', tls: { cert_file: pki.server.cert, key_file: pki.server.key, min_version: '1.2', reload_interval: 0 } });
    await tls.start(host(ext()));
    running.push({ stop: () => tls.shutdown() });
    expect(tls.describe()[0]).toMatch(/^health https:\/\/127\.0\.0\.1:\d+\/ \(TLS\)$/);
    expect((await request(`https://${tls.address()}/`, { method: 'GET', ca: read(pki.ca) })).status).toBe(200);
  });
});
