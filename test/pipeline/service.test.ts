import { describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultRegistry } from '../../src/components.js';
import { validateConfig } from '../../src/config/load.js';
import type { Exporter, ExporterFactory } from '../../src/pipeline/component.js';
import { Refusal } from '../../src/pipeline/errors.js';
import { Service, fanOut } from '../../src/pipeline/service.js';
import type { LogBatch } from '../../src/pipeline/record.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { Telemetry } from '../../src/telemetry/metrics.js';
import { z } from 'zod';
import { makeBatch } from '../helpers/records.js';
import { tempDir } from '../helpers/tmp.js';
import type { HealthCheckExtension } from '../../src/extensions/health_check/health_check.js';

/** A real exporter whose acceptance the test controls: it refuses while told to. */
class GateExporter implements Exporter {
  refusal: Refusal | undefined;
  readonly got: LogBatch[] = [];
  async consume(batch: LogBatch): Promise<void> {
    if (this.refusal) throw this.refusal;
    this.got.push(batch);
  }
}
const gates = new Map<string, GateExporter>();
const gateFactory: ExporterFactory<Record<string, never>> = {
  kind: 'exporter',
  type: 'gate',
  configSchema: z.object({}).strict() as z.ZodType<Record<string, never>>,
  create: (_c, ctx) => {
    const g = new GateExporter();
    gates.set(ctx.id, g);
    return g;
  },
};

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('service', () => {
  it('fans a batch out to every exporter of the pipeline and acks only when all took it', async () => {
    const dir = tempDir();
    const cfg = validateConfig(
      {
        exporters: { file: { path: join(dir, 'a.jsonl') }, 'gate/x': {} },
        extensions: { health_check: { endpoint: '127.0.0.1:0' } },
        service: { extensions: ['health_check'], pipelines: { logs: { exporters: ['file', 'gate/x'] } } },
      },
      defaultRegistry([gateFactory]),
    );
    const svc = await Service.build(cfg, silentLogger(), new Telemetry({ processMetrics: false }));
    const health = svc.getExtension<HealthCheckExtension>('health_check')!;
    await svc.start();
    expect(svc.state).toBe('ready');
    expect((await get(`http://${health.address()}/`)).status).toBe(200);

    await svc.pipelines[0].consume(makeBatch(3));
    expect(gates.get('gate/x')!.got).toHaveLength(1);

    gates.get('gate/x')!.refusal = Refusal.unavailable('gate closed', 2000);
    await expect(svc.pipelines[0].consume(makeBatch(2))).rejects.toMatchObject({ code: 'UNAVAILABLE', retryAfterMs: 2000 });

    const addr = health.address();
    await svc.shutdown();
    expect(svc.state).toBe('stopped');
    await expect(get(`http://${addr}/`)).rejects.toThrow();
    // The file got both batches: at-least-once, the client's retry will bring the second again.
    expect(readFileSync(join(dir, 'a.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('health check answers 503 while starting', async () => {
    const cfg = validateConfig(
      {
        exporters: { 'gate/h': {} },
        extensions: { health_check: { endpoint: '127.0.0.1:0' } },
        service: { extensions: ['health_check'], pipelines: { logs: { exporters: ['gate/h'] } } },
      },
      defaultRegistry([gateFactory]),
    );
    const svc = await Service.build(cfg, silentLogger(), new Telemetry({ processMetrics: false }));
    const health = svc.getExtension<HealthCheckExtension>('health_check')!;
    await health.start(svc);
    const r = await get(`http://${health.address()}/`);
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body).state).toBe('starting');
    await health.shutdown();
  });

  it('fanOut prefers a permanent refusal, else the longest retry hint', async () => {
    const c = (err?: Refusal) => ({ consume: async () => { if (err) throw err; } });
    await expect(fanOut([c(Refusal.unavailable('a', 100)), c(Refusal.invalid('bad'))], [])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(fanOut([c(Refusal.unavailable('a', 100)), c(Refusal.unavailable('b', 900)), c()], [])).rejects.toMatchObject({ retryAfterMs: 900 });
    await expect(fanOut([c(), c()], [])).resolves.toBeUndefined();
  });
});
