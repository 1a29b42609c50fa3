// sending_queue.batch (issue 14): many small Export calls become a few larger
// downstream requests, and a persistent queue writes and fsyncs one file per
// merged batch instead of one per call, while every call is still acknowledged
// only once its records are durably queued, and no later than flush_timeout.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { otlpGrpcConfigSchema } from '../../../src/exporters/otlp/config.js';
import { Batcher } from '../../../src/exporters/otlp/batcher.js';
import { queueDirName } from '../../../src/extensions/file_storage/file_storage.js';
import { decodeProtobufRequest, requestToBatch } from '../../../src/otlp/convert.js';
import type { LogBatch } from '../../../src/pipeline/record.js';
import { makeBatch } from '../../helpers/records.js';
import { tempDir } from '../../helpers/tmp.js';
import { GrpcDownstream, freePort, waitFor } from './downstream.js';
import { FAST_RETRY, buildExporter, deadline, hostWith, metric, startFileStorage } from './harness.js';

const SENT = 'vigil_exporter_sent_log_records_total';
const bodiesOf = (payloads: Uint8Array[]) => payloads.flatMap((p) => requestToBatch(decodeProtobufRequest(p)).records.map((r) => String(r.log.body?.stringValue)));
const calls = (n: number, size: number) => Array.from({ length: n }, (_, i) => makeBatch(size, `c${i}`));

describe('Batcher (merging in memory)', () => {
  it('flushes at min_size, keeps max_size, and answers every caller with its flush', async () => {
    const flushed: number[] = [];
    let fail = false;
    const b = new Batcher({
      minSize: 25,
      maxSize: 30,
      flushTimeoutMs: 60_000,
      sizeOf: (x) => x.length,
      flush: async (x: LogBatch) => {
        flushed.push(x.length);
        if (fail) throw new Error('queue full');
      },
    });
    const first = [b.add(makeBatch(10)), b.add(makeBatch(10)), b.add(makeBatch(10))];
    await Promise.all(first);
    // 10 + 10 + 10 reaches min_size 25 at the third: one flush of 30.
    expect(flushed).toEqual([30]);
    // 20 pending, then 15 would pass max_size 30: the 20 go first, the 15 wait.
    fail = true;
    const a = b.add(makeBatch(20));
    const c = b.add(makeBatch(15));
    await expect(a).rejects.toThrow('queue full');
    expect(flushed).toEqual([30, 20]);
    fail = false;
    await b.drain();
    await c;
    expect(flushed).toEqual([30, 20, 15]);
  });

  it('flushes a batch that stays below min_size after flush_timeout', async () => {
    const flushed: number[] = [];
    const b = new Batcher({ minSize: 1000, maxSize: 0, flushTimeoutMs: 20, sizeOf: (x) => x.length, flush: async (x) => void flushed.push(x.length) });
    await Promise.all([b.add(makeBatch(3)), b.add(makeBatch(4))]);
    expect(flushed).toEqual([7]);
  });

  it('validates the Collector-style settings', () => {
    const c = otlpGrpcConfigSchema.parse({ endpoint: '127.0.0.1:1', sending_queue: { batch: null } });
    expect(c.sending_queue.batch).toEqual({ flush_timeout: 200, min_size: 8192, max_size: 0, sizer: 'items' });
    expect(() => otlpGrpcConfigSchema.parse({ endpoint: '127.0.0.1:1', sending_queue: { batch: { min_size: 10, max_size: 5 } } })).toThrow(/max_size must be at least min_size/);
    expect(() => otlpGrpcConfigSchema.parse({ endpoint: '127.0.0.1:1', sending_queue: { batch: { sizer: 'requests' } } })).toThrow(/sizer is items or bytes/);
  });
});

describe('otlp_grpc with sending_queue.batch and a persistent queue', () => {
  it('50 calls of 10 records: acknowledged once stored, 3 queue files instead of 50, 3 downstream requests', async () => {
    const dir = tempDir('vigil-batch-');
    const storage = await startFileStorage(dir);
    const port = await freePort();
    const { exporter, telemetry } = await buildExporter(
      'otlp_grpc',
      {
        endpoint: `127.0.0.1:${port}`,
        tls: { insecure: true },
        retry_on_failure: FAST_RETRY,
        sending_queue: { storage: 'file_storage', num_consumers: 1, batch: { min_size: 200, flush_timeout: '300ms' } },
      },
      { host: hostWith({ file_storage: storage }) },
    );
    const sent = calls(50, 10);
    // Nothing listens downstream yet: once every call is acknowledged, its records are on disk.
    await Promise.all(sent.map((b) => exporter.consume(b)));
    const files = readdirSync(join(dir, queueDirName('otlp_grpc'))).filter((f) => f.endsWith('.batch'));
    expect(files).toHaveLength(3); // 200 + 200 at min_size, the last 100 at flush_timeout
    const down = await GrpcDownstream.start(undefined, port);
    try {
      await waitFor(async () => (await metric(telemetry, SENT, 'otlp_grpc')) === 500, 'all records delivered', 30_000);
      expect(down.delivered).toHaveLength(3);
      expect(bodiesOf(down.delivered).sort()).toEqual(sent.flat().map((r) => String(r.log.body?.stringValue)).sort());
      await exporter.shutdown!(deadline(5000));
    } finally {
      await down.close();
      await storage.shutdown?.();
    }
  });

  it('without batch: one request per call (the comparison), and shutdown stores what still waits to be batched', async () => {
    const down = await GrpcDownstream.start();
    try {
      const plain = await buildExporter('otlp_grpc', { endpoint: down.address, tls: { insecure: true }, retry_on_failure: FAST_RETRY });
      await Promise.all(calls(20, 10).map((b) => plain.exporter.consume(b)));
      await waitFor(async () => (await metric(plain.telemetry, SENT, 'otlp_grpc')) === 200, 'unbatched delivery');
      expect(down.delivered).toHaveLength(20);
      await plain.exporter.shutdown!(deadline(5000));

      const batched = await buildExporter('otlp_grpc', {
        endpoint: down.address,
        tls: { insecure: true },
        retry_on_failure: FAST_RETRY,
        sending_queue: { batch: { min_size: 1000, flush_timeout: '1h' } },
      });
      const acked = Promise.all(calls(5, 10).map((b) => batched.exporter.consume(b)));
      // Shutdown does not wait an hour: it flushes the pending batch, and its callers get their acknowledgement.
      await batched.exporter.shutdown!(deadline(5000));
      await acked;
      expect(down.delivered).toHaveLength(21);
      expect(requestToBatch(decodeProtobufRequest(down.delivered[20])).records).toHaveLength(50);
    } finally {
      await down.close();
    }
  });

  it('sizer bytes: merged requests stay within max_size bytes', async () => {
    const down = await GrpcDownstream.start();
    try {
      const { exporter, telemetry } = await buildExporter('otlp_grpc', {
        endpoint: down.address,
        tls: { insecure: true },
        retry_on_failure: FAST_RETRY,
        sending_queue: { num_consumers: 1, batch: { sizer: 'bytes', min_size: 4096, max_size: 8192, flush_timeout: '50ms' } },
      });
      await Promise.all(calls(40, 10).map((b) => exporter.consume(b)));
      await waitFor(async () => (await metric(telemetry, SENT, 'otlp_grpc')) === 400, 'delivery');
      expect(down.delivered.length).toBeLessThan(40);
      for (const d of down.delivered) expect(d.length).toBeLessThanOrEqual(8192);
      await exporter.shutdown!(deadline(5000));
    } finally {
      await down.close();
    }
  });
});
