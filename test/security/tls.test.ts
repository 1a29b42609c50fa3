// TLS and mTLS on both OTLP receivers, with a throwaway PKI made by openssl:
// the official OTel exporters and plain clients connect with the CA (and a
// client certificate for mTLS); clients without the right credentials are
// turned away at the handshake and nothing they sent is stored; min_version
// is enforced; replacing the certificate files switches new connections to
// the new certificate without a restart, and a broken replacement is refused.
import * as grpc from '@grpc/grpc-js';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as HttpProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../helpers/downstream.js';
import { tempDir } from '../helpers/tmp.js';
import { BODY_RECORDS, grpcCall, peerFingerprint, request, sendWithSdk } from './clients.js';
import { type Secured, logLines, startSecured } from './harness.js';
import { type Pki, fingerprintOf, makePki, read, replaceFile } from './pki.js';

const dir = tempDir('vigil-tls-');
let pki: Pki;
const running: Secured[] = [];

beforeAll(() => {
  pki = makePki(dir);
});
afterAll(async () => {
  for (const h of running) await h.stop();
});

async function start(opts: Parameters<typeof startSecured>[1]): Promise<Secured> {
  const h = await startSecured(dir, opts);
  running.push(h);
  return h;
}

const sslCreds = (withClient = false, rogue = false) =>
  grpc.credentials.createSsl(
    read(pki.ca),
    withClient ? read(rogue ? pki.rogueClient.key : pki.client.key) : null,
    withClient ? read(rogue ? pki.rogueClient.cert : pki.client.cert) : null,
  );

describe('TLS on the otlp receiver', () => {
  let h: Secured;
  beforeAll(async () => {
    const tls = { cert_file: pki.server.cert, key_file: pki.server.key };
    h = await start({ grpc: { tls }, http: { tls } });
  });

  it('says so in its description (https URL)', () => {
    expect(h.receiver.describe()).toEqual([`OTLP/gRPC ${h.grpc} (TLS)`, `OTLP/HTTP https://${h.http}/v1/logs (TLS)`]);
  });

  it('takes logs from the official gRPC and HTTP exporters over TLS', async () => {
    const g = new GrpcLogExporter({ url: `https://localhost:${h.grpc.split(':')[1]}`, credentials: sslCreds() });
    expect(await sendWithSdk(g, 'tls-grpc')).toBe(0);
    const p = new HttpProtoLogExporter({ url: `https://localhost:${h.http.split(':')[1]}/v1/logs`, httpAgentOptions: { ca: read(pki.ca) } });
    expect(await sendWithSdk(p, 'tls-http')).toBe(0);
    expect(h.stored().map((r) => r.scope.scope.name).sort()).toEqual(['tls-grpc', 'tls-grpc', 'tls-http', 'tls-http']);
  });

  it('does not speak plaintext on a TLS port, and clients that do not trust the CA cannot connect', async () => {
    const before = h.stored().length;
    expect((await grpcCall(h.grpc)).code).toBe(grpc.status.UNAVAILABLE);
    expect((await grpcCall(h.grpc, { credentials: grpc.credentials.createSsl(read(pki.rogueCa)) })).code).toBe(grpc.status.UNAVAILABLE);
    await expect(request(`http://${h.http}/v1/logs`)).rejects.toThrow();
    await expect(request(`https://${h.http}/v1/logs`, { ca: read(pki.rogueCa) })).rejects.toThrow(/self-signed|unable to verify|certificate/i);
    expect(h.stored().length).toBe(before);
  });
});

describe('mTLS (client_ca_file) on the otlp receiver', () => {
  let h: Secured;
  beforeAll(async () => {
    const tls = { cert_file: pki.server.cert, key_file: pki.server.key, client_ca_file: pki.ca };
    h = await start({ grpc: { tls }, http: { tls } });
  });

  it('accepts clients presenting a certificate from the client CA', async () => {
    expect((await grpcCall(h.grpc, { credentials: sslCreds(true) })).code).toBe(grpc.status.OK);
    const out = await request(`https://${h.http}/v1/logs`, { ca: read(pki.ca), cert: read(pki.client.cert), key: read(pki.client.key) });
    expect(out.status).toBe(200);
    expect(h.stored()).toHaveLength(2 * BODY_RECORDS);
    expect(h.receiver.describe()[0]).toMatch(/\(mTLS\)$/);
  });

  it('turns away clients without a certificate or with one from another CA; nothing is stored', async () => {
    expect((await grpcCall(h.grpc, { credentials: sslCreds(false) })).code).toBe(grpc.status.UNAVAILABLE);
    expect((await grpcCall(h.grpc, { credentials: sslCreds(true, true) })).code).toBe(grpc.status.UNAVAILABLE);
    await expect(request(`https://${h.http}/v1/logs`, { ca: read(pki.ca) })).rejects.toThrow();
    await expect(
      request(`https://${h.http}/v1/logs`, { ca: read(pki.ca), cert: read(pki.rogueClient.cert), key: read(pki.rogueClient.key) }),
    ).rejects.toThrow();
    expect(h.stored()).toHaveLength(2 * BODY_RECORDS);
  });
});

