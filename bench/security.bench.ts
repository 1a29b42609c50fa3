// The cost of the security layer (issue 6): what TLS, mTLS and bearer-token
// auth add to an OTLP Export through the real otlp receiver, over loopback,
// against the same receiver in plaintext; and the cost of one token check,
// for a right token and for wrong ones that differ early or late (constant
// time: the figures should not depend on where a guess goes wrong).
// The pipeline behind the receiver discards (a no-op exporter), so the
// figures are the receiver's alone. Prints figures; asserts nothing.
import * as grpc from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import https from 'node:https';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { validateConfig } from '../src/config/load.js';
import { bearerTokenAuthExtensionFactory } from '../src/extensions/bearertokenauth/bearertokenauth.js';
import { EXPORT_METHOD_PATH } from '../src/otlp/schema.js';
import type { AnyFactory, ExporterFactory } from '../src/pipeline/component.js';
import { Service } from '../src/pipeline/service.js';
import { type OtlpReceiver, otlpReceiverFactory } from '../src/receivers/otlp/otlp.js';
import { TokenSet } from '../src/security/bearer.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { Telemetry } from '../src/telemetry/metrics.js';
import { encodedRequests } from './lib/workload.js';

const RECORDS_PER_REQUEST = 512;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 150); // per variant and round, bounded
const ROUNDS = 3; // variants interleaved, median reported: the machine is shared and noisy
const CLIENTS = 4;
const TOKEN = 'bench-token-6f1c9a7e3b5d2f8a4c0e';

const discard: ExporterFactory<Record<string, never>> = {
  kind: 'exporter',
  type: 'discard',
  configSchema: z.object({}).strict(),
  create: () => ({ consume: async () => undefined }),
};
const registry = new Map<string, AnyFactory>(
  [otlpReceiverFactory, bearerTokenAuthExtensionFactory, discard].map((f) => [`${f.kind}:${f.type}`, f as AnyFactory]),
);

const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-security-'));
const cert = join(dir, 'cert.pem');
const key = join(dir, 'key.pem');
// One self-signed certificate for 127.0.0.1 serves as server certificate, client certificate and CA.
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
  '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
const pem = { cert: readFileSync(cert), key: readFileSync(key) };

type Variant = { name: string; tls?: 'tls' | 'mtls'; auth?: boolean };
const VARIANTS: Variant[] = [
  { name: 'plaintext' },
  { name: 'bearer auth', auth: true },
  { name: 'TLS', tls: 'tls' },
  { name: 'TLS + bearer auth', tls: 'tls', auth: true },
  { name: 'mTLS', tls: 'mtls' },
];

async function startReceiver(v: Variant): Promise<{ service: Service; receiver: OtlpReceiver }> {
  const tls = v.tls ? { cert_file: cert, key_file: key, ...(v.tls === 'mtls' ? { client_ca_file: cert } : {}), reload_interval: 0 } : undefined;
  const auth = v.auth ? { authenticator: 'bearertokenauth' } : undefined;
  const protocol = { endpoint: '127.0.0.1:0', ...(tls ? { tls } : {}), ...(auth ? { auth } : {}) };
  const config = validateConfig(
    {
      receivers: { otlp: { protocols: { grpc: { ...protocol, max_recv_msg_size_mib: 64 }, http: { ...protocol, max_request_body_size: '64MiB' } } } },
      exporters: { discard: {} },
      extensions: { bearertokenauth: { token: TOKEN } },
      service: { extensions: ['bearertokenauth'], telemetry: { metrics: { address: null } }, pipelines: { logs: { receivers: ['otlp'], exporters: ['discard'] } } },
    },
    registry,
  );
  const service = await Service.build(config, silentLogger(), new Telemetry({ processMetrics: false }));
  await service.start();
  return { service, receiver: service.receivers[0].instance as OtlpReceiver };
}

const requests = encodedRequests(16, RECORDS_PER_REQUEST).map((b) => Buffer.from(b));

async function drive(send: (body: Buffer) => Promise<void>): Promise<number> {
  await send(requests[0]); // warm up (handshakes)
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < REQUESTS) {
        const k = next++;
        await send(requests[k % requests.length]);
      }
    }),
  );
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return (REQUESTS * RECORDS_PER_REQUEST) / s;
}

