import * as grpc from '@grpc/grpc-js';
import { readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeProtobufRequest, requestToBatch } from '../../../src/otlp/convert.js';
import { ConfigError } from '../../../src/config/errors.js';
import { Refusal } from '../../../src/pipeline/errors.js';
import { exposedGc } from '../../helpers/gc.js';
import { makeBatch } from '../../helpers/records.js';
import { tempDir } from '../../helpers/tmp.js';
import { GrpcDownstream, OK, waitFor } from './downstream.js';
import { FAST_RETRY, buildExporter, captureLogger, deadline, hostWith, metric, startFileStorage } from './harness.js';
import { MemoryQueueStore, SendingQueue } from '../../../src/exporters/otlp/queue.js';
import { FileQueueStore } from '../../../src/extensions/file_storage/file-queue-store.js';
import type { QueueStore } from '../../../src/extensions/file_storage/queue-store.js';
import { Telemetry } from '../../../src/telemetry/metrics.js';

const SENT = 'vigil_exporter_sent_log_records_total';
const FAILED = 'vigil_exporter_send_failed_log_records_total';
const ENQUEUE_FAILED = 'vigil_exporter_enqueue_failed_log_records_total';
const QUEUE = 'vigil_exporter_queue_size';
const UNAVAILABLE = { code: grpc.status.UNAVAILABLE, details: 'downstream is down' };

/** The first record body of each delivered request, in delivery order. */
function deliveredBodies(down: GrpcDownstream): string[] {
  return down.delivered.map((b) => String(requestToBatch(decodeProtobufRequest(b)).records[0].log.body?.stringValue));
}

function batchFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.batch')).sort();
}

