// The anomaly processor's costs. Prints figures; asserts nothing.
//  1. Detector updates per second per core, per kind: the detector's own
//     update on an already-resolved key (what the model costs), 1,000 keys
//     cycled, CPU time of this process.
//  2. Records per second per core through the scorer (attribute lookups, key
//     building, LRU, every detector, anomaly.* attributes written): the ten
//     default detectors, and route_latency alone.
//  3. Bytes per key of each kind: the cells (fixed by the kind) and the
//     measured heap per key once the LRU map and key strings are counted.
//  4. Memory of the state (and RSS) after 1k, 100k, 1M and 10M distinct keys
//     through one detector of each kind (six detectors, max_keys 100,000 each,
//     the default; BENCH_ANOMALY_CAP changes it), each count in a fresh process,
//     and bytes per tracked key: flat once the cap is reached. Also ten keys at
//     max_keys 1,000,000: the tables grow with the keys in use, not the cap.
//     BENCH_ANOMALY_MAX_KEYS=1000000 stops the scan before the 10M run.
//  5. Snapshot size and time at the cap.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Long from 'long';
import type { KeyValue, VigilRecord } from '../src/pipeline/record.js';
import { anomalyConfigSchema } from '../src/processors/anomaly/config.js';
import { BASE } from '../src/processors/anomaly/detectors/detector.js';
import { KeyTable } from '../src/processors/anomaly/key-table.js';
import { type CompiledDetector, compileDetectors, Scorer } from '../src/processors/anomaly/scorer.js';
import { writeSnapshot } from '../src/processors/anomaly/snapshot.js';

const T0 = Date.UTC(2026, 2, 2, 9);
const gc = (globalThis as { gc?: () => void }).gc;

function cpuSeconds(f: () => void): number {
  const a = process.cpuUsage();
  f();
  const b = process.cpuUsage(a);
  return (b.user + b.system) / 1e6;
}