async function grpcRate(address: string, v: Variant): Promise<number> {
  const creds = v.tls
    ? grpc.credentials.createSsl(pem.cert, v.tls === 'mtls' ? pem.key : null, v.tls === 'mtls' ? pem.cert : null)
    : grpc.credentials.createInsecure();
  const client = new grpc.Client(address, creds, {
    'grpc.max_send_message_length': -1,
    'grpc.use_local_subchannel_pool': 1,
    'grpc.ssl_target_name_override': 'localhost',
  });
  const md = new grpc.Metadata();
  if (v.auth) md.set('authorization', `Bearer ${TOKEN}`);
  try {
    return await drive(
      (body) =>
        new Promise<void>((resolve, reject) =>
          client.makeUnaryRequest(EXPORT_METHOD_PATH, (b: Buffer) => b, (b: Buffer) => b, body, md, (err) => (err ? reject(err) : resolve())),
        ),
    );
  } finally {
    client.close();
  }
}

async function httpRate(address: string, v: Variant): Promise<number> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const agent = v.tls
    ? new https.Agent({ keepAlive: true, maxSockets: CLIENTS, ca: pem.cert, servername: 'localhost', ...(v.tls === 'mtls' ? pem : {}) })
    : new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const mod = v.tls ? https : http;
  const headers: Record<string, string> = { 'content-type': 'application/x-protobuf' };
  if (v.auth) headers.authorization = `Bearer ${TOKEN}`;
  try {
    return await drive(
      (body) =>
        new Promise<void>((resolve, reject) => {
          const req = mod.request({ host, port, path: '/v1/logs', method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
            res.resume();
            res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
          });
          req.on('error', reject);
          req.end(body);
        }),
    );
  } finally {
    agent.destroy();
  }
}

function tokenCheckNs(set: TokenSet, candidate: string, rounds = 200_000): number {
  for (let i = 0; i < 10_000; i++) set.has(candidate);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) set.has(candidate);
  return Number(process.hrtime.bigint() - t0) / rounds;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log(
    `OTLP Export through the otlp receiver, ${RECORDS_PER_REQUEST} records/request, ${REQUESTS} requests x ${ROUNDS} rounds, ${CLIENTS} concurrent clients, loopback (median)`,
  );
  const rates = new Map<string, { g: number[]; h: number[] }>(VARIANTS.map((v) => [v.name, { g: [], h: [] }]));
  // Round 0 warms the JIT up and is not counted.
  for (let round = 0; round <= ROUNDS; round++) {
    for (const v of VARIANTS) {
      const { service, receiver } = await startReceiver(v);
      try {
        const g = await grpcRate(receiver.grpcAddress()!, v);
        const h = await httpRate(receiver.httpAddress()!, v);
        if (round > 0) {
          rates.get(v.name)!.g.push(g);
          rates.get(v.name)!.h.push(h);
        }
      } finally {
        await service.shutdown();
      }
    }
  }
  console.log('variant              gRPC records/s         HTTP records/s');
  const base = rates.get(VARIANTS[0].name)!;
  const rel = (x: number, b: number) => `${x >= b ? '+' : ''}${Math.round((x / b - 1) * 100)}%`;
  for (const v of VARIANTS) {
    const r = rates.get(v.name)!;
    const [g, h] = [median(r.g), median(r.h)];
    console.log(`${v.name.padEnd(20)} ${fmt(g).padStart(14)} ${rel(g, median(base.g)).padStart(6)} ${fmt(h).padStart(14)} ${rel(h, median(base.h)).padStart(6)}`);
  }

  console.log('\nbearer token check (SHA-256 + timingSafeEqual against every token), ns per check (median of 5 interleaved runs)');
  for (const n of [1, 10]) {
    const tokens = Array.from({ length: n }, (_, i) => `${TOKEN.slice(0, -2)}${String(i).padStart(2, '0')}`);
    const set = new TokenSet(tokens);
    const right = tokens[n - 1];
    const candidates = { right, 'wrong at the end': `${right.slice(0, -1)}x`, 'wrong at the start': `x${right.slice(1)}`, empty: '' };
    const times = new Map<string, number[]>(Object.keys(candidates).map((k) => [k, []]));
    for (let run = 0; run < 5; run++) for (const [k, c] of Object.entries(candidates)) times.get(k)!.push(tokenCheckNs(set, c, 50_000));
    console.log(`${String(n).padStart(2)} token(s): ${[...times].map(([k, t]) => `${k} ${median(t).toFixed(0)}`).join('  ')}`);
  }
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));
