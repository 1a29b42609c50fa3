// After a burst of partly received requests (a stalled-stream attack) the
// buffers they held are garbage, but V8 frees an ArrayBuffer's memory only at a
// full collection, and an idle or refusing process may not run one for a long
// time: the memory stays counted (memory_limiter keeps refusing) and resident.
// Measured (README, "Memory after an attack"): 256 MiB of stalled requests were
// still counted 10 s after the attackers left; two forced passes freed them (the
// first finds the buffers dead, V8 updates its external-memory count at the next).
// Node lets a process collect on demand only when started with --expose-gc, the
// flag memory_limiter already uses; without it this does nothing.

/** Bursts that reached this share of the in-flight budget are worth a full collection when they end. */
export const RECLAIM_SHARE = 0.5;
/** At most one forced collection per this many milliseconds, whatever the traffic. */
export const RECLAIM_MIN_INTERVAL_MS = 10_000;

export interface ReclaimOptions {
  /** The collector (default: global.gc, present only under --expose-gc). */
  gc?: () => (() => void) | undefined;
  now?: () => number;
  /** Runs the collection outside the budget's caller (default: setImmediate). */
  defer?: (fn: () => void) => void;
  /** Told after each forced collection, with the burst's peak bytes. */
  onCollect?: (peakBytes: number) => void;
}

/** Watches the in-flight budget's bytes in use; forces a collection when a large burst has drained to zero. */
export class ReclaimAfterBurst {
  private peak = 0;
  private lastAt = Number.NEGATIVE_INFINITY;
  private readonly threshold: number;
  private readonly gc: () => (() => void) | undefined;
  private readonly now: () => number;
  private readonly defer: (fn: () => void) => void;

  constructor(
    budgetLimit: number,
    private readonly opts: ReclaimOptions = {},
  ) {
    this.threshold = budgetLimit * RECLAIM_SHARE;
    this.gc = opts.gc ?? (() => (globalThis as { gc?: () => void }).gc);
    this.now = opts.now ?? Date.now;
    this.defer = opts.defer ?? setImmediate;
  }

  /** The budget's bytes in use, after each change. */
  observe(used: number): void {
    if (used > this.peak) this.peak = used;
    if (used !== 0) return;
    const peak = this.peak;
    this.peak = 0;
    if (peak < this.threshold || this.now() - this.lastAt < RECLAIM_MIN_INTERVAL_MS) return;
    const gc = this.gc();
    if (!gc) return;
    this.lastAt = this.now();
    this.defer(() => {
      gc();
      gc(); // the second pass makes the freed buffers leave process.memoryUsage().external
      this.opts.onCollect?.(peak);
    });
  }
}
