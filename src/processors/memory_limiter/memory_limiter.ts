// The `memory_limiter` processor, like the Collector's: memory is measured on a
// timer (never per batch); while usage is above the soft limit every batch is
// refused with a retryable UNAVAILABLE, so clients keep the data and retry
// later instead of Vigil being OOM-killed with acknowledged data in flight.
// Above the hard limit it also forces a garbage collection when node exposes
// one (--expose-gc). Put it first in a pipeline, before any processor that
// allocates.
import type { Registry } from 'prom-client';
import type { Processor, ProcessorFactory, RequestCost } from '../../pipeline/component.js';
import { Refusal } from '../../pipeline/errors.js';
import type { LogBatch } from '../../pipeline/record.js';
import type { Logger } from '../../telemetry/logger.js';
import { type Limits, type MemoryLimiterConfig, memoryLimiterConfigSchema, resolveLimits } from './config.js';
import { type CheckOutcome, admission, nextState, pressureOf, requestEstimate, retryAfterMs, shouldCollect } from './decide.js';
import { type MemorySample, sampleMemory, totalMemoryBytes } from './memory.js';
import { type MemoryLimiterMetrics, memoryLimiterMetrics } from './metrics.js';

export interface MemoryLimiterOptions {
  /** How memory is measured (default: process.memoryUsage()). */
  sample?: () => MemorySample;
  /** The collector to force above the hard limit (default: global.gc, when node runs with --expose-gc). */
  gc?: () => (() => void) | undefined;
}

const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

export class MemoryLimiter implements Processor {
  private refusing = false;
  private timer: NodeJS.Timeout | undefined;
  private last: MemorySample = { live: 0, rss: 0, heapUsed: 0 };
  private refusingSince = 0;
  private refusedInEpisode = 0;
  private warnedNoGc = false;
  private readonly sample: () => MemorySample;
  private readonly gc: () => (() => void) | undefined;

  constructor(
    private readonly id: string,
    private readonly config: MemoryLimiterConfig,
    readonly limits: Limits,
    private readonly logger: Logger,
    private readonly metrics: MemoryLimiterMetrics,
    opts: MemoryLimiterOptions = {},
  ) {
    this.sample = opts.sample ?? sampleMemory;
    this.gc = opts.gc ?? (() => (globalThis as { gc?: () => void }).gc);
    metrics.limit.set({ processor: id, limit: 'soft' }, limits.softBytes);
    metrics.limit.set({ processor: id, limit: 'hard' }, limits.hardBytes);
    metrics.refusing.set({ processor: id }, 0);
  }

  /** True while batches are refused. */
  get isRefusing(): boolean {
    return this.refusing;
  }

  /** The measurement the current state rests on. */
  get lastSample(): MemorySample {
    return this.last;
  }

  async start(): Promise<void> {
    const outcome = this.check();
    this.logger.info(
      { live_mib: mib(this.last.live), rss_mib: mib(this.last.rss), soft_limit_mib: mib(this.limits.softBytes), hard_limit_mib: mib(this.limits.hardBytes), check_interval_ms: this.config.check_interval, refusing: outcome.refusing },
      'memory limiter started',
    );
    this.timer = setInterval(() => this.check(), this.config.check_interval);
    this.timer.unref();
  }

  /** One measurement: updates the state and says whether it changed. Never throws (it runs on a timer). */
  check(): CheckOutcome {
    try {
      let s = this.sample();
      let pressure = pressureOf(s.live, this.limits);
      if (shouldCollect(this.refusing, pressure)) {
        const gc = this.gc();
        if (gc) {
          gc();
          this.metrics.forcedGc.inc({ processor: this.id });
          s = this.sample();
          pressure = pressureOf(s.live, this.limits);
        } else if (!this.warnedNoGc) {
          this.warnedNoGc = true;
          this.logger.warn(
            { live_mib: mib(s.live), soft_limit_mib: mib(this.limits.softBytes), hard_limit_mib: mib(this.limits.hardBytes) },
            'memory usage is above the limit and node does not expose gc: run node with --expose-gc (NODE_OPTIONS=--expose-gc) to let the limiter force a collection (without one, garbage V8 has not collected can keep it refusing)',
          );
        }
      }
      this.last = s;
      this.metrics.usage.set({ processor: this.id, measure: 'live' }, s.live);
      this.metrics.usage.set({ processor: this.id, measure: 'rss' }, s.rss);
      this.metrics.usage.set({ processor: this.id, measure: 'heap_used' }, s.heapUsed);
      const outcome = nextState(this.refusing, pressure);
      this.refusing = outcome.refusing;
      this.metrics.refusing.set({ processor: this.id }, outcome.refusing ? 1 : 0);
      if (outcome.transition) this.logTransition(outcome.transition, s);
      return outcome;
    } catch (err) {
      // Keep the previous state: a failed measurement must not flip the limiter.
      this.logger.error({ err: (err as Error).message }, 'memory limiter could not measure memory');
      return { refusing: this.refusing };
    }
  }

