// sending_queue: the exporter's acknowledgement point and its delivery engine.
//
// offer() resolves once the batch is in the store (for a persistent store:
// written and fsync'd), NOT when it is delivered; `num_consumers` workers
// deliver in the background, oldest first. A full queue refuses with a
// retryable Refusal, so the client keeps the data and tries again later;
// nothing accepted is ever dropped to make room. A durable store's just-written
// requests are also held in memory, up to HANDOFF_BYTES, for their first
// delivery; the store is read only for the rest.
//
// Shutdown: no new batches. With a durable store, in-flight attempts may finish
// (until the deadline) but no new attempt or retry wait starts: what is left
// stays on disk for the next start. With a memory store, keep delivering
// (retries included) until empty or the deadline, then log what is lost.
import { setTimeout as sleep } from 'node:timers/promises';
import { Refusal, asRefusal } from '../../pipeline/errors.js';
import type { QueueStore, StoredBatch } from '../../extensions/file_storage/queue-store.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Telemetry } from '../../telemetry/metrics.js';

export interface DeliverySignals {
  /** Aborted: start no new attempt or retry wait. */
  retry: AbortSignal;
  /** Aborted: cancel the attempt in flight. */
  send: AbortSignal;
}

/** Delivers one batch: `done` (sent or given up on: remove it) or `kept` (interrupted: keep it). */
export type Deliver = (payload: Uint8Array, batch: StoredBatch, signals: DeliverySignals) => Promise<'done' | 'kept'>;

export interface SendingQueueOptions {
  exporterId: string;
  store: QueueStore;
  capacity: number;
  consumers: number;
  deliver: Deliver;
  logger: Logger;
  telemetry: Telemetry;
}

/** Keeps batches in memory: lost on a crash, as the Collector's in-memory queue. */
export class MemoryQueueStore implements QueueStore {
  readonly location = 'memory';
  readonly durable = false;
  private seq = 0;
  async recover(): Promise<StoredBatch[]> {
    return [];
  }
  async put(payload: Uint8Array, records: number): Promise<StoredBatch> {
    return { seq: this.seq++, records, payload };
  }
  async read(batch: StoredBatch): Promise<Uint8Array | undefined> {
    return batch.payload;
  }
  async remove(): Promise<void> {}
  async close(): Promise<void> {}
}

/**
 * Bytes of just-stored requests a durable queue also keeps in memory for their
 * first delivery, so a consumer does not read back (open, read, CRC) what was
 * just written and fsync'd; beyond it (a backlog), consumers read from the store.
 */
const HANDOFF_BYTES = 8 * 1024 * 1024;

export class SendingQueue {
  /** Stored, waiting for a consumer, in seq order. */
  private pending: StoredBatch[] = [];
  /** Batches accepted (or being written) and not yet done: what counts against capacity. */
  private occupied = 0;
  private readonly writes = new Set<Promise<StoredBatch>>();
  private readonly idle: (() => void)[] = [];
  private workers: Promise<void>[] = [];
  private stopping = false;
  private readonly retryAbort = new AbortController();
  private readonly sendAbort = new AbortController();
  private readonly label: { exporter: string };
  /** Payloads of stored batches still held in memory (by seq), at most HANDOFF_BYTES in all. */
  private readonly handoff = new Map<number, Uint8Array>();
  private handoffBytes = 0;

  constructor(private readonly o: SendingQueueOptions) {
    this.label = { exporter: o.exporterId };
  }

  /** Batches accepted and not yet delivered or given up on. */
  get size(): number {
    return this.occupied;
  }

  async start(): Promise<void> {
    this.pending = await this.o.store.recover();
    this.occupied = this.pending.length;
    if (this.occupied > this.o.capacity) {
      this.o.logger.warn(
        { batches: this.occupied, queue_size: this.o.capacity },
        'more batches recovered than sending_queue.queue_size: all are kept; new batches are refused until the queue drains below its size',
      );
    }
    this.o.telemetry.exporterQueueCapacity.set(this.label, this.o.capacity);
    this.updateGauge();
    this.workers = Array.from({ length: this.o.consumers }, () => this.work());
  }

  async offer(payload: Uint8Array, records: number): Promise<void> {
    return this.offerAll([{ payload, records }]);
  }

