// Clients for the security tests: raw grpc-js unary calls and https requests
// with chosen TLS credentials and headers, the official OTel exporters driven
// by the logs SDK, and raw sockets for the abusive ones.
import * as grpc from '@grpc/grpc-js';
import http from 'node:http';
import https from 'node:https';
import { type Socket, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { LoggerProvider, BatchLogRecordProcessor, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { encodeProtobufRequest } from '../../src/otlp/convert.js';
import { EXPORT_METHOD_PATH } from '../../src/otlp/schema.js';
import { until } from '../helpers/downstream.js';
import { fullRequest } from '../receivers/otlp/clients.js';

export const BODY = encodeProtobufRequest(fullRequest());
/** Records in BODY. */
export const BODY_RECORDS = 4;

const identity = (b: Buffer) => b;

export interface GrpcOutcome {
  code: grpc.status;
  details: string;
}

/** One Export call on a fresh channel (its own connection: no sharing with other tests' channels). */
export async function grpcCall(
  address: string,
  opts: { credentials?: grpc.ChannelCredentials; metadata?: Record<string, string>; body?: Uint8Array } = {},
): Promise<GrpcOutcome> {
  const client = new grpc.Client(address, opts.credentials ?? grpc.credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.ssl_target_name_override': 'localhost',
    'grpc.max_reconnect_backoff_ms': 200,
  });
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(opts.metadata ?? {})) md.set(k, v);
  try {
    return await new Promise<GrpcOutcome>((resolve) => {
      client.makeUnaryRequest(EXPORT_METHOD_PATH, identity, identity, Buffer.from(opts.body ?? BODY), md, { deadline: Date.now() + 10_000 }, (err) =>
        resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: '' }),
      );
    });
  } finally {
    client.close();
  }
}

export interface HttpsOutcome {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** POST (or another method) over http or https with chosen TLS material; rejects on connection/TLS failure. */
export function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Uint8Array; ca?: Buffer; cert?: Buffer; key?: Buffer; maxVersion?: 'TLSv1.2' | 'TLSv1.3' } = {},
): Promise<HttpsOutcome> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      u,
      {
        method: opts.method ?? 'POST',
        headers: { 'content-type': 'application/x-protobuf', ...opts.headers },
        agent: false,
        ...(u.protocol === 'https:' ? { ca: opts.ca, cert: opts.cert, key: opts.key, maxVersion: opts.maxVersion, servername: 'localhost' } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.method === 'GET' ? undefined : Buffer.from(opts.body ?? BODY));
  });
}

/** Sends two log records through the logs SDK and the given official exporter; resolves with the export result code (0 = success). */
export async function sendWithSdk(exporter: LogRecordExporter, scope: string): Promise<number> {
  const results: number[] = [];
  const observed: LogRecordExporter = {
    export: (logs, done) => exporter.export(logs, (r) => (results.push(r.code), done(r))),
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
  const provider = new LoggerProvider({ processors: [new BatchLogRecordProcessor({ exporter: observed })] });
  try {
    const logger = provider.getLogger(scope);
    logger.emit({ body: 'first' });
    logger.emit({ body: 'second' });
    await provider.forceFlush();
    await until(() => results.length > 0, `${scope}: the exporter to report its result`);
    return results[0];
  } finally {
    await provider.shutdown();
  }
}

/** The SHA-256 fingerprint of the certificate a TLS server presents on a new connection. */
export function peerFingerprint(address: string, alpn: string[] = ['h2', 'http/1.1']): Promise<string> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host, port, servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: alpn }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.destroy();
      resolve(fp);
    });
    s.on('error', reject);
  });
}

/** A raw TCP connection, resolved once connected. */
export function rawConnect(address: string): Promise<Socket> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const s = tcpConnect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves when the socket is closed by the other side (or errors), with what it received. */
export function closedBy(s: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => {
    if (s.destroyed) resolve(Buffer.concat(chunks));
    s.once('close', () => resolve(Buffer.concat(chunks)));
    s.on('error', () => undefined);
  });
}
