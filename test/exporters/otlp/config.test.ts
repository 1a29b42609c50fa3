import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../../src/components.js';
import { ConfigError } from '../../../src/config/errors.js';
import { validateConfig } from '../../../src/config/load.js';
import { logsUrl, otlpGrpcConfigSchema, otlpHttpConfigSchema, parseGrpcEndpoint } from '../../../src/exporters/otlp/config.js';
import { Service } from '../../../src/pipeline/service.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { Telemetry } from '../../../src/telemetry/metrics.js';
import { makeBatch } from '../../helpers/records.js';
import { tempDir } from '../../helpers/tmp.js';
import { GrpcDownstream, waitFor } from './downstream.js';
import { buildExporter, deadline, startFileStorage, hostWith } from './harness.js';

function issues(raw: unknown): { path: string; message: string }[] {
  try {
    validateConfig(raw, defaultRegistry());
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}

const pipeline = (exporter: string) => ({ pipelines: { logs: { receivers: [], exporters: [exporter] } } });

describe('otlp exporter config', () => {
  it("defaults to the Collector's exporterhelper settings", () => {
    const c = otlpGrpcConfigSchema.parse({ endpoint: '127.0.0.1:4317' });
    expect(c.timeout).toBe(5000);
    expect(c.compression).toBe('gzip');
    expect(c.headers).toEqual({});
    expect(c.tls).toEqual({ insecure: false });
    expect(c.retry_on_failure).toEqual({
      enabled: true,
      initial_interval: 5000,
      max_interval: 30_000,
      max_elapsed_time: 300_000,
      multiplier: 1.5,
      randomization_factor: 0.5,
    });
    expect(c.sending_queue).toEqual({ enabled: true, num_consumers: 10, queue_size: 1000 });
    const h = otlpHttpConfigSchema.parse({ endpoint: 'http://127.0.0.1:4318' });
    expect(h.encoding).toBe('proto');
    expect(logsUrl(h).href).toBe('http://127.0.0.1:4318/v1/logs');
  });

  it('accepts durations as written and compression none or empty', () => {
    const c = otlpGrpcConfigSchema.parse({
      endpoint: 'https://collector.example:4317',
      timeout: '1m30s',
      compression: '',
      retry_on_failure: { initial_interval: '500ms', max_elapsed_time: 0 },
    });
    expect(c.timeout).toBe(90_000);
    expect(c.compression).toBe('none');
    expect(c.retry_on_failure.initial_interval).toBe(500);
    expect(c.retry_on_failure.max_elapsed_time).toBe(0);
    expect(parseGrpcEndpoint('[::1]:4317')).toEqual({ target: '[::1]:4317', scheme: undefined });
    expect(parseGrpcEndpoint('http://collector:4317')).toEqual({ target: 'collector:4317', scheme: 'http' });
    expect(parseGrpcEndpoint('collector')).toBeUndefined();
  });

  it('names the key path of every mistake', () => {
    const got = issues({
      exporters: {
        otlp_grpc: { endpoint: 'not an endpoint', sending_queue: { queue_sise: 10 }, retry_on_failure: { multiplier: 0.5 } },
        'otlp_http/eu': { encoding: 'yaml', compression: 'zstd', headers: { 'bad header': 'x' }, tls: { cert_file: 'c.pem' } },
        'otlp_grpc/x': { endpoint: '127.0.0.1:4317', sending_queue: { enabled: false, storage: 'file_storage' }, timeout: 'soon' },
      },
      service: pipeline('otlp_grpc'),
    });
    const paths = got.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'exporters.otlp_grpc.endpoint',
        'exporters.otlp_grpc.sending_queue',
        'exporters.otlp_grpc.retry_on_failure.multiplier',
        'exporters.otlp_http/eu.endpoint',
        'exporters.otlp_http/eu.encoding',
        'exporters.otlp_http/eu.compression',
        'exporters.otlp_http/eu.headers.bad header',
        'exporters.otlp_http/eu.tls.cert_file',
        'exporters.otlp_grpc/x.sending_queue.storage',
        'exporters.otlp_grpc/x.timeout',
      ]),
    );
    expect(got.find((i) => i.path === 'exporters.otlp_grpc.sending_queue')?.message).toContain('"queue_sise"');
    expect(got.find((i) => i.path === 'exporters.otlp_grpc.endpoint')?.message).toContain('127.0.0.1:4317');
    expect(got.find((i) => i.path === 'exporters.otlp_http/eu.endpoint')?.message).toContain('http://127.0.0.1:4318');
  });

  it('describes the destination and where the queue lives', async () => {
    const dir = tempDir();
    const storage = await startFileStorage(join(dir, 'queue'));
    const p = await buildExporter('otlp_grpc', { endpoint: '127.0.0.1:14317', tls: { insecure: true }, sending_queue: { storage: 'file_storage' } }, { host: hostWith({ file_storage: storage }) });
    expect(p.exporter.describe!()).toEqual([`OTLP/gRPC → 127.0.0.1:14317 (persistent queue in ${join(dir, 'queue')}/otlp_grpc)`]);
    await p.exporter.shutdown!(deadline(5000));
    const m = await buildExporter('otlp_http', { endpoint: 'https://collector.example', encoding: 'json', sending_queue: { queue_size: 50 } }, { id: 'otlp_http/eu' });
    expect(m.exporter.describe!()).toEqual(['OTLP/HTTP (json) → https://collector.example/v1/logs (in-memory queue of 50 batches)']);
    await m.exporter.shutdown!(deadline(5000));
    const t = await buildExporter('otlp_grpc', { endpoint: 'collector.example:4317' });
    expect(t.exporter.describe!()[0]).toBe('OTLP/gRPC → collector.example:4317 (TLS) (in-memory queue of 1000 batches)');
    await t.exporter.shutdown!(deadline(5000));
    await storage.shutdown();
  });
});

describe('the config from the issue, through the service', () => {
  it('runs as written: otlp_grpc with a file_storage queue', async () => {
    const down = await GrpcDownstream.start();
    const dir = tempDir();
    const yaml = `
exporters:
  otlp_grpc:
    endpoint: ${down.address}
    tls: { insecure: true }
    sending_queue: { storage: file_storage }
extensions:
  file_storage: { directory: ${dir}/vigil-data/queue }
service:
  extensions: [file_storage]
  telemetry: { metrics: { address: null } }
  pipelines:
    logs: { receivers: [], processors: [], exporters: [otlp_grpc] }
`;
    const config = validateConfig(parseYaml(yaml), defaultRegistry());
    const service = await Service.build(config, silentLogger(), new Telemetry({ processMetrics: false }));
    await service.start();
    try {
      const exporter = service.exporters[0].instance;
      expect(exporter.describe!()[0]).toBe(`OTLP/gRPC → ${down.address} (persistent queue in ${dir}/vigil-data/queue/otlp_grpc)`);
      await service.pipelines[0].consume(makeBatch(10));
      await waitFor(() => down.delivered.length === 1, 'delivery');
    } finally {
      await service.shutdown(5000);
      await down.close();
    }
  });
});
