// sending_queue.batch, as the Collector's exporterhelper batches: small batches
// from many Export calls are merged into fewer, larger ones before they are
// stored in the sending queue, so the downstream gets fewer requests and a
// persistent queue writes and fsyncs once per merged batch, not once per call.
//
// The acknowledgement contract is kept: each caller's promise resolves only
// once the merged batch holding its records is stored (for a persistent
// queue: fsync'd), and rejects with that store's refusal. A caller waits at
// most flush_timeout for others to join (less once min_size is reached).
import type { LogBatch } from '../../pipeline/record.js';

export interface BatcherOptions {
  /** Flush once this much is pending (in `sizeOf` units); 0 = flush every batch at once. */
  minSize: number;
  /** A merged batch never grows past this (0 = no limit); larger incoming batches go alone (and are split later). */
  maxSize: number;
  /** Flush what is pending this long after its first batch arrived. */
  flushTimeoutMs: number;
  /** A batch's size: records (`items`) or encoded bytes (`bytes`). */
  sizeOf: (batch: LogBatch) => number;
  /** Stores a merged batch; resolves once it is durably queued. */
  flush: (batch: LogBatch) => Promise<void>;
}

interface Pending {
  records: LogBatch;
  size: number;
  waiters: { resolve: () => void; reject: (err: unknown) => void }[];
  timer: NodeJS.Timeout | undefined;
}

export class Batcher {
  private pending: Pending | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly o: BatcherOptions) {}

  /** Adds a caller's batch; resolves once the merged batch holding it is stored. */
  add(batch: LogBatch): Promise<void> {
    const size = this.o.sizeOf(batch);
    if (this.pending && this.o.maxSize > 0 && this.pending.size + size > this.o.maxSize) this.flushPending();
    const p = (this.pending ??= { records: [], size: 0, waiters: [], timer: undefined });
    for (const r of batch) p.records.push(r);
    p.size += size;
    const done = new Promise<void>((resolve, reject) => p.waiters.push({ resolve, reject }));
    if (p.size >= this.o.minSize) this.flushPending();
    else p.timer ??= setTimeout(() => this.flushPending(), this.o.flushTimeoutMs);
    return done;
  }

  /** Flushes what is pending now and waits for every flush in flight. */
  async drain(): Promise<void> {
    this.flushPending();
    await Promise.allSettled([...this.inFlight]);
  }

  private flushPending(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    const f = this.o.flush(p.records).then(
      () => {
        for (const w of p.waiters) w.resolve();
      },
      (err: unknown) => {
        for (const w of p.waiters) w.reject(err);
      },
    );
    this.inFlight.add(f);
    void f.finally(() => this.inFlight.delete(f));
  }
}
