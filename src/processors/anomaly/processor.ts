// The `anomaly` processor: scores every record (anomaly.score, .detected,
// .reasons), appends `vigil.anomaly` alert records to the batch, counts alerts
// and tracked keys, and snapshots its baselines to state.directory
// periodically and at shutdown (restoring them at start).
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Processor, ProcessorFactory } from '../../pipeline/component.js';
import type { LogBatch } from '../../pipeline/record.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Telemetry } from '../../telemetry/metrics.js';
import { AlertRecords } from './alerts.js';
import { type AnomalyConfig, anomalyConfigSchema } from './config.js';
import { type AnomalyMetrics, anomalyMetrics } from './metrics.js';
import { type AlertEvent, type CompiledDetector, compileDetectors, EVENT_NAME, Scorer, type ScoreListener } from './scorer.js';

/** What the status page watches: notable scores (flags included) and alerts raised. */
export interface AnomalyListener {
  score?: ScoreListener;
  alert?: (e: AlertEvent) => void;
}
import { restoreSnapshot, writeSnapshot } from './snapshot.js';
import { CELL_COUNT, CELL_T_LAST } from './detectors/detector.js';
import { tryLock } from '../../util/lock-file.js';

/** Snapshot files taken by running processors, so that two instances never write the same one. */
const claimedSnapshots = new Set<string>();

export class AnomalyProcessor implements Processor {
  private scorer: Scorer;
  private readonly alerts: AlertRecords;
  private readonly metrics: AnomalyMetrics;
  private unregister: (() => void) | undefined;
  private readonly evictionsReported = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private snapshotPath: string | undefined;
  private readonly listeners = new Set<AnomalyListener>();

  constructor(
    private readonly id: string,
    private readonly config: AnomalyConfig,
    private readonly logger: Logger,
    telemetry: Telemetry,
  ) {
    this.scorer = this.freshScorer();
    this.alerts = new AlertRecords(id);
    this.metrics = anomalyMetrics(telemetry.registry);
  }

  private freshScorer(): Scorer {
    const scorer = new Scorer(compileDetectors(this.config), this.config.cooldown);
    this.wireListener(scorer);
    return scorer;
  }

  /** Observes scores and alerts (the status page); returns the function that stops it. */
  addListener(l: AnomalyListener): () => void {
    this.listeners.add(l);
    this.wireListener(this.scorer);
    return () => {
      this.listeners.delete(l);
      this.wireListener(this.scorer);
    };
  }

  private wireListener(scorer: Scorer): void {
    // No listener: the scorer skips the call entirely. (Called from the constructor before `listeners` exists.)
    const ls = this.listeners === undefined ? [] : [...this.listeners].filter((l) => l.score);
    scorer.listener = ls.length === 0 ? undefined : (d, k, s, r, t) => ls.forEach((l) => l.score!(d, k, s, r, t));
  }

  /** The expert threshold override, or null when the false-alert budget sets the thresholds. */
  get threshold(): number | null {
    return this.config.threshold ?? null;
  }

  /** False alerts per 1,000 keys per day, per detector (the processor-wide setting). */
  get alertBudget(): number {
    return this.config.alert_budget;
  }

  /** Keys per detector that are still learning (no alerts from them yet). */
  learningKeys(): { detector: string; learning: number; keys: number }[] {
    return this.scorer.detectors.map((c) => {
      let learning = 0;
      const f = c.table.f64;
      for (const [, slot] of c.table.entriesOldestFirst()) {
        const o = slot * c.table.f64Stride;
        if (c.detector.learning(c.table, slot, f[o + CELL_COUNT], f[o + CELL_T_LAST])) learning++;
      }
      return { detector: c.name, learning, keys: c.table.size };
    });
  }

  get detectors(): readonly CompiledDetector[] {
    return this.scorer.detectors;
  }

  async start(): Promise<void> {
    this.unregister = this.metrics.register({
      trackedKeys: () => this.scorer.detectors.map((c) => [c.name, c.table.size] as [string, number]),
    });
    const dir = this.config.state.directory;
    if (dir === undefined) {
      this.logStartingCold('no state.directory: baselines are kept in memory only');
      return;
    }
    const base = resolve(dir, this.id.replace(/[^A-Za-z0-9_.-]/g, '_'));
    let path = `${base}.snapshot`;
    for (let i = 2; claimedSnapshots.has(path); i++) path = `${base}-${i}.snapshot`;
    if (path !== `${base}.snapshot`) this.logger.warn({ path }, 'another anomaly processor uses the same snapshot file: this one writes its own');
    claimedSnapshots.add(path);
    await this.restore(path);
    // Only the process holding the lock writes the snapshot: a `vigil replay` next to a running
    // sidecar (or a second sidecar) may read the baselines but never overwrites them.
    if (!(await this.lock(`${path}.lock`))) {
      claimedSnapshots.delete(path);
      return;
    }
    this.snapshotPath = path;
    if (this.config.state.interval > 0) {
      this.timer = setInterval(() => void this.snapshot('periodic'), this.config.state.interval);
      this.timer.unref();
    }
  }