describe('min_version', () => {
  it('refuses TLS 1.2 clients when min_version is 1.3', async () => {
    const tls = { cert_file: pki.server.cert, key_file: pki.server.key, min_version: '1.3' };
    const h = await start({ grpc: null, http: { tls } });
    await expect(request(`https://${h.http}/v1/logs`, { ca: read(pki.ca), maxVersion: 'TLSv1.2' })).rejects.toThrow(/version|alert/i);
    expect((await request(`https://${h.http}/v1/logs`, { ca: read(pki.ca) })).status).toBe(200);
  });
});

describe('certificate reload', () => {
  it('serves the new certificate on new connections once the files change, with no restart', async () => {
    // Files of its own, replaced the way cert-manager or an operator does (write aside, rename over).
    const cert = join(dir, 'live.pem');
    const key = join(dir, 'live.key');
    copyFileSync(pki.server.cert, cert);
    replaceFile(pki.server.key, key);
    const tls = { cert_file: cert, key_file: key, client_ca_file: pki.ca, reload_interval: '50ms' };
    const log = logLines();
    const h = await start({ grpc: { tls }, http: { tls }, logger: log.logger });
    const first = fingerprintOf(pki.server.cert);
    expect(await peerFingerprint(h.grpc)).toBe(first);
    expect(await peerFingerprint(h.http)).toBe(first);

    const next = pki.issueServer('vigil-test-server-rotated');
    replaceFile(next.key, key);
    replaceFile(next.cert, cert);
    const second = fingerprintOf(next.cert);
    await until(async () => (await peerFingerprint(h.grpc)) === second && (await peerFingerprint(h.http)) === second, 'the new certificate on both ports');

    // Still mTLS after the swap, and still working.
    expect((await grpcCall(h.grpc, { credentials: sslCreds(true) })).code).toBe(grpc.status.OK);
    expect((await grpcCall(h.grpc, { credentials: sslCreds(false) })).code).toBe(grpc.status.UNAVAILABLE);
    const ok = await request(`https://${h.http}/v1/logs`, { ca: read(pki.ca), cert: read(pki.client.cert), key: read(pki.client.key) });
    expect(ok.status).toBe(200);
    await expect(request(`https://${h.http}/v1/logs`, { ca: read(pki.ca) })).rejects.toThrow();
    expect(log.lines.filter((l) => l.msg === 'TLS certificate reloaded').length).toBeGreaterThanOrEqual(2);

    // A broken replacement (a key that is not the certificate's) is refused; the server keeps the working one.
    // Refusals are counted from here: the swap above (key, then certificate) may have been polled half-way
    // and refused once already, and that earlier line must not stand in for this refusal.
    const refusals = () => log.lines.filter((l) => l.msg === 'TLS files changed but cannot be used; keeping the previous certificate').length;
    const refusedBefore = refusals();
    copyFileSync(pki.client.key, key);
    await until(() => refusals() > refusedBefore, 'the refusal to be logged');
    expect(await peerFingerprint(h.grpc)).toBe(second);
    expect(await peerFingerprint(h.http)).toBe(second);
    expect((await grpcCall(h.grpc, { credentials: sslCreds(true) })).code).toBe(grpc.status.OK);
    const refusal = log.lines.filter((l) => l.msg === 'TLS files changed but cannot be used; keeping the previous certificate')[refusedBefore];
    expect(refusal).toMatchObject({ level: 'error', key: expect.stringMatching(/^receivers\.otlp\.protocols\.(grpc|http)\.tls\.key_file$/) });
    // Key material never reaches the log.
    expect(log.text()).not.toContain('PRIVATE KEY');
  });
});

describe('start-up errors', () => {
  it('names the key when a file is missing or the key does not match the certificate', async () => {
    await expect(startSecured(dir, { http: null, grpc: { tls: { cert_file: join(dir, 'nope.pem'), key_file: pki.server.key } } })).rejects.toThrow(
      /receivers\.otlp\.protocols\.grpc\.tls\.cert_file: cannot read .*nope\.pem: ENOENT/,
    );
    await expect(startSecured(dir, { grpc: null, http: { tls: { cert_file: pki.server.cert, key_file: pki.client.key } } })).rejects.toThrow(
      /receivers\.otlp\.protocols\.http\.tls\.key_file: .* is not the private key of/,
    );
  });
});
