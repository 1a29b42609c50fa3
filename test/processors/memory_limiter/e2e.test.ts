// The memory limiter behind the real OTLP receiver: above the soft limit a
// client gets HTTP 503 + Retry-After / gRPC UNAVAILABLE + RetryInfo and nothing
// is stored; once memory is back under the limit, the official OpenTelemetry
// exporter's own retry delivers the data. Memory is measured for real; the test
// adds a pretend allocation on top (a measured offset it controls) so the
// limiter can be pushed over and back without allocating gigabytes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { LoggerProvider, type LogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { validateConfig } from '../../../src/config/load.js';
import { fileExporterFactory } from '../../../src/exporters/file/file.js';
import { encodeProtobufRequest, requestToBatch } from '../../../src/otlp/convert.js';
import { decodeJsonRequest } from '../../../src/otlp/json.js';
import { EXPORT_METHOD_PATH, RetryInfo, RpcStatus } from '../../../src/otlp/schema.js';
import type { AnyFactory, ProcessorFactory } from '../../../src/pipeline/component.js';
import { Service } from '../../../src/pipeline/service.js';
import { memoryLimiterConfigSchema, type MemoryLimiterConfig } from '../../../src/processors/memory_limiter/config.js';
import { sampleMemory } from '../../../src/processors/memory_limiter/memory.js';
import { createMemoryLimiter, type MemoryLimiter } from '../../../src/processors/memory_limiter/memory_limiter.js';
import { otlpReceiverFactory, type OtlpReceiver } from '../../../src/receivers/otlp/otlp.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { Telemetry } from '../../../src/telemetry/metrics.js';
import { tempDir } from '../../helpers/tmp.js';

const GIB = 1024 ** 3;
/** Pretend memory on top of the real RSS; the test turns it on and off. */
let pretend = 0;

const limiterFactory: ProcessorFactory<MemoryLimiterConfig> = {
  kind: 'processor',
  type: 'memory_limiter',
  configSchema: memoryLimiterConfigSchema,
  create: (config, ctx) =>
    createMemoryLimiter(ctx.id, config, {
      logger: ctx.logger,
      registry: ctx.telemetry.registry,
      sample: () => {
        const s = sampleMemory();
        return { live: s.live + pretend, rss: s.rss + pretend, heapUsed: s.heapUsed };
      },
      gc: () => undefined,
    }),
};

const registry = new Map<string, AnyFactory>([otlpReceiverFactory, fileExporterFactory, limiterFactory].map((f) => [`${f.kind}:${f.type}`, f as AnyFactory]));

async function pollUntil(cond: () => boolean | Promise<boolean>, what: string, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function stored(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l)
    .flatMap((l) => requestToBatch(decodeJsonRequest(l).request).records.map((r) => String(r.log.body?.stringValue)));
}

/** Log records as the OpenTelemetry SDK makes them (collected as emitted, then handed to the exporter under test). */
function sdkRecords(bodies: string[]): ReadableLogRecord[] {
  const records: ReadableLogRecord[] = [];
  const collect: LogRecordProcessor = { onEmit: (r) => void records.push(r), forceFlush: async () => {}, shutdown: async () => {} };
  const logger = new LoggerProvider({ processors: [collect] }).getLogger('e2e');
  for (const body of bodies) logger.emit({ body, severityText: 'INFO' });
  expect(records).toHaveLength(bodies.length);
  return records;
}

describe('memory_limiter behind the OTLP receiver', () => {
  const dir = tempDir();
  const filePath = join(dir, 'archive.jsonl');
  let service: Service;
  let limiter: MemoryLimiter;
  let http = '';
  let grpcAddress = '';
  let telemetry: Telemetry;

  beforeAll(async () => {
    const rssMib = Math.ceil(sampleMemory().rss / 1024 / 1024); // above live memory: a generous base
    const config = validateConfig(
      {
        receivers: { otlp: { protocols: { grpc: { endpoint: '127.0.0.1:0' }, http: { endpoint: '127.0.0.1:0' } } } },
        processors: { memory_limiter: { check_interval: '50ms', limit_mib: rssMib + 2048, spike_limit_mib: 1024 } },
        exporters: { file: { path: filePath } },
        service: {
          telemetry: { metrics: { address: null } },
          pipelines: { logs: { receivers: ['otlp'], processors: ['memory_limiter'], exporters: ['file'] } },
        },
      },
      registry,
    );
    telemetry = new Telemetry({ processMetrics: false });
    service = await Service.build(config, silentLogger(), telemetry);
    pretend = 4 * GIB; // above the hard limit from the first check
    await service.start();
    limiter = service.processors[0].instance as MemoryLimiter;
    const receiver = service.receivers[0].instance as OtlpReceiver;
    http = `http://${receiver.httpAddress()}`;
    grpcAddress = receiver.grpcAddress()!;
  });

  afterAll(async () => {
    await service?.shutdown();
  });

  it('answers HTTP with 503 + Retry-After and gRPC with UNAVAILABLE + RetryInfo, storing nothing', async () => {
    expect(limiter.isRefusing).toBe(true);
    const body = encodeProtobufRequest({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ attributes: [], body: { stringValue: 'refused' } }] }] }] });

    const res = await fetch(`${http}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    const status = RpcStatus.decode(new Uint8Array(await res.arrayBuffer())) as unknown as { message: string };
    expect(status.message).toMatch(/memory limit: usage .* above the soft limit/);

    const client = new grpc.Client(grpcAddress, grpc.credentials.createInsecure());
    const outcome = await new Promise<grpc.ServiceError | undefined>((resolve) =>
      client.makeUnaryRequest(EXPORT_METHOD_PATH, (b: Buffer) => b, (b: Buffer) => b, Buffer.from(body), new grpc.Metadata(), { deadline: Date.now() + 20_000 }, (err) => resolve(err ?? undefined)),
    );
    client.close();
    expect(outcome?.code).toBe(grpc.status.UNAVAILABLE);
    const details = outcome!.metadata.get('grpc-status-details-bin')[0] as Buffer;
    const rpc = RpcStatus.decode(details) as unknown as { details: { value: Uint8Array }[] };
    const retry = RetryInfo.decode(rpc.details[0].value) as unknown as { retryDelay: { seconds: { toNumber(): number } | number } };
    expect(Number(retry.retryDelay.seconds)).toBe(1);

    expect(stored(filePath)).toEqual([]);
    const text = await telemetry.registry.metrics();
    expect(text).toMatch(/vigil_processor_refused_log_records_total\{processor="memory_limiter"\} 2/);
  });

  it('lets the official OTLP exporter\'s own retry deliver once memory is back under the limit', async () => {
    const exporter = new OTLPLogExporter({ url: `${http}/v1/logs`, timeoutMillis: 30_000 });
    const refused = async () => {
      const m = await telemetry.registry.getSingleMetric('vigil_processor_refused_log_records_total')!.get();
      return m.values.reduce((n, v) => n + v.value, 0);
    };
    const refusedBefore = await refused();
    const records = sdkRecords(['kept-1', 'kept-2']);
    const done = new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(records, resolve));
    // The first attempt is refused…
    await pollUntil(async () => (await refused()) > refusedBefore, 'a refusal');
    // …memory "drops", the limiter's next check recovers, and the client's retry (after Retry-After) gets through.
    pretend = 0;
    await pollUntil(() => !limiter.isRefusing, 'the limiter to recover');
    const result = await done;
    expect(result.code, String(result.error)).toBe(0); // ExportResultCode.SUCCESS
    expect(stored(filePath)).toEqual(['kept-1', 'kept-2']);
    await exporter.shutdown();
  });
});