describe('sending queue', () => {
  let down: GrpcDownstream;
  beforeEach(async () => {
    down = await GrpcDownstream.start();
  });
  afterEach(async () => {
    await down.close();
  });

  const persistent = (extra: Record<string, unknown> = {}) => ({
    endpoint: down.address,
    tls: { insecure: true },
    retry_on_failure: FAST_RETRY,
    sending_queue: { storage: 'file_storage', num_consumers: 1, ...extra },
  });

  it('keeps what was acknowledged on disk across a restart and delivers it, in order, after', async () => {
    const dir = tempDir();
    down.fallback = UNAVAILABLE;
    const storage = await startFileStorage(dir);
    const a = await buildExporter('otlp_grpc', persistent(), { host: hostWith({ file_storage: storage }) });
    for (let i = 0; i < 5; i++) await a.exporter.consume(makeBatch(3, `b${i}`));
    const queueDir = join(dir, 'otlp_grpc');
    expect(batchFiles(queueDir)).toHaveLength(5);
    expect(await metric(a.telemetry, QUEUE, 'otlp_grpc')).toBe(5);
    await waitFor(() => down.attempts.length > 0, 'a first attempt');
    await a.exporter.shutdown!(deadline(10_000));
    expect(a.lines.find((l) => l.msg.includes('stay in the persistent queue'))).toMatchObject({ batches: 5, records: 15 });
    expect(batchFiles(queueDir)).toHaveLength(5);
    expect(down.delivered).toHaveLength(0);

    down.fallback = OK;
    const b = await buildExporter('otlp_grpc', persistent(), { host: hostWith({ file_storage: storage }) });
    expect(b.lines.find((l) => l.msg.startsWith('recovered queued batches'))).toMatchObject({ batches: 5, records: 15, discarded: 0 });
    await waitFor(() => down.delivered.length === 5, 'delivery after restart');
    expect(deliveredBodies(down)).toEqual(['b0-0', 'b1-0', 'b2-0', 'b3-0', 'b4-0']);
    await waitFor(async () => (await metric(b.telemetry, SENT, 'otlp_grpc')) === 15, 'sent metric');
    await waitFor(() => batchFiles(queueDir).length === 0, 'queue files removed');
    await b.exporter.shutdown!(deadline(5000));
    await storage.shutdown();
  });

  for (const kind of ['memory', 'persistent'] as const) {
    it(`refuses with a retryable Refusal when full (${kind}) and loses nothing it accepted`, async () => {
      down.fallback = UNAVAILABLE;
      const dir = tempDir();
      const storage = kind === 'persistent' ? await startFileStorage(dir) : undefined;
      const config =
        kind === 'persistent'
          ? persistent({ queue_size: 2 })
          : { endpoint: down.address, tls: { insecure: true }, retry_on_failure: FAST_RETRY, sending_queue: { queue_size: 2, num_consumers: 1 } };
      const { exporter, telemetry } = await buildExporter('otlp_grpc', config, { host: hostWith(storage ? { file_storage: storage } : {}) });
      await exporter.consume(makeBatch(2, 'kept0'));
      await exporter.consume(makeBatch(2, 'kept1'));
      const err = await exporter.consume(makeBatch(4, 'refused')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Refusal);
      expect((err as Refusal).code).toBe('UNAVAILABLE');
      expect((err as Refusal).retryable).toBe(true);
      expect((err as Refusal).message).toMatch(/queue .* is full/);
      expect(await metric(telemetry, ENQUEUE_FAILED, 'otlp_grpc')).toBe(4);
      expect(await metric(telemetry, QUEUE, 'otlp_grpc')).toBe(2);

      down.fallback = OK;
      await waitFor(() => down.delivered.length === 2, 'the accepted batches delivered');
      expect(deliveredBodies(down)).toEqual(['kept0-0', 'kept1-0']);
      await waitFor(async () => (await metric(telemetry, QUEUE, 'otlp_grpc')) === 0, 'queue drained');
      // Room again: the refused batch, sent again by its client, is taken.
      await exporter.consume(makeBatch(4, 'refused'));
      await waitFor(() => down.delivered.length === 3, 'the retried batch delivered');
      await exporter.shutdown!(deadline(5000));
      await storage?.shutdown();
    });
  }

  it('skips a torn queue file at start-up with a log and delivers the rest', async () => {
    const dir = tempDir();
    down.fallback = UNAVAILABLE;
    const storage = await startFileStorage(dir);
    const a = await buildExporter('otlp_grpc', persistent(), { host: hostWith({ file_storage: storage }) });
    for (let i = 0; i < 3; i++) await a.exporter.consume(makeBatch(2, `t${i}`));
    await a.exporter.shutdown!(deadline(10_000));
    const queueDir = join(dir, 'otlp_grpc');
    const files = batchFiles(queueDir);
    expect(files).toHaveLength(3);
    const torn = join(queueDir, files[1]);
    truncateSync(torn, Math.floor(statSync(torn).size / 2));

    down.fallback = OK;
    const b = await buildExporter('otlp_grpc', persistent(), { host: hostWith({ file_storage: storage }) });
    const warn = b.lines.find((l) => l.level === 'warn' && l.msg.startsWith('discarding invalid queue file'));
    expect(warn).toMatchObject({ file: torn });
    expect(String(warn?.problem)).toMatch(/^torn/);
    expect(b.lines.find((l) => l.msg.startsWith('recovered queued batches'))).toMatchObject({ batches: 2, discarded: 1 });
    await waitFor(() => down.delivered.length === 2, 'the intact batches delivered');
    expect(deliveredBodies(down)).toEqual(['t0-0', 't2-0']);
    await waitFor(() => batchFiles(queueDir).length === 0, 'queue files removed');
    await b.exporter.shutdown!(deadline(5000));
    await storage.shutdown();
  });

  it('persistent queue: shutdown does not wait out retry backoff; the batch stays for the next start', async () => {
    const dir = tempDir();
    down.fallback = UNAVAILABLE;
    const storage = await startFileStorage(dir);
    const { exporter } = await buildExporter(
      'otlp_grpc',
      { ...persistent(), retry_on_failure: { initial_interval: '1h', max_interval: '1h', max_elapsed_time: 0 } },
      { host: hostWith({ file_storage: storage }) },
    );
    await exporter.consume(makeBatch(1));
    await waitFor(() => down.attempts.length === 1, 'first attempt');
    // With a one-hour backoff pending, this resolves only because shutdown stops the wait.
    await exporter.shutdown!(deadline(30_000));
    expect(batchFiles(join(dir, 'otlp_grpc'))).toHaveLength(1);
    await storage.shutdown();
  });

  it('in-memory queue: shutdown keeps delivering until the queue is empty', async () => {
    down.fallback = UNAVAILABLE;
    const { exporter, telemetry } = await buildExporter('otlp_grpc', {
      endpoint: down.address,
      tls: { insecure: true },
      retry_on_failure: FAST_RETRY,
      sending_queue: { num_consumers: 2 },
    });
    await exporter.consume(makeBatch(2, 'm0'));
    await exporter.consume(makeBatch(2, 'm1'));
    await waitFor(() => down.attempts.length >= 2, 'attempts');
    const stopped = exporter.shutdown!(deadline(30_000));
    const refused = await exporter.consume(makeBatch(1)).catch((e: unknown) => e);
    expect((refused as Refusal).retryable).toBe(true);
    down.fallback = OK;
    await stopped;
    expect(deliveredBodies(down).sort()).toEqual(['m0-0', 'm1-0']);
    expect(await metric(telemetry, SENT, 'otlp_grpc')).toBe(4);
  });

  it('in-memory queue: at the shutdown deadline, what is left is counted as failed and logged', async () => {
    down.fallback = UNAVAILABLE;
    const { exporter, telemetry, lines } = await buildExporter('otlp_grpc', {
      endpoint: down.address,
      tls: { insecure: true },
      retry_on_failure: FAST_RETRY,
      sending_queue: { num_consumers: 1 },
    });
    await exporter.consume(makeBatch(3));
    await exporter.consume(makeBatch(2));
    await exporter.shutdown!(deadline(100));
    expect(await metric(telemetry, FAILED, 'otlp_grpc')).toBe(5);
    expect(lines.find((l) => l.level === 'error')?.msg).toMatch(/dropping undelivered batches/);
  });

  it('refuses to start when sending_queue.storage names an extension that is not running', async () => {
    const err = await buildExporter('otlp_grpc', {
      endpoint: down.address,
      tls: { insecure: true },
      sending_queue: { storage: 'file_storage/missing' },
    }).catch((e: unknown) => e);
    // A config error: `vigil run` exits with code 2 and names the key.
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([
      {
        path: 'exporters.otlp_grpc.sending_queue.storage',
        message: 'extension "file_storage/missing" is not running: define it under extensions: and list it in service.extensions',
      },
    ]);
  });

  it('refuses a second queue on the same directory', async () => {
    const dir = tempDir();
    const storage = await startFileStorage(dir);
    const host = hostWith({ file_storage: storage });
    const a = await buildExporter('otlp_grpc', persistent(), { host });
    await expect(buildExporter('otlp_grpc', persistent(), { host })).rejects.toThrow(/already open/);
    await a.exporter.shutdown!(deadline(5000));
    await storage.shutdown();
  });

  it('persistent queue: a just-stored request goes out from memory, a backlog beyond the hand-off budget is read back from disk; the same bytes either way', async () => {
    const { logger } = captureLogger();
    const disk = await FileQueueStore.open(join(tempDir(), 'q'), logger);
    let reads = 0;
    // The real store; only its reads are counted.
    const store: QueueStore = { location: disk.location, durable: true, recover: () => disk.recover(), put: (p, n) => disk.put(p, n), read: (b) => (reads++, disk.read(b)), remove: (b) => disk.remove(b), close: () => disk.close() };
    const delivered: Buffer[] = [];
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    const queue = new SendingQueue({
      exporterId: 'otlp_grpc',
      store,
      capacity: 10,
      consumers: 1,
      logger,
      telemetry: new Telemetry({ processMetrics: false }),
      deliver: async (payload) => {
        await blocked;
        delivered.push(Buffer.from(payload));
        return 'done';
      },
    });
    await queue.start();
    // 4 MiB each: the first is taken at once, the next two fill the 8 MiB hand-off, the fourth waits on disk only.
    const payloads = [0, 1, 2, 3].map((i) => Buffer.alloc(4 * 1024 * 1024, i + 1));
    for (const p of payloads) await queue.offer(p, 1);
    release();
    await waitFor(() => delivered.length === 4, 'all four delivered');
    expect(delivered.map((d, i) => d.equals(payloads[i]))).toEqual([true, true, true, true]);
    expect(reads).toBe(1);
    await queue.shutdown(deadline(5000));
  });

  for (const kind of ['file', 'memory'] as const) it(`a consumer waiting for the next batch holds no request it delivered (async frames keep their locals; ${kind} store)`, async () => {
    const gc = exposedGc();
    if (!gc) throw new Error('this test needs V8 gc (node --expose-gc, or v8.setFlagsFromString at run time)');
    const { logger } = captureLogger();
    const store = kind === 'file' ? await FileQueueStore.open(join(tempDir(), 'q'), logger) : new MemoryQueueStore();
    let delivered = 0;
    const queue = new SendingQueue({
      exporterId: 'otlp_grpc',
      store,
      capacity: 10,
      consumers: 2,
      logger,
      telemetry: new Telemetry({ processMetrics: false }),
      deliver: async () => {
        delivered++;
        return 'done';
      },
    });
    await queue.start();
    const sent: WeakRef<Buffer>[] = [];
    // In a function of its own, so this test's frame holds no payload either.
    const offer = async (i: number) => {
      const payload = Buffer.alloc(1024 * 1024, i + 1);
      sent.push(new WeakRef(payload));
      await queue.offer(payload, 1);
    };
    for (let i = 0; i < 3; i++) await offer(i);
    await waitFor(() => delivered === 3 && queue.size === 0, 'all three delivered and removed');
    // A new job: a WeakRef keeps its target alive until the job that made it ends (an in-memory queue takes
    // and delivers within microtasks, so the offers and deliveries may all have been one job).
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(sent.map((r) => r.deref() === undefined)).toEqual([true, true, true]);
    await queue.shutdown(deadline(5000));
  });
});