  private logTransition(t: 'started_refusing' | 'recovered', s: MemorySample): void {
    const figures = {
      live_mib: mib(s.live),
      rss_mib: mib(s.rss),
      heap_used_mib: mib(s.heapUsed),
      soft_limit_mib: mib(this.limits.softBytes),
      hard_limit_mib: mib(this.limits.hardBytes),
    };
    if (t === 'started_refusing') {
      this.refusingSince = Date.now();
      this.refusedInEpisode = 0;
      this.logger.warn(figures, 'memory usage is above the soft limit: refusing data (clients retry) until it drops');
    } else {
      this.logger.info(
        { ...figures, refused_log_records: this.refusedInEpisode, refused_for_ms: Date.now() - this.refusingSince },
        'memory usage is back below the soft limit: accepting data again',
      );
    }
  }

  process(batch: LogBatch): LogBatch {
    if (!this.refusing) return batch;
    throw this.refuse(batch.length);
  }

  /**
   * Before a request is decoded: refuses it when already refusing, when it
   * alone would need more than the soft limit (non-retryable: resending it can
   * never succeed), or when it would take usage past the hard limit now
   * (retryable). The estimate comes from its size and record count.
   */
  admit(cost: RequestCost): void {
    if (this.refusing) throw this.refuse(cost.records);
    if (this.config.bytes_per_record === 0) return;
    const estimate = requestEstimate(cost, this.config.bytes_per_record);
    const verdict = admission(estimate, this.last.live, this.limits);
    if (verdict === 'now') return;
    this.metrics.refused.inc({ processor: this.id }, cost.records);
    const what = `a request of ${cost.records} log records (${cost.bytes} bytes) needs about ${mib(estimate)} MiB (processors.${this.id}.bytes_per_record: ${this.config.bytes_per_record} per record)`;
    if (verdict === 'never') {
      this.logger.warn({ records: cost.records, bytes: cost.bytes, estimate_mib: mib(estimate), soft_limit_mib: mib(this.limits.softBytes) }, 'refused a request larger than the memory limit allows (not retryable)');
      throw new Refusal('RESOURCE_EXHAUSTED', `memory limit: ${what}, more than the soft limit of ${mib(this.limits.softBytes)} MiB: send fewer records per request`);
    }
    throw Refusal.unavailable(
      `memory limit: ${what}; with ${mib(this.last.live)} MiB in use that passes the hard limit of ${mib(this.limits.hardBytes)} MiB; retry later`,
      retryAfterMs(this.config.check_interval),
    );
  }

  private refuse(records: number): Refusal {
    this.refusedInEpisode += records;
    this.metrics.refused.inc({ processor: this.id }, records);
    return Refusal.unavailable(
      `memory limit: usage ${mib(this.last.live)} MiB (live: V8 heap + buffers) is above the soft limit of ${mib(this.limits.softBytes)} MiB; retry later`,
      retryAfterMs(this.config.check_interval),
    );
  }

  async shutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Builds a limiter; `totalBytes` (the memory available, for limit_percentage) is measured unless given. */
export function createMemoryLimiter(
  id: string,
  config: MemoryLimiterConfig,
  deps: { logger: Logger; registry: Registry; totalBytes?: number } & MemoryLimiterOptions,
): MemoryLimiter {
  const total = deps.totalBytes ?? totalMemoryBytes();
  const limits = resolveLimits(config, total);
  if (limits.hardBytes > total) {
    deps.logger.warn(
      { hard_limit_mib: mib(limits.hardBytes), available_mib: mib(total) },
      'the memory limit is above the memory available to the process: the OOM killer may act before the limiter does',
    );
  }
  return new MemoryLimiter(id, config, limits, deps.logger, memoryLimiterMetrics(deps.registry), deps);
}

export const memoryLimiterProcessorFactory: ProcessorFactory<MemoryLimiterConfig> = {
  kind: 'processor',
  type: 'memory_limiter',
  mutatesData: false, // passes a batch on untouched, or refuses it whole
  readsRecords: false, // looks at sizes and counts, never at a record
  configSchema: memoryLimiterConfigSchema,
  create: (config, ctx) => createMemoryLimiter(ctx.id, config, { logger: ctx.logger, registry: ctx.telemetry.registry }),
};
