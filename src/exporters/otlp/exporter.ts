// The otlp_grpc / otlp_http exporter: encodes each batch once for its
// destination, puts the bytes in its sending queue (the acknowledgement point)
// and lets the queue's consumers deliver them with retry. Protocol details live
// in the Sender; queueing in SendingQueue; retry rules in retry.ts.
import { ConfigError } from '../../config/errors.js';
import type { Exporter, Host } from '../../pipeline/component.js';
import { Refusal } from '../../pipeline/errors.js';
import type { LogBatch } from '../../pipeline/record.js';
import { isQueueStorage, type QueueStore } from '../../extensions/file_storage/queue-store.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Telemetry } from '../../telemetry/metrics.js';
import type { OtlpCommonConfig } from './config.js';
import { MemoryQueueStore, SendingQueue, type DeliverySignals } from './queue.js';
import { type DeliveryResult, deliverWithRetry } from './retry.js';
import type { Sender } from './sender.js';
import { Batcher } from './batcher.js';
import { type RequestLimits, splitToFit } from './split.js';

/** Requests are never cut smaller than this on the downstream's word alone. */
const MIN_LEARNED_BYTES = 1024;

export interface OtlpExporterOptions {
  id: string;
  config: OtlpCommonConfig;
  sender: Sender;
  /** Encodes a batch into the request bytes this destination takes. */
  encode: (batch: LogBatch) => Uint8Array;
  /** Reads those bytes back, to split a request the downstream refused as too large. */
  decode: (payload: Uint8Array) => LogBatch;
  logger: Logger;
  telemetry: Telemetry;
}

export class OtlpExporter implements Exporter {
  private queue: SendingQueue | undefined;
  private store: QueueStore | undefined;
  private started = false;
  private stopping = false;
  /** Without a queue, consume() delivers inline; these stop it at shutdown. */
  private readonly inlineRetry = new AbortController();
  private readonly inlineSend = new AbortController();
  private readonly inlineCalls = new Set<Promise<void>>();
  private stopped: Promise<void> | undefined;
  private readonly label: { exporter: string };
  private readonly limits: RequestLimits;
  private readonly batcher: Batcher | undefined;
  /** Half the smallest request the downstream refused as too large: later batches are cut to it, not refused again. */
  private learnedMaxBytes = Number.POSITIVE_INFINITY;

  constructor(private readonly o: OtlpExporterOptions) {
    this.label = { exporter: o.id };
    const b = o.config.sending_queue.batch;
    const cap = (limit: number, max: number) => (max > 0 && (limit === 0 || max < limit) ? max : limit);
    this.limits = {
      maxBytes: b?.sizer === 'bytes' ? cap(o.config.max_request_bytes, b.max_size) : o.config.max_request_bytes,
      maxRecords: b?.sizer === 'items' ? cap(o.config.max_batch_records, b.max_size) : o.config.max_batch_records,
    };
    if (b) {
      this.batcher = new Batcher({
        minSize: b.min_size,
        maxSize: b.max_size,
        flushTimeoutMs: b.flush_timeout,
        sizeOf: b.sizer === 'items' ? (batch) => batch.length : (batch) => o.encode(batch).length,
        flush: (batch) => this.enqueue(batch),
      });
    }
  }

  describe(): string[] {
    const q = this.o.config.sending_queue;
    let queue: string;
    if (!q.enabled) queue = 'no queue: delivered before acknowledging';
    else if (this.store?.durable) queue = `persistent queue in ${this.store.location}`;
    else if (q.storage) queue = `persistent queue via ${q.storage}`;
    else queue = `in-memory queue of ${q.queue_size} batches`;
    if (q.batch) queue += `, batched from ${q.batch.min_size} ${q.batch.sizer} or ${q.batch.flush_timeout} ms`;
    return [`${this.o.sender.description} (${queue})`];
  }

  async start(host: Host): Promise<void> {
    await this.o.sender.start();
    const q = this.o.config.sending_queue;
    try {
      if (q.enabled) {
        this.store = q.storage ? await this.openStorage(host, q.storage) : new MemoryQueueStore();
        this.queue = new SendingQueue({
          exporterId: this.o.id,
          store: this.store,
          capacity: q.queue_size,
          consumers: q.num_consumers,
          deliver: async (payload, batch, signals) => {
            const r = await this.deliver(payload, batch.records, signals);
            return r.kind === 'aborted' ? 'kept' : 'done';
          },
          logger: this.o.logger,
          telemetry: this.o.telemetry,
        });
        await this.queue.start();
      }
    } catch (err) {
      await this.store?.close().catch(() => undefined);
      await this.o.sender.close();
      throw err;
    }
    this.started = true;
  }

