// Downstream outages at the process level: `vigil run` with an otlp_grpc
// exporter and a persistent queue in front of a real downstream that goes down.
// 1. Under load with room in the queue: the queue grows on disk (and survives a
//    kill -9 in the middle of the outage), nothing is refused or lost, and it
//    drains when the downstream returns.
// 2. With a small queue: once it is full the receivers refuse with
//    UNAVAILABLE + RetryInfo / 503 + Retry-After, and the clients' own retries
//    (the official OpenTelemetry OTLP/HTTP exporters', and a gRPC client that
//    honours RetryInfo) carry the data once the downstream is back.
import { OTLPLogExporter as HttpJsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as HttpProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { queryArchive, verifyArchive } from '../helpers/harness/archive.js';
import { AckingClient, Load } from '../helpers/harness/client.js';
import { archiveDirOf, publicKeyOf, writeHarnessConfig, type HarnessConfigOptions } from '../helpers/harness/config.js';
import { FlakyDownstream } from '../helpers/harness/downstream.js';
import { reconcile } from '../helpers/harness/reconcile.js';
import { VigilChild, vigilBuilt } from '../helpers/harness/vigil.js';
import { until, waitDelivered } from '../helpers/harness/wait.js';
import { retryDelayFromStatusDetails } from '../../src/exporters/otlp/status.js';
import { encodeProtobufRequest, type ExportRequestMessage } from '../../src/otlp/convert.js';
import { grpcExport, httpPost } from '../receivers/otlp/clients.js';

const built = vigilBuilt();
if (!built) console.warn('reliability outage tests skipped: run `npm run build` first (npm test does)');

let root = '';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function setup(name: string, o: Partial<HarnessConfigOptions>, downstreamUp = true) {
  const downstream = await FlakyDownstream.start({ seed: 7 });
  cleanups.push(() => downstream.stop());
  if (!downstreamUp) await downstream.down();
  const cfg: HarnessConfigOptions = { dir: join(root, name), downstream: downstream.address, ...o };
  mkdirSync(cfg.dir, { recursive: true });
  const config = writeHarnessConfig(cfg);
  const start = async () => {
    const v = await VigilChild.start({ config, cwd: cfg.dir, logFile: join(cfg.dir, 'vigil.log') });
    cleanups.push(() => v.kill9());
    return v;
  };
  return { downstream, cfg, start };
}

/** One request of `n` records tagged test.id = `<tag>-<i>`. */
function request(tag: string, n: number): Uint8Array {
  const req: ExportRequestMessage = {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'outage-test' } }] },
        scopeLogs: [{ scope: { name: 'raw' }, logRecords: Array.from({ length: n }, (_, i) => ({ body: { stringValue: `GET /x ${i}` }, attributes: [{ key: 'test.id', value: { stringValue: `${tag}-${i}` } }] })) }],
      },
    ],
  };
  return encodeProtobufRequest(req);
}

async function sdkSend(exporter: LogRecordExporter, tag: string): Promise<void> {
  const provider = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': `sdk-${tag}` }), processors: [new BatchLogRecordProcessor({ exporter })] });
  provider.getLogger('outage').emit({ body: `GET /sdk ${tag}`, attributes: { 'test.id': tag } });
  await provider.forceFlush();
  await provider.shutdown();
}

