// Memory-reducing collections for `vigil run`: V8 shrinks its young generation
// and compacts its old one only in a last-resort collection, and an idle process
// has no reason to run one (V8's memory reducer starts only after a
// mark-compact). Needs --expose-gc, which `vigil run`'s restart adds
// (bin/young-generation.js); without it these do nothing.
// Measured: docs/performance.md, "Memory".

type Collect = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

const exposedGc = (): Collect | undefined => (globalThis as { gc?: Collect }).gc;

/**
 * Once, when `vigil run` is ready: start-up (module loading, config schemas,
 * component construction) grows the young generation to its maximum, and with
 * the 64 MiB initial old space it runs no mark-compact. Idle RSS 112 -> 94 MiB.
 * False when the process cannot collect on demand.
 */
export function compactHeapAfterStart(gc: Collect | undefined = exposedGc()): boolean {
  if (!gc) return false;
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return true;
}

export interface IdleCompactorOptions {
  /** How often to look, ms. */
  intervalMs?: number;
  /** Idle: less CPU than this share of one core over the last interval. */
  idleCpuShare?: number;
  /** Compact only when RSS has grown this much since the last compaction (or start). */
  minGrowthBytes?: number;
  /** CPU time used by the process so far, µs (default: process.cpuUsage). */
  cpuMicros?: () => number;
  /** Resident bytes now (default: process.memoryUsage.rss). */
  rssBytes?: () => number;
  gc?: Collect;
}

/**
 * After a burst, when the process has gone idle: the young generation stays at
 * its maximum and the burst's garbage stays in the old one until something
 * allocates again. One compaction per burst: after it, RSS must grow by
 * minGrowthBytes again before the next (at a steady rate RSS is flat, so a
 * process that is merely quiet is not collected again and again).
 */
export class IdleHeapCompactor {
  private readonly intervalMs: number;
  private readonly idleMicros: number;
  private readonly minGrowth: number;
  private readonly cpuMicros: () => number;
  private readonly rssBytes: () => number;
  private readonly gc: Collect | undefined;
  private lastCpu: number;
  private baseline: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: IdleCompactorOptions = {}) {
    this.intervalMs = opts.intervalMs ?? 30_000;
    // An idle `vigil run` uses ~1 % of a core (timers, the event-loop delay monitor).
    this.idleMicros = (opts.idleCpuShare ?? 0.05) * this.intervalMs * 1000;
    this.minGrowth = opts.minGrowthBytes ?? 16 * 1024 * 1024;
    this.cpuMicros = opts.cpuMicros ?? (() => { const u = process.cpuUsage(); return u.user + u.system; });
    this.rssBytes = opts.rssBytes ?? (() => process.memoryUsage.rss());
    this.gc = opts.gc ?? exposedGc();
    this.lastCpu = this.cpuMicros();
    this.baseline = this.rssBytes();
  }

  /** Looks every intervalMs until stop(); does not keep the process alive. Nothing to do without a collector. */
  start(): void {
    if (!this.gc || this.timer) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look: compacts when the last interval was idle and RSS grew since the last compaction. */
  tick(): boolean {
    const cpu = this.cpuMicros();
    const busy = cpu - this.lastCpu;
    this.lastCpu = cpu;
    if (!this.gc || busy > this.idleMicros || this.rssBytes() - this.baseline < this.minGrowth) return false;
    this.gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    this.lastCpu = this.cpuMicros(); // the compaction's own CPU does not make the next interval busy
    this.baseline = this.rssBytes();
    return true;
  }
}