  private async openStorage(host: Host, storageId: string): Promise<QueueStore> {
    // A wrong reference is a config mistake (exit code 2), found once extensions are running.
    const path = `exporters.${this.o.id}.sending_queue.storage`;
    const ext = host.getExtension(storageId);
    if (!ext) {
      throw new ConfigError([
        { path, message: `extension "${storageId}" is not running: define it under extensions: and list it in service.extensions` },
      ]);
    }
    if (!isQueueStorage(ext)) throw new ConfigError([{ path, message: `extension "${storageId}" is not a storage extension (use file_storage)` }]);
    return ext.openQueue(this.o.id, this.o.logger);
  }

  /** Not async: the batch is not held while the queue's fsync (or the delivery) is awaited, only its encoding (see WormExporter.consume). */
  consume(batch: LogBatch): Promise<void> {
    if (!this.started) return Promise.reject(Refusal.unavailable(`exporter ${this.o.id} is not started`));
    if (this.stopping) return Promise.reject(Refusal.unavailable(`exporter ${this.o.id} is shutting down`));
    if (batch.length === 0) return Promise.resolve();
    try {
      return this.batcher ? this.batcher.add(batch) : this.enqueue(batch);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Splits to the request limits and queues (or, without a queue, delivers); resolves once stored (delivered). */
  private enqueue(batch: LogBatch): Promise<void> {
    const { chunks, oversize } = splitToFit(batch, this.o.encode, this.requestLimits());
    if (oversize.length > 0) this.dropOversize(oversize.map((o) => o.bytes));
    if (chunks.length === 0) return Promise.resolve();
    if (this.queue) return this.queue.offerAll(chunks);
    return this.deliverInlineCall(chunks);
  }

  /** Delivers now, the caller waiting (sending_queue.enabled: false); tracked so that shutdown can abort it. */
  private async deliverInlineCall(chunks: { payload: Uint8Array; records: number }[]): Promise<void> {
    const call = this.deliverInlineAll(chunks);
    this.inlineCalls.add(call);
    try {
      await call;
    } finally {
      this.inlineCalls.delete(call);
    }
  }

  /** The limits batches are cut to: the configured ones, lowered to what the downstream showed it refuses. */
  private requestLimits(): RequestLimits {
    if (this.learnedMaxBytes >= this.limits.maxBytes) return this.limits;
    return { ...this.limits, maxBytes: this.learnedMaxBytes, singleMaxBytes: this.limits.maxBytes };
  }

  /** Records that alone exceed max_request_bytes: the only ones this exporter gives up on before trying. */
  private dropOversize(sizes: number[]): void {
    this.o.telemetry.exporterSendFailed.inc(this.label, sizes.length);
    this.o.logger.error(
      { records: sizes.length, largest_bytes: Math.max(...sizes), max_request_bytes: this.limits.maxBytes },
      `log record larger than exporters.${this.o.id}.max_request_bytes on its own: not sent downstream (it is still in every other exporter, e.g. the archive); raise max_request_bytes if the downstream accepts larger requests`,
    );
  }

  private async deliverInlineAll(chunks: { payload: Uint8Array; records: number }[]): Promise<void> {
    for (const c of chunks) await this.deliverInline(c.payload, c.records);
  }

  /** sending_queue.enabled: false — the Collector's synchronous mode: the caller waits for delivery and learns its fate. */
  private async deliverInline(payload: Uint8Array, records: number): Promise<void> {
    const r = await this.deliver(payload, records, { retry: this.inlineRetry.signal, send: this.inlineSend.signal });
    if (r.kind === 'aborted') throw Refusal.unavailable(`exporter ${this.o.id} is shutting down`);
    if (r.kind === 'failed') throw r.permanent ? new Refusal('INVALID_ARGUMENT', `downstream refused the data: ${r.reason}`) : Refusal.unavailable(`downstream unavailable: ${r.reason}`);
  }

  /** One batch, retried per retry_on_failure, split when refused as too large; counts and logs its fate. */
  private async deliver(payload: Uint8Array, records: number, signals: DeliverySignals): Promise<Exclude<DeliveryResult, { kind: 'too_large' }>> {
    const log = this.o.logger;
    const r = await deliverWithRetry((signal) => this.o.sender.send(payload, signal), {
      policy: this.o.config.retry_on_failure,
      retrySignal: signals.retry,
      sendSignal: signals.send,
      onRetry: ({ attempt, waitMs, reason }) => log.info({ attempt, retry_in_ms: waitMs, reason, records }, 'export failed; will retry'),
    });
    if (r.kind === 'too_large') return this.deliverSplit(payload, records, r.reason, signals);
    const t = this.o.telemetry;
    if (r.kind === 'sent') {
      t.exporterSent.inc(this.label, records - Math.min(r.rejected, records));
      if (r.rejected > 0 || r.message !== undefined) {
        if (r.rejected > 0) t.exporterSendFailed.inc(this.label, Math.min(r.rejected, records));
        log.warn({ rejected: r.rejected, records, message: r.message }, 'downstream accepted the batch partially (OTLP partial success)');
      }
    } else if (r.kind === 'failed') {
      t.exporterSendFailed.inc(this.label, records);
      log.error(
        { records, attempts: r.attempts, reason: r.reason },
        r.permanent ? 'downstream rejected the batch permanently; dropping it (not retried)' : 'giving up on the batch; dropping it',
      );
    }
    return r;
  }

  /**
   * The downstream refused a request for its size: send its two halves instead
   * (each split again if refused in turn). Only a single record the downstream
   * refuses is given up on. A half delivered before an abort is sent again with
   * the rest after a restart (at least once).
   */
  private async deliverSplit(payload: Uint8Array, records: number, reason: string, signals: DeliverySignals): Promise<Exclude<DeliveryResult, { kind: 'too_large' }>> {
    const log = this.o.logger;
    const batch = records > 1 ? this.o.decode(payload) : [];
    if (batch.length <= 1) {
      this.o.telemetry.exporterSendFailed.inc(this.label, records);
      log.error(
        { records, bytes: payload.length, reason },
        `downstream refused a single log record as too large; dropping it (it is still in every other exporter, e.g. the archive): raise the downstream's receive limit`,
      );
      return { kind: 'failed', attempts: 1, permanent: true, reason };
    }
    const learned = Math.max(MIN_LEARNED_BYTES, Math.floor(payload.length / 2));
    if (learned < this.learnedMaxBytes) {
      this.learnedMaxBytes = learned;
      log.warn(
        { records, bytes: payload.length, max_request_bytes: this.limits.maxBytes, now_cut_to_bytes: learned, reason },
        `downstream refused the request as too large; splitting it, and cutting later requests to ${learned} bytes: set exporters.${this.o.id}.max_request_bytes below what the downstream accepts`,
      );
    }
    const half = Math.ceil(batch.length / 2);
    let result: Exclude<DeliveryResult, { kind: 'too_large' }> = { kind: 'sent', attempts: 1, rejected: 0 };
    for (const part of [batch.slice(0, half), batch.slice(half)]) {
      const r = await this.deliver(this.o.encode(part), part.length, signals);
      if (r.kind === 'aborted') return r;
      if (r.kind === 'failed') result = r;
    }
    return result;
  }

  shutdown(signal: AbortSignal): Promise<void> {
    this.stopped ??= this.stop(signal);
    return this.stopped;
  }

  private async stop(signal: AbortSignal): Promise<void> {
    this.stopping = true;
    try {
      // What waits for others to join is stored now: its callers are waiting for their acknowledgement.
      await this.batcher?.drain();
      if (this.queue) {
        await this.queue.shutdown(signal);
      } else if (this.inlineCalls.size > 0) {
        const onDeadline = () => {
          this.inlineRetry.abort();
          this.inlineSend.abort();
        };
        if (signal.aborted) onDeadline();
        else signal.addEventListener('abort', onDeadline, { once: true });
        await Promise.allSettled([...this.inlineCalls]);
        signal.removeEventListener('abort', onDeadline);
      }
    } finally {
      await this.o.sender.close();
    }
  }
}
