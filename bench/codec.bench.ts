// The OTLP codec benchmark (issue 2, part 2): protobufjs reflection (what the
// product uses: src/otlp/schema.ts loads proto/ at start-up) against pbjs
// static code of the same .proto files (protobufjs-cli, a dev dependency,
// generates it here at bench time into dist/bench/generated/), on realistic
// 512-record access-log requests.
//
// Each codec runs in its own process that loads nothing but that codec (the
// requests are made by the parent and handed over in a file): both share
// protobufjs's Reader and Writer, and in one process whichever codec runs
// second looks up to 1.5× faster. Runs alternate so that noise from other work
// on the machine hits both alike; rates are per CPU second, and the best run of
// each is printed (noise only ever adds time).
// Prints figures; asserts nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../src/util/paths.js';

const RECORDS_PER_REQUEST = 512;
const ROUNDS = Number(process.env.BENCH_CODEC_ROUNDS ?? 5);
const OPS_PER_ROUND = Number(process.env.BENCH_CODEC_OPS ?? 40);
const RUNS = Number(process.env.BENCH_CODEC_RUNS ?? 7);
const self = fileURLToPath(import.meta.url);

interface Codec {
  decode(bytes: Uint8Array): unknown;
  encode(message: unknown): { finish(): Uint8Array };
}

// Inside the package tree, so that the generated `require("protobufjs/minimal")` resolves.
const STATIC_MODULE = join(dirname(self), 'generated', 'otlp-logs-static.cjs');

/** Generates the pbjs static module; false when protobufjs-cli is not installed. */
function generateStatic(): boolean {
  const root = packageRoot();
  const pbjs = join(root, 'node_modules', 'protobufjs-cli', 'bin', 'pbjs');
  if (!existsSync(pbjs)) return false;
  mkdirSync(dirname(STATIC_MODULE), { recursive: true });
  const proto = join(root, 'proto');
  const args = ['-t', 'static-module', '-w', 'commonjs', '--force-long', '--no-verify', '--no-convert', '--no-delimited', '-p', proto];
  const r = spawnSync(process.execPath, [pbjs, ...args, '-o', STATIC_MODULE, join(proto, 'opentelemetry/proto/collector/logs/v1/logs_service.proto')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`pbjs failed with ${r.status ?? r.signal}`);
  return true;
}

// Each loads only its own codec.
const CODECS: Record<string, () => Promise<Codec>> = {
  reflection: async () => (await import('../src/otlp/schema.js')).ExportLogsServiceRequest as unknown as Codec,
  'pbjs static': async () => {
    const mod = createRequire(import.meta.url)(STATIC_MODULE) as {
      opentelemetry: { proto: { collector: { logs: { v1: { ExportLogsServiceRequest: Codec } } } } };
    };
    return mod.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
  },
};

/** Requests go to the children as length-prefixed frames in one file. */
function writeRequests(path: string, requests: Uint8Array[]): void {
  const frames = requests.flatMap((b) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return [len, Buffer.from(b)];
  });
  writeFileSync(path, Buffer.concat(frames));
}

function readRequests(path: string): Uint8Array[] {
  const buf = readFileSync(path);
  const out: Uint8Array[] = [];
  for (let off = 0; off < buf.length; ) {
    const len = buf.readUInt32BE(off);
    out.push(buf.subarray(off + 4, off + 4 + len));
    off += 4 + len;
  }
  return out;
}

interface Figures {
  decodeSeconds: number;
  encodeSeconds: number;
}

/** CPU seconds (user + system) spent in fn: unlike wall time, not inflated while other work holds the cores. */
function cpuSeconds(fn: () => void): number {
  const t0 = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1e6;
}

function round(codec: Codec, requests: Uint8Array[], decoded: unknown[], f: Figures): void {
  f.decodeSeconds += cpuSeconds(() => {
    for (let k = 0; k < OPS_PER_ROUND; k++) codec.decode(requests[k % requests.length]);
  });
  f.encodeSeconds += cpuSeconds(() => {
    for (let k = 0; k < OPS_PER_ROUND; k++) codec.encode(decoded[k % decoded.length]).finish();
  });
}

