// The processor's own metrics, on the service's registry. Several anomaly
// processors (or one per pipeline) share the metrics: values are summed per
// detector name.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface KeyCounts {
  /** Tracked keys per detector name, right now. */
  trackedKeys(): Iterable<[string, number]>;
}

export interface AnomalyMetrics {
  anomalies: Counter<'detector'>;
  evictedKeys: Counter<'detector'>;
  register(source: KeyCounts): () => void;
}

const byRegistry = new WeakMap<Registry, AnomalyMetrics>();

export function anomalyMetrics(registry: Registry): AnomalyMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const sources = new Set<KeyCounts>();
  const anomalies = new Counter({
    name: 'vigil_anomalies_total',
    help: 'Anomaly alerts raised (one per detector and key per cooldown).',
    labelNames: ['detector'],
    registers: [registry],
  });
  const evictedKeys = new Counter({
    name: 'vigil_anomaly_evicted_keys_total',
    help: 'Keys dropped from a detector to stay within max_keys (least recently used first); they start over if seen again.',
    labelNames: ['detector'],
    registers: [registry],
  });
  new Gauge({
    name: 'vigil_anomaly_tracked_keys',
    help: 'Keys a detector currently keeps a baseline for (at most its max_keys).',
    labelNames: ['detector'],
    registers: [registry],
    collect() {
      this.reset();
      const sums = new Map<string, number>();
      for (const s of sources) for (const [d, n] of s.trackedKeys()) sums.set(d, (sums.get(d) ?? 0) + n);
      for (const [d, n] of sums) this.set({ detector: d }, n);
    },
  });
  const m: AnomalyMetrics = {
    anomalies,
    evictedKeys,
    register(source) {
      sources.add(source);
      return () => sources.delete(source);
    },
  };
  byRegistry.set(registry, m);
  return m;
}
