// The OTLP codec benchmark (issue 2, part 2): protobufjs reflection (what
// src/otlp/schema.ts loads from proto/) against pbjs static code generated from
// the same .proto files, on realistic 512-record access-log requests.
// Measures decode and encode separately, alternating the two codecs round by
// round so that noise from other work on the machine hits both alike. Prints
// figures; asserts nothing. Needs the protobufjs-cli dev dependency (pbjs).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExportLogsServiceRequest } from '../src/otlp/schema.js';
import { packageRoot } from '../src/util/paths.js';
import { encodedRequests } from './lib/workload.js';

const RECORDS_PER_REQUEST = 512;
const ROUNDS = Number(process.env.BENCH_CODEC_ROUNDS ?? 7);
const OPS_PER_ROUND = Number(process.env.BENCH_CODEC_OPS ?? 40);

interface Codec {
  decode(bytes: Uint8Array): unknown;
  encode(message: unknown): { finish(): Uint8Array };
}

/** Generates (once) and loads the pbjs static module for ExportLogsServiceRequest. */
function loadStaticCodec(): Codec | undefined {
  const root = packageRoot();
  const pbjs = join(root, 'node_modules', 'protobufjs-cli', 'bin', 'pbjs');
  // Inside the package tree, so the generated `require("protobufjs/minimal")` resolves.
  const out = join(dirname(fileURLToPath(import.meta.url)), 'generated', 'otlp-logs-static.cjs');
  if (!existsSync(out)) {
    if (!existsSync(pbjs)) return undefined;
    mkdirSync(dirname(out), { recursive: true });
    const r = spawnSync(
      process.execPath,
      [pbjs, '-t', 'static-module', '-w', 'commonjs', '--force-long', '--no-verify', '--no-convert', '--no-delimited', '-p', join(root, 'proto'), '-o', out, join(root, 'proto/opentelemetry/proto/collector/logs/v1/logs_service.proto')],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    if (r.status !== 0) throw new Error(`pbjs failed with ${r.status ?? r.signal}`);
  }
  const mod = createRequire(import.meta.url)(out) as {
    opentelemetry: { proto: { collector: { logs: { v1: { ExportLogsServiceRequest: Codec } } } } };
  };
  return mod.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
}

function timeIt(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

interface Figures {
  decodeSeconds: number;
  encodeSeconds: number;
}

function round(codec: Codec, requests: Uint8Array[], decoded: unknown[], f: Figures): void {
  f.decodeSeconds += timeIt(() => {
    for (let k = 0; k < OPS_PER_ROUND; k++) codec.decode(requests[k % requests.length]);
  });
  f.encodeSeconds += timeIt(() => {
    for (let k = 0; k < OPS_PER_ROUND; k++) codec.encode(decoded[k % decoded.length]).finish();
  });
}

function main(): void {
  const requests = encodedRequests(16, RECORDS_PER_REQUEST);
  const reflection: Codec = ExportLogsServiceRequest as unknown as Codec;
  const staticCodec = loadStaticCodec();
  if (!staticCodec) {
    process.stdout.write('codec: protobufjs-cli (pbjs) is not installed; run `npm install` with dev dependencies to compare static code\n');
  }
  const codecs: [string, Codec][] = [['reflection', reflection]];
  if (staticCodec) codecs.push(['pbjs static', staticCodec]);

  // Each codec encodes the messages it decoded itself (same shapes the product sees).
  const decoded = new Map(codecs.map(([name, c]) => [name, requests.map((b) => c.decode(b))]));
  const sanity = codecs.map(([name, c]) => c.encode(decoded.get(name)![0]).finish().length);
  if (new Set(sanity).size !== 1) throw new Error(`codecs disagree on the encoded size: ${sanity.join(' vs ')}`);

  const figures = new Map(codecs.map(([name]) => [name, { decodeSeconds: 0, encodeSeconds: 0 }]));
  for (const [name, c] of codecs) round(c, requests, decoded.get(name)!, { decodeSeconds: 0, encodeSeconds: 0 }); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? codecs : [...codecs].reverse();
    for (const [name, c] of order) round(c, requests, decoded.get(name)!, figures.get(name)!);
  }

  const ops = ROUNDS * OPS_PER_ROUND;
  const bytes = requests.reduce((n, b) => n + b.length, 0) / requests.length;
  process.stdout.write(
    `codec: ${RECORDS_PER_REQUEST}-record access-log requests (${(bytes / 1024).toFixed(0)} KiB each), ${ops} decodes + ${ops} encodes per codec\n`,
  );
  const rate = (s: number) => (ops * RECORDS_PER_REQUEST) / s;
  for (const [name] of codecs) {
    const f = figures.get(name)!;
    process.stdout.write(
      `  ${name.padEnd(12)} decode ${fmt(rate(f.decodeSeconds))} records/s   encode ${fmt(rate(f.encodeSeconds))} records/s   decode+encode ${fmt(rate(f.decodeSeconds + f.encodeSeconds))} records/s\n`,
    );
  }
  if (staticCodec) {
    const a = figures.get('reflection')!;
    const b = figures.get('pbjs static')!;
    process.stdout.write(
      `  static / reflection: decode ×${(a.decodeSeconds / b.decodeSeconds).toFixed(2)}, encode ×${(a.encodeSeconds / b.encodeSeconds).toFixed(2)}, both ×${((a.decodeSeconds + a.encodeSeconds) / (b.decodeSeconds + b.encodeSeconds)).toFixed(2)}\n`,
    );
  }
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US').padStart(10);
}

main();