/** One measurement of one codec, in this process: prints its figures as JSON. */
async function measure(name: string, requestsFile: string): Promise<void> {
  const codec = await CODECS[name]();
  const requests = readRequests(requestsFile);
  const decoded = requests.map((b) => codec.decode(b)); // each codec encodes the shapes it decoded itself
  const f: Figures = { decodeSeconds: 0, encodeSeconds: 0 };
  round(codec, requests, decoded, { decodeSeconds: 0, encodeSeconds: 0 }); // warm-up
  for (let r = 0; r < ROUNDS; r++) round(codec, requests, decoded, f);
  const same = requests.every((b, k) => Buffer.from(codec.encode(decoded[k]).finish()).equals(b));
  process.stdout.write(`${JSON.stringify({ ...f, same, requestBytes: requests[0].length })}\n`);
}

async function main(): Promise<void> {
  if (!generateStatic()) {
    process.stdout.write('codec: protobufjs-cli (a dev dependency) is not installed: no static code to compare against\n');
    return;
  }
  const { encodedRequests } = await import('./lib/workload.js');
  const dir = mkdtempSync(join(tmpdir(), 'vigil-codec-'));
  const requestsFile = join(dir, 'requests.bin');
  writeRequests(requestsFile, encodedRequests(16, RECORDS_PER_REQUEST));
  try {
    await compare(requestsFile);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function compare(requestsFile: string): Promise<void> {
  const names = Object.keys(CODECS);
  const results = new Map<string, (Figures & { same: boolean; requestBytes: number })[]>(names.map((n) => [n, []]));
  for (let run = 0; run < RUNS; run++) {
    for (const name of run % 2 === 0 ? names : [...names].reverse()) {
      const r = spawnSync(process.execPath, [self, '--codec', name, requestsFile], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`codec ${name} run failed: ${r.stderr}`);
      results.get(name)!.push(JSON.parse(r.stdout.trim()));
    }
  }
  for (const name of names) {
    if (!results.get(name)!.every((x) => x.same)) throw new Error(`${name} does not re-encode the requests byte for byte`);
  }
  const ops = ROUNDS * OPS_PER_ROUND;
  const rate = (s: number) => (ops * RECORDS_PER_REQUEST) / s;
  const kib = results.get(names[0])![0].requestBytes / 1024;
  process.stdout.write(
    `codec: ${RECORDS_PER_REQUEST}-record access-log requests (${kib.toFixed(0)} KiB each); ${ops} decodes + ${ops} encodes per run; best of ${RUNS} runs per codec, each in its own process; records per CPU second\n`,
  );
  const fig = new Map<string, Figures>();
  for (const name of names) {
    const rs = results.get(name)!;
    const f = { decodeSeconds: Math.min(...rs.map((x) => x.decodeSeconds)), encodeSeconds: Math.min(...rs.map((x) => x.encodeSeconds)) };
    fig.set(name, f);
    process.stdout.write(
      `  ${name.padEnd(12)} decode ${fmt(rate(f.decodeSeconds))}   encode ${fmt(rate(f.encodeSeconds))}   decode+encode ${fmt(rate(f.decodeSeconds + f.encodeSeconds))}\n`,
    );
  }
  const a = fig.get('reflection')!;
  const b = fig.get('pbjs static')!;
  const ratio = (x: number, y: number) => `×${(x / y).toFixed(2)}`;
  process.stdout.write(
    `  static vs reflection: decode ${ratio(a.decodeSeconds, b.decodeSeconds)}, encode ${ratio(a.encodeSeconds, b.encodeSeconds)}, decode+encode ${ratio(a.decodeSeconds + a.encodeSeconds, b.decodeSeconds + b.encodeSeconds)} (above 1: static faster)\n`,
  );
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US').padStart(9);
}

const at = process.argv.indexOf('--codec');
await (at >= 0 ? measure(process.argv[at + 1], process.argv[at + 2]) : main());