  /**
   * Stores the requests of one batch together: all of them fit or none is taken
   * (an empty queue takes any number, so a batch split into more requests than
   * queue_size is not refused forever). Resolves once every one is stored.
   */
  async offerAll(items: readonly { payload: Uint8Array; records: number }[]): Promise<void> {
    const records = items.reduce((n, i) => n + i.records, 0);
    if (this.stopping) throw Refusal.unavailable(`exporter ${this.o.exporterId} is shutting down`);
    if (this.occupied > 0 && this.occupied + items.length > this.o.capacity) {
      this.o.telemetry.exporterEnqueueFailed.inc(this.label, records);
      throw Refusal.unavailable(
        `sending queue of exporter ${this.o.exporterId} is full (${this.o.capacity} batches): the downstream is slow or unavailable`,
      );
    }
    this.occupied += items.length;
    this.updateGauge();
    const results = await Promise.allSettled(items.map((i) => this.store1(i.payload, i.records)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // The requests that were stored stay queued and are delivered; the client retries the whole
      // batch, so those records reach the downstream twice (at least once, never lost).
      const lost = results.reduce((n, r, i) => n + (r.status === 'rejected' ? items[i].records : 0), 0);
      this.o.telemetry.exporterEnqueueFailed.inc(this.label, lost);
      this.o.logger.error({ err: (failed.reason as Error)?.message, records: lost }, 'cannot store batch in the sending queue; refusing it');
      throw asRefusal(failed.reason);
    }
  }

  /** Writes one request to the store and hands it to the consumers; a failed write gives its slot back. */
  private async store1(payload: Uint8Array, records: number): Promise<void> {
    const write = this.o.store.put(payload, records);
    this.writes.add(write);
    let batch: StoredBatch;
    try {
      batch = await write;
    } catch (err) {
      this.occupied--;
      this.updateGauge();
      throw err;
    } finally {
      this.writes.delete(write);
    }
    if (batch.payload === undefined && this.handoffBytes + payload.length <= HANDOFF_BYTES) {
      this.handoff.set(batch.seq, payload);
      this.handoffBytes += payload.length;
    }
    this.insert(batch);
    this.idle.shift()?.();
  }

  /** Concurrent writes may finish out of order; keep pending in seq order (FIFO). */
  private insert(batch: StoredBatch): void {
    let i = this.pending.length;
    while (i > 0 && this.pending[i - 1].seq > batch.seq) i--;
    this.pending.splice(i, 0, batch);
  }

  private updateGauge(): void {
    this.o.telemetry.exporterQueueSize.set(this.label, this.occupied);
  }

  private async take(): Promise<StoredBatch | undefined> {
    for (;;) {
      if (this.sendAbort.signal.aborted) return undefined;
      if (this.stopping && this.o.store.durable) return undefined;
      const next = this.pending.shift();
      if (next) return next;
      if (this.stopping && this.writes.size === 0) return undefined;
      await new Promise<void>((resolve) => this.idle.push(resolve));
    }
  }

  private async work(): Promise<void> {
    const signals: DeliverySignals = { retry: this.retryAbort.signal, send: this.sendAbort.signal };
    while (await this.workOne(signals));
  }

  /**
   * Takes the next batch and delivers it; false once there is none to take. A
   * frame of its own per batch, entered before the wait in take(): an async
   * frame keeps its locals while suspended, and a loop variable of work() held
   * the batch last delivered (with its payload, in an in-memory queue) while
   * the consumer waited for the next.
   */
  private async workOne(signals: DeliverySignals): Promise<boolean> {
    const batch = await this.take();
    if (!batch) return false;
    const outcome = await this.deliverOne(batch, signals);
    if (outcome === 'kept') {
      this.insert(batch);
      // Normally only a stopping queue keeps batches; after an unexpected error, pause rather than spin.
      if (!this.stopping) await sleep(1000, undefined, { signal: this.sendAbort.signal }).catch(() => undefined);
      return true;
    }
    try {
      await this.o.store.remove(batch);
    } catch (err) {
      this.o.logger.error({ err: (err as Error).message, seq: batch.seq }, 'cannot remove a delivered batch from the queue; it will be delivered again after a restart');
    }
    this.occupied--;
    this.updateGauge();
    return true;
  }

  /**
   * One delivery attempt, in a frame of its own: an async function's suspended
   * frame keeps its locals, so a payload held in work()'s loop stayed referenced
   * while that consumer waited in take() for the next batch (num_consumers idle
   * consumers held ~5 MiB of delivered requests at a steady 10k records/s).
   */
  private async deliverOne(batch: StoredBatch, signals: DeliverySignals): Promise<'done' | 'kept'> {
    try {
      const payload = batch.payload ?? this.takeHandoff(batch) ?? (await this.o.store.read(batch));
      if (payload) return await this.o.deliver(payload, batch, signals);
      this.o.telemetry.exporterSendFailed.inc(this.label, batch.records);
      return 'done';
    } catch (err) {
      // deliver never throws by contract; if it does, keep the batch rather than lose it.
      this.o.logger.error({ err: (err as Error).message }, 'unexpected error while delivering a batch; keeping it');
      return 'kept';
    }
  }

  /** The batch's bytes when still held from its put (once: a retried or kept batch is read from the store). */
  private takeHandoff(batch: StoredBatch): Uint8Array | undefined {
    const payload = this.handoff.get(batch.seq);
    if (payload === undefined) return undefined;
    this.handoff.delete(batch.seq);
    this.handoffBytes -= payload.length;
    return payload;
  }

  private wakeAll(): void {
    for (const wake of this.idle.splice(0)) wake();
  }

  async shutdown(signal: AbortSignal): Promise<void> {
    this.stopping = true;
    if (this.o.store.durable) this.retryAbort.abort();
    const onDeadline = () => {
      this.retryAbort.abort();
      this.sendAbort.abort();
      this.wakeAll();
    };
    if (signal.aborted) onDeadline();
    else signal.addEventListener('abort', onDeadline, { once: true });
    try {
      await Promise.allSettled([...this.writes]);
      this.wakeAll();
      await Promise.all(this.workers);
    } finally {
      signal.removeEventListener('abort', onDeadline);
    }
    const left = this.pending.length;
    const records = this.pending.reduce((n, b) => n + b.records, 0);
    if (left > 0 && this.o.store.durable) {
      this.o.logger.info({ batches: left, records, dir: this.o.store.location }, 'undelivered batches stay in the persistent queue for the next start');
    } else if (left > 0) {
      this.o.telemetry.exporterSendFailed.inc(this.label, records);
      this.o.logger.error({ batches: left, records }, 'shutdown deadline reached: dropping undelivered batches of the in-memory queue');
      this.occupied -= left;
      this.pending = [];
      this.updateGauge();
    }
    await this.o.store.close();
  }
}
