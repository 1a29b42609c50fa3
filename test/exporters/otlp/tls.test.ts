// TLS and mutual TLS towards the downstream, with a throw-away certificate made
// by openssl (skipped, saying so, where openssl is not installed).
import * as grpc from '@grpc/grpc-js';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { otlpGrpcConfigSchema } from '../../../src/exporters/otlp/config.js';
import { GrpcSender } from '../../../src/exporters/otlp/grpc.js';
import { encodeBatchProtobuf } from '../../../src/otlp/convert.js';
import { makeBatch } from '../../helpers/records.js';
import { tempDir } from '../../helpers/tmp.js';
import { GrpcDownstream, HttpDownstream, waitFor } from './downstream.js';
import { buildExporter, deadline } from './harness.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

/** A self-signed certificate for 127.0.0.1 that serves as CA, server and client certificate. */
function makeCert(): { dir: string; cert: string; key: string } {
  const dir = tempDir();
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const r = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-addext', 'extendedKeyUsage=serverAuth,clientAuth',
  ]);
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr.toString()}`);
  return { dir, cert, key };
}

describe.skipIf(!hasOpenssl)(`TLS to the downstream${hasOpenssl ? '' : ' (skipped: openssl is not installed)'}`, () => {
  it('otlp_grpc: TLS with ca_file and a client certificate (mTLS)', async () => {
    const { cert, key } = makeCert();
    const pem = readFileSync(cert);
    const down = await GrpcDownstream.start(grpc.ServerCredentials.createSsl(pem, [{ private_key: readFileSync(key), cert_chain: pem }], true));
    try {
      const tls = { ca_file: cert, cert_file: cert, key_file: key };
      const { exporter } = await buildExporter('otlp_grpc', { endpoint: down.address, tls });
      expect(exporter.describe!()[0]).toContain('(TLS)');
      await exporter.consume(makeBatch(3));
      await waitFor(() => down.delivered.length === 1, 'delivery over mTLS');
      await exporter.shutdown!(deadline(5000));

      // Without a client certificate the server refuses the handshake: a retryable failure.
      const sender = new GrpcSender('otlp_grpc', otlpGrpcConfigSchema.parse({ endpoint: down.address, tls: { ca_file: cert } }));
      await sender.start();
      expect((await sender.send(encodeBatchProtobuf(makeBatch(1)), new AbortController().signal)).kind).toBe('retryable');
      await sender.close();
      expect(down.delivered).toHaveLength(1);
    } finally {
      await down.close();
    }
  });

  it('otlp_http: https with ca_file and a client certificate (mTLS)', async () => {
    const { cert, key } = makeCert();
    const pem = readFileSync(cert);
    const down = await HttpDownstream.start({ key: readFileSync(key), cert: pem, ca: pem, requestCert: true, rejectUnauthorized: true });
    try {
      const { exporter } = await buildExporter('otlp_http', { endpoint: down.url, tls: { ca_file: cert, cert_file: cert, key_file: key } });
      await exporter.consume(makeBatch(2));
      await waitFor(() => down.delivered.length === 1, 'delivery over https');
      await exporter.shutdown!(deadline(5000));
    } finally {
      await down.close();
    }
  });
});

describe('TLS files', () => {
  it('names the key of a TLS file that cannot be read', async () => {
    const err = await buildExporter('otlp_grpc', { endpoint: '127.0.0.1:4317', tls: { ca_file: '/nonexistent/ca.pem' } }).catch((e: unknown) => e);
    expect((err as { issues: unknown[] }).issues).toEqual([
      { path: 'exporters.otlp_grpc.tls.ca_file', message: expect.stringContaining('cannot read /nonexistent/ca.pem') },
    ]);
  });
});
