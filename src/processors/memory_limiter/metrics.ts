// The memory limiter's metrics. Several limiter instances (one per pipeline, as
// processors are per pipeline) share one registry: each metric is registered
// once and found again by name.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface MemoryLimiterMetrics {
  refused: Counter<'processor'>;
  usage: Gauge<'processor' | 'measure'>;
  limit: Gauge<'processor' | 'limit'>;
  refusing: Gauge<'processor'>;
  forcedGc: Counter<'processor'>;
}

function once<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

export function memoryLimiterMetrics(registry: Registry): MemoryLimiterMetrics {
  const registers = [registry];
  return {
    refused: once(registry, 'vigil_processor_refused_log_records_total', () =>
      new Counter({
        name: 'vigil_processor_refused_log_records_total',
        help: 'Log records the processor refused (memory limit): the client was told to retry.',
        labelNames: ['processor'],
        registers,
      }),
    ),
    usage: once(registry, 'vigil_memory_limiter_usage_bytes', () =>
      new Gauge({
        name: 'vigil_memory_limiter_usage_bytes',
        help: 'Process memory at the memory limiter\'s last check (measure="live", V8 heap in use plus external buffers, is what the limits apply to).',
        labelNames: ['processor', 'measure'],
        registers,
      }),
    ),
    limit: once(registry, 'vigil_memory_limiter_limit_bytes', () =>
      new Gauge({
        name: 'vigil_memory_limiter_limit_bytes',
        help: 'The memory limiter\'s limits: above "soft" it refuses data, above "hard" it also forces a garbage collection.',
        labelNames: ['processor', 'limit'],
        registers,
      }),
    ),
    refusing: once(registry, 'vigil_memory_limiter_refusing', () =>
      new Gauge({
        name: 'vigil_memory_limiter_refusing',
        help: '1 while the memory limiter refuses data (usage above the soft limit), else 0.',
        labelNames: ['processor'],
        registers,
      }),
    ),
    forcedGc: once(registry, 'vigil_memory_limiter_forced_gc_total', () =>
      new Counter({
        name: 'vigil_memory_limiter_forced_gc_total',
        help: 'Garbage collections the memory limiter forced above the hard limit (only when node runs with --expose-gc).',
        labelNames: ['processor'],
        registers,
      }),
    ),
  };
}