function fmtRate(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** One detector of each kind, all keyed on `k`. */
function sixKinds(maxKeys: number): CompiledDetector[] {
  return compileDetectors(
    anomalyConfigSchema.parse({
      max_keys: maxKeys,
      detectors: [
        { name: 'value', key: ['k'], value: 'v' },
        { name: 'rate', key: ['k'], rate: '1m' },
        { name: 'ratio', key: ['k'], ratio: 's >= 500' },
        { name: 'distinct', key: ['k'], distinct: 'u' },
        { name: 'novelty', key: ['k'], novelty: 'c' },
        { name: 'hour_of_week', key: ['k'], hour_of_week: true },
      ],
    }),
  );
}

function record(attrs: KeyValue[]): VigilRecord {
  return {
    resource: { resource: { attributes: [] }, schemaUrl: '' },
    scope: { scope: {}, schemaUrl: '' },
    log: { timeUnixNano: Long.UZERO, attributes: attrs },
  };
}

// ---- 4. RSS child: `node anomaly.bench.js --rss N MAX_KEYS` -------------------------------------
if (process.argv[2] === '--rss') {
  const n = Number(process.argv[3]);
  const scorer = new Scorer(sixKinds(Number(process.argv[4])), 3_600_000);
  const key: KeyValue = { key: 'k', value: { stringValue: '' } };
  const attrs: KeyValue[] = [key, { key: 'v', value: { doubleValue: 0 } }, { key: 's', value: { intValue: 200 } }, { key: 'u', value: { stringValue: 'u' } }, { key: 'c', value: { stringValue: 'DE' } }];
  const rec = record(attrs);
  const alerts: never[] = [];
  gc?.();
  const empty = process.memoryUsage();
  const t = cpuSeconds(() => {
    for (let i = 0; i < n; i++) {
      key.value = { stringValue: `key-${i}` };
      (attrs[1].value as { doubleValue: number }).doubleValue = (i % 97) / 10;
      rec.log.timeUnixNano = (T0 + i * 10) * 1e6;
      attrs.length = 5; // drop the anomaly.* attributes the previous pass added
      scorer.score(rec, alerts);
    }
  });
  gc?.();
  const m = process.memoryUsage();
  const tracked = scorer.detectors.map((c) => c.table.size);
  const slabs = scorer.detectors.reduce((a, c) => a + c.table.slabBytes(), 0);
  process.stdout.write(JSON.stringify({ n, empty, rss: m.rss, heap: m.heapUsed, heapTotal: m.heapTotal, arrays: m.arrayBuffers, slabs, tracked, seconds: t }));
  process.exit(0);
}

// ---- 3. Bytes-per-key child: `node anomaly.bench.js --bytes KIND` ------------------------------
if (process.argv[2] === '--bytes') {
  const c = sixKinds(100_000).find((d) => d.detector.kind === process.argv[3])!;
  const keys = Array.from({ length: 100_000 }, (_, i) => `key-${i.toString().padStart(6, '0')}`);
  gc!();
  const before = process.memoryUsage();
  const t = new KeyTable(100_000, BASE + c.detector.f64Cells, c.detector.u32Cells);
  for (const k of keys) t.add(k);
  gc!();
  const after = process.memoryUsage();
  // The key strings exist before the table (the records carry them); count them as the table keeps them.
  const keyBytes = keys.reduce((a, k) => a + 16 + k.length, 0);
  process.stdout.write(JSON.stringify({ perKey: (after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers + keyBytes) / 100_000, size: t.size }));
  process.exit(0);
}

// ---- 1. Detector updates per second per core --------------------------------------------------
process.stdout.write('anomaly: detector updates per second per core (1,000 keys cycled, the update alone)\n');
{
  const detectors = sixKinds(100_000);
  const KEYS = 1000;
  for (const c of detectors) {
    const table = c.table;
    const slots = Array.from({ length: KEYS }, (_, i) => table.add(`k${i}`));
    const counts = new Float64Array(KEYS);
    const last = new Float64Array(KEYS);
    const N = c.detector.kind === 'hour_of_week' || c.detector.kind === 'distinct' ? 1_000_000 : 5_000_000;
    let sink = 0;
    const run = (n: number) => {
      for (let i = 0; i < n; i++) {
        const k = i % KEYS;
        const t = T0 + i * 50;
        const nk = ++counts[k];
        const dt = nk > 1 ? t - last[k] : 0;
        last[k] = t;
        const x = c.detector.kind === 'value' ? 100 + ((i * 7919) % 1000) / 100 : c.detector.kind === 'ratio' ? (i % 50 === 0 ? 1 : 0) : (i * 2654435761) >>> 0;
        sink += c.detector.observe(table, slots[k], t, dt, nk, c.detector.kind === 'rate' ? 1 : x, 6);
      }
    };
    run(Math.min(N, 200_000)); // warm up the JIT and get past each key's warm-up
    let best = Infinity;
    for (let r = 0; r < 3; r++) best = Math.min(best, cpuSeconds(() => run(N)));
    process.stdout.write(`  ${c.detector.kind.padEnd(13)} ${fmtRate(N / best).padStart(12)} updates/s${c.detector.kind === 'value' ? '   (target ≥ 1,000,000)' : ''}${sink === -1 ? ' ' : ''}\n`);
  }
}

// ---- 2. Records per second through the scorer ---------------------------------------------------
{
  process.stdout.write('anomaly: records per second per core through the scorer (attributes → keys → detectors → anomaly.*)\n');
  const users = 2000;
  const routes = ['/api/items', '/api/orders', '/api/search', '/login', '/admin/settings'];
  const make = (i: number): VigilRecord => {
    const u = i % users;
    const route = routes[i % routes.length];
    const kv = (key: string, v: string | number, dbl = false): KeyValue => ({ key, value: typeof v === 'string' ? { stringValue: v } : dbl ? { doubleValue: v } : { intValue: v } });
    const r = record([
      kv('user.id', `u${u}`),
      kv('client.address', `10.1.${u >> 8}.${u & 255}`),
      kv('geo.country.iso_code', ['DE', 'US', 'FR'][u % 3]),
      kv('http.route', route),
      kv('http.request.method', 'GET'),
      kv('http.response.status_code', i % 500 === 0 ? 500 : 200),
      kv('audit.action', route === '/login' ? 'login' : 'read'),
      kv('audit.outcome', i % 500 === 0 ? 'failure' : 'success'),
      kv('http.server.request.duration', 0.02 + ((i * 7919) % 100) / 1000, true),
      kv('http.response.body.size', 1000 + ((i * 31) % 5000)),
      kv('audit.record_id', `r${i}`),
    ]);
    r.log.timeUnixNano = (T0 + i * 20) * 1e6;
    return r;
  };
  const N = 200_000;
  for (const [label, only] of [
    ['ten default detectors', undefined],
    ['route_latency alone', 'route_latency'],
  ] as const) {
    const detectors = compileDetectors(anomalyConfigSchema.parse({})).filter((d) => !only || d.name === only);
    const scorer = new Scorer(detectors, 3_600_000);
    const alerts: never[] = [];
    let best = Infinity;
    for (let r = 0; r < 3; r++) {
      const recs = Array.from({ length: N }, (_, i) => make(r * N + i));
      best = Math.min(best, cpuSeconds(() => recs.forEach((x) => scorer.score(x, alerts))));
    }
    process.stdout.write(`  ${label.padEnd(22)} ${fmtRate(N / best).padStart(10)} records/s\n`);
  }
}

// ---- 3. Bytes per key ------------------------------------------------------------------------------
const self = fileURLToPath(import.meta.url);
{
  process.stdout.write('anomaly: bytes per key (cells: fixed by the kind; measured: cells + LRU entry + a 10-character key string, 100,000 keys, fresh process)\n');
  for (const c of sixKinds(100_000)) {
    const cells = (BASE + c.detector.f64Cells) * 8 + c.detector.u32Cells * 4;
    const r = spawnSync(process.execPath, ['--expose-gc', self, '--bytes', c.detector.kind], { encoding: 'utf8' });
    const measured = r.status === 0 ? `${Math.round((JSON.parse(r.stdout) as { perKey: number }).perKey)} B` : `failed: ${r.stderr.split('\n')[0]}`;
    process.stdout.write(`  ${c.detector.kind.padEnd(13)} cells ${String(cells).padStart(5)} B   measured ${measured}\n`);
  }
}

// ---- 4. RSS by distinct keys ---------------------------------------------------------------------------
{
  const mib = (b: number) => (b / 2 ** 20).toFixed(0);
  const cap = Number(process.env.BENCH_ANOMALY_CAP ?? 100_000);
  process.stdout.write(
    `anomaly: memory of the state after N distinct keys through six detectors (one per kind), max_keys ${fmtRate(cap)} each (the default), fresh process per N;\n` +
      '  state = the tables\' typed arrays + the JS heap\'s growth over the empty scorer (LRU map, key strings); per key = state ÷ keys tracked by all six; RSS also counts what V8 keeps from the churn\n',
  );
  const upTo = Number(process.env.BENCH_ANOMALY_MAX_KEYS ?? 10_000_000);
  const runs: [number, number][] = [[10, 1_000_000], ...[1_000, 100_000, 1_000_000, 10_000_000].filter((x) => x <= upTo).map((n): [number, number] => [n, cap])];
  for (const [n, maxKeys] of runs) {
    const r = spawnSync(process.execPath, ['--expose-gc', self, '--rss', String(n), String(maxKeys)], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) {
      process.stdout.write(`  ${n}: failed ${r.stderr}\n`);
      continue;
    }
    const m = JSON.parse(r.stdout) as { empty: NodeJS.MemoryUsage; rss: number; heap: number; heapTotal: number; arrays: number; slabs: number; tracked: number[]; seconds: number };
    const keys = m.tracked.reduce((a, b) => a + b, 0);
    const state = m.slabs + m.heap - m.empty.heapUsed; // the tables' typed arrays + what the JS heap grew by (LRU map, key strings)
    process.stdout.write(
      `  ${fmtRate(n).padStart(10)} keys${maxKeys !== cap ? ` (max_keys ${fmtRate(maxKeys)})` : ''}: state ${(state / 2 ** 20).toFixed(1).padStart(6)} MiB = ${fmtRate(state / keys).padStart(5)} B per tracked key (slabs ${(m.slabs / 2 ** 20).toFixed(1)} MiB); ` +
        `RSS ${mib(m.rss)} MiB (empty scorer ${mib(m.empty.rss)}), JS heap ${mib(m.heap)} of ${mib(m.heapTotal)} MiB; tracked ${fmtRate(Math.max(...m.tracked))} per detector; ` +
        `${m.seconds.toFixed(1)} s CPU (${fmtRate((n * 6) / m.seconds)} detector updates/s incl. evictions)\n`,
    );
  }
}

// ---- 5. Snapshot at the cap ------------------------------------------------------------------------------
{
  const detectors = sixKinds(100_000);
  const scorer = new Scorer(detectors, 3_600_000);
  const key: KeyValue = { key: 'k', value: { stringValue: '' } };
  const attrs: KeyValue[] = [key, { key: 'v', value: { doubleValue: 1 } }, { key: 's', value: { intValue: 200 } }, { key: 'u', value: { stringValue: 'u' } }, { key: 'c', value: { stringValue: 'DE' } }];
  const rec = record(attrs);
  for (let i = 0; i < 100_000; i++) {
    key.value = { stringValue: `key-${i}` };
    rec.log.timeUnixNano = (T0 + i * 10) * 1e6;
    attrs.length = 5;
    scorer.score(rec, []);
  }
  const dir = mkdtempSync(join(tmpdir(), 'vigil-anomaly-bench-'));
  try {
    // The longest gap between event-loop turns while the snapshot is written: how long the pipeline stalls.
    let last = performance.now();
    let stall = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      stall = Math.max(stall, now - last);
      last = now;
    }, 1);
    await new Promise((r) => setTimeout(r, 20));
    last = performance.now();
    const t0 = performance.now();
    const bytes = await writeSnapshot(join(dir, 'anomaly.snapshot'), detectors, T0);
    const t1 = performance.now();
    clearInterval(ticker);
    process.stdout.write(
      `anomaly: snapshot of six detectors × 100,000 keys: ${(bytes / 2 ** 20).toFixed(1)} MiB streamed + fsync'd in ${(t1 - t0).toFixed(0)} ms; longest event-loop stall ${stall.toFixed(0)} ms\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