  private releaseLock: (() => Promise<void>) | undefined;

  /** Takes the snapshot lock (src/util/lock-file.ts); a lock left by a process that is gone is taken over. */
  private async lock(lockPath: string): Promise<boolean> {
    const r = await tryLock(lockPath, 0o600);
    if (r.acquired) {
      this.releaseLock = r.release;
      return true;
    }
    this.logger.warn({ lock: lockPath, pid: r.owner }, 'anomaly state is owned by another running Vigil: this one keeps its baselines in memory only (no snapshots)');
    return false;
  }

  private async restore(path: string): Promise<void> {
    let buf: Buffer;
    try {
      buf = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.logStartingCold(`no anomaly snapshot yet at ${path}`);
        return;
      }
      this.logger.warn({ path, err: (err as Error).message }, 'cannot read the anomaly snapshot: ignored, baselines start fresh');
      return;
    }
    try {
      const r = restoreSnapshot(buf, this.scorer.detectors);
      this.scorer.lastTime = Math.max(this.scorer.lastTime, r.lastEventTime);
      this.logger.info({ path, restored: r.restored, skipped: r.skipped }, 'anomaly baselines restored from snapshot');
    } catch (err) {
      this.scorer = this.freshScorer();
      this.logger.warn({ path, err: (err as Error).message }, 'anomaly snapshot is corrupt or incompatible: ignored, baselines start fresh');
    }
  }

  private logStartingCold(why: string): void {
    this.logger.info(
      { detectors: this.scorer.detectors.length, alert_budget: this.config.alert_budget },
      `${why}: every key starts learning (records carry anomaly.learning=true until its baselines can alert); start warm with \`vigil replay\` of recent logs into the snapshot`,
    );
  }

  process(batch: LogBatch): LogBatch {
    const events: AlertEvent[] = [];
    const n = batch.length;
    for (let i = 0; i < n; i++) {
      const rec = batch[i];
      if (rec.log.eventName === EVENT_NAME) continue; // our own alerts (e.g. replayed from the archive)
      this.scorer.score(rec, events);
    }
    this.scorer.endBatch();
    for (const e of events) {
      this.metrics.anomalies.inc({ detector: e.detector });
      for (const l of this.listeners) l.alert?.(e);
      batch.push(this.alerts.build(e, this.config.cooldown));
    }
    for (const c of this.scorer.detectors) {
      const before = this.evictionsReported.get(c.name) ?? 0;
      if (c.table.evictions !== before) {
        this.metrics.evictedKeys.inc({ detector: c.name }, c.table.evictions - before);
        this.evictionsReported.set(c.name, c.table.evictions);
      }
    }
    return batch;
  }

  /** Writes a snapshot now (each detector copied consistently, then streamed); failures are logged, never thrown. */
  async snapshot(reason: 'periodic' | 'shutdown' | 'manual'): Promise<void> {
    if (!this.snapshotPath) return;
    while (this.writing) await this.writing;
    const path = this.snapshotPath;
    const started = performance.now();
    this.writing = writeSnapshot(path, this.scorer.detectors, this.scorer.lastTime)
      .then((bytes) => {
        this.logger.debug({ path, reason, bytes, ms: Math.round(performance.now() - started) }, 'anomaly snapshot written');
      })
      .catch((err: Error) => {
        this.logger.error({ path, reason, err: err.message }, 'cannot write the anomaly snapshot (baselines will be relearned after a restart)');
      })
      .finally(() => {
        this.writing = undefined;
      });
    await this.writing;
  }

  async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.snapshot('shutdown');
    if (this.snapshotPath) claimedSnapshots.delete(this.snapshotPath);
    this.snapshotPath = undefined;
    await this.releaseLock?.().catch(() => undefined);
    this.releaseLock = undefined;
    this.unregister?.();
  }
}

export const anomalyProcessorFactory: ProcessorFactory<AnomalyConfig> = {
  kind: 'processor',
  type: 'anomaly',
  mutatesData: true, // adds anomaly.* attributes and appends alert records
  configSchema: anomalyConfigSchema,
  create: (config, ctx) => new AnomalyProcessor(ctx.id, config, ctx.logger, ctx.telemetry),
};