describe.skipIf(!built)('downstream outages (vigil run as a child process)', () => {
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'vigil-reliability-outage-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('downstream down under load: the persistent queue grows (and survives kill -9), nothing is refused or lost, it drains when the downstream returns', async () => {
    const { downstream, cfg, start } = await setup('grow', { queueSize: 10_000 });
    let vigil: VigilChild | undefined = await start();
    const load = new Load(
      (['grpc', 'http'] as const).map((transport, i) => ({
        name: `${transport}${i}`,
        transport,
        target: () => vigil?.endpoints,
        recordsPerRequest: 20,
        // Bounded far past need (100,000 requests, and killed at cleanup): the load must still run when the
        // restarted Vigil is watched queueing, however long the steps before took on a slow machine; load.finish() ends it.
        maxRequests: 100_000,
        seed: 11 + i,
        intervalMs: 20,
        maxRetryDelayMs: 250,
      })),
    );
    cleanups.push(() => load.kill());
    load.start();
    await until(() => load.acked.size >= 200, 20_000, () => `load to be acknowledged while the downstream is up (${load.acked.size} of 200 records)`);
    await until(() => downstream.delivered >= 100, 20_000, () => `deliveries before the outage (${downstream.delivered} of 100 records)`);

    await downstream.down();
    let size = 0;
    const queued = async () => (size = (await vigil!.metric('vigil_exporter_queue_size', { exporter: 'otlp_grpc' })) ?? 0);
    await until(async () => (await queued()) >= 20, 20_000, () => `the queue to grow during the outage (${size} of 20 batches)`);
    // kill -9 in the middle of the outage: what was queued is on disk and comes back.
    const before = await queued();
    await vigil.kill9();
    vigil = undefined;
    vigil = await start();
    const recovered = await queued();
    // The gauge counts a batch from the moment its write starts; a write still in flight at the kill
    // was never acknowledged and its torn file is discarded. At most one per client (each sends one
    // request at a time) and one archive checkpoint can be in flight: a loaded machine showed 21 → 20.
    expect(recovered).toBeGreaterThanOrEqual(before - (load.clients.length + 1));
    // The outage goes on: the restarted Vigil keeps queueing on top of what it recovered.
    await until(async () => (await queued()) >= recovered + 10, 20_000, () => `the queue to keep growing after the restart (${size} batches, ${recovered} recovered)`);

    await load.finish(30_000);
    const stats = load.stats();
    // A large queue never refuses: the only retries the clients made were while Vigil was down.
    expect(Object.keys(stats.refusals).filter((k) => !/vigil is down|network error|gRPC UNAVAILABLE/.test(k))).toEqual([]);
    expect(stats.hinted).toBe(0);
    const peak = await queued();
    expect(peak).toBeGreaterThanOrEqual(recovered);

    await downstream.up();
    expect(await waitDelivered(load.acked, downstream.deliveries, 30_000)).toBe(0);
    await until(async () => (await queued()) === 0, 20_000, () => `the queue to drain (${size} batches left)`);
    expect(await vigil.terminate()).toBe(0);

    const archived = await queryArchive(archiveDirOf(cfg));
    const r = reconcile(load.acked, archived.byTestId, downstream.deliveries, [...downstream.idConflicts, ...archived.idConflicts]);
    expect(r.lost, JSON.stringify(r)).toBe(0);
    expect(r.idMismatches).toEqual([]);
    expect(r.acked).toBe(stats.ackedRecords);
    const v = await verifyArchive(archiveDirOf(cfg), publicKeyOf(cfg));
    expect(v.exitCode, v.text).toBe(0);
    expect(v.uncleanStops + v.repairedTruncations).toBe(1);
    console.info(`outage: queue peaked at ≥ ${peak} batches (${before} at the kill, ${recovered} recovered); ${r.acked} acked, ${r.delivered} delivered, ${r.duplicatesDownstream} duplicates`);
  });

  it('a full queue refuses with UNAVAILABLE + RetryInfo / 503 + Retry-After; the clients’ own retries carry the data once the downstream is back', async () => {
    // The archive sends its signed checkpoints downstream too, and each takes a queue slot: at every
    // seal and heartbeat (1 h here, so none), and once at the first tick (every second) after the first
    // record, since nothing signed covers it yet. That one is waited for below, so that it cannot land
    // between two fills on a slow machine; after it, only the fills use the queue.
    const { downstream, cfg, start } = await setup('full', { queueSize: 4, consumers: 1, segmentMaxAge: '1h', heartbeat: '1h' }, false);
    const vigil = await start();
    const { grpc, http } = vigil.endpoints;
    const queued = async () => (await vigil.metric('vigil_exporter_queue_size', { exporter: 'otlp_grpc' })) ?? 0;
    expect((await grpcExport(grpc, request('fill0', 5))).code).toBe(0);
    let seen = 0;
    await until(async () => (seen = await queued()) === 2, 20_000, () => `fill0 and the archive's first checkpoint of the open segment to be queued (queue size ${seen})`);
    // Fill the queue: two more batches, each durably queued (acknowledged), one slot each.
    for (let i = 1; i < 3; i++) {
      expect((await grpcExport(grpc, request(`fill${i}`, 5))).code).toBe(0);
      expect(await queued()).toBe(i + 2);
    }

    // gRPC: UNAVAILABLE with a RetryInfo in grpc-status-details-bin.
    const g = await grpcExport(grpc, request('refused-grpc', 5));
    expect(g.code).toBe(14);
    expect(g.details).toMatch(/sending queue .* is full/);
    const bin = g.metadata.get('grpc-status-details-bin')[0];
    expect(Buffer.isBuffer(bin)).toBe(true);
    expect(retryDelayFromStatusDetails(bin as Buffer)).toBeGreaterThan(0);
    // HTTP: 503 with Retry-After.
    const h = await httpPost(http, request('refused-http', 5), { 'content-type': 'application/x-protobuf' });
    expect(h.status).toBe(503);
    expect(Number(h.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    const refusedHttp = async () => (await vigil.metric('vigil_receiver_refused_log_records_total', { transport: 'http' })) ?? 0;
    const refusedGrpc = async () => (await vigil.metric('vigil_receiver_refused_log_records_total', { transport: 'grpc' })) ?? 0;
    const httpBase = await refusedHttp();
    const grpcBase = await refusedGrpc();
    // A gRPC client that honours RetryInfo and the official exporters (protobuf and JSON over HTTP), all while the queue is full.
    const acked = new Set<string>();
    const grpcClient = new AckingClient({ name: 'retry', transport: 'grpc', target: () => vigil.endpoints, recordsPerRequest: 5, maxRequests: 2, seed: 3, maxRetryDelayMs: 1000, onAck: (ids) => ids.forEach((id) => acked.add(id)) });
    cleanups.push(() => grpcClient.kill());
    const grpcDone = grpcClient.start();
    await until(() => grpcClient.stats.hinted > 0, 20_000, () => `the gRPC client to be refused with a retry hint (refusals: ${JSON.stringify(grpcClient.stats.refusals)})`);
    expect(await refusedGrpc()).toBeGreaterThan(grpcBase);
    // The SDK exporters retry five times, about 5 s at Vigil's Retry-After, then drop the batch: they
    // start only once the gRPC client (which retries for ever) has been refused, so that the downstream
    // returns right after their first refusal, well within those 5 s even on a slow machine.
    const sdk = [
      sdkSend(new HttpProtoLogExporter({ url: http, timeoutMillis: 30_000 }), 'sdk-proto'),
      sdkSend(new HttpJsonLogExporter({ url: http, timeoutMillis: 30_000 }), 'sdk-json'),
    ];
    // Both SDK exporters have been refused at least once...
    let refused = 0;
    await until(async () => (refused = await refusedHttp()) >= httpBase + 2, 20_000, () => `both SDK exporters to be refused (${refused - httpBase} records refused)`);
    // ...then the downstream returns, the queue drains, and their retries get through.
    await downstream.up();
    await Promise.all(sdk);
    await grpcDone;
    expect(grpcClient.stats.permanent).toEqual([]);
    expect(acked.size).toBe(10);
    await until(() => ['sdk-proto', 'sdk-json', 'fill0-0', 'fill2-4', ...acked].every((id) => downstream.deliveries.has(id)), 30_000, 'everything acknowledged to be delivered');
    expect(await vigil.terminate()).toBe(0);
    const archived = await queryArchive(archiveDirOf(cfg));
    for (const id of ['sdk-proto', 'sdk-json', 'fill1-2', ...acked]) expect(archived.byTestId.has(id), id).toBe(true);
  });
});
