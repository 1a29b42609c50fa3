// The `alertmanager` exporter: sends the anomaly processor's alert records
// (event name `vigil.anomaly`) to Prometheus Alertmanager through its v2 API
// (POST /api/v2/alerts). Other records in the batch are ignored.
//
// Alerts are secondary to the records themselves (which the archive keeps):
// consume() only queues them, so an Alertmanager outage never holds up the
// pipeline's acknowledgements. A background sender posts them in batches and
// retries transient failures (network errors, 5xx, 429) with exponential
// backoff up to max_elapsed_time; the queue is bounded (the oldest alerts are
// dropped when it overflows, and counted as failed). At shutdown it keeps
// trying until the service's shutdown deadline.
import { z } from 'zod';
import { duration } from '../../config/units.js';
import type { Exporter, ExporterFactory } from '../../pipeline/component.js';
import { eventTimeMillis, findAttribute, getAttribute, type ReadonlyBatch, type ReadonlyRecord, scalarOf } from '../../pipeline/record.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Telemetry } from '../../telemetry/metrics.js';
import { redactUrl } from '../../security/redact.js';

export const ANOMALY_EVENT = 'vigil.anomaly';

export const alertmanagerConfigSchema = z
  .object({
    endpoint: z
      .string()
      .url('set the Alertmanager base URL, e.g. http://127.0.0.1:9093')
      .refine((u) => /^https?:\/\//.test(u), 'the endpoint must be an http:// or https:// URL'),
    headers: z.record(z.string(), z.string()).default({}),
    timeout: duration().default(5_000),
    /** How long an alert stands before Alertmanager resolves it; default: the alert's cooldown, else 1h. */
    resolve_after: duration().optional(),
    generator_url: z.string().url().optional(),
    /** Extra labels on every alert (e.g. cluster, environment). */
    labels: z
      .record(z.string(), z.string())
      .superRefine((labels, ctx) => {
        for (const name of Object.keys(labels)) {
          if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: `label names are [a-zA-Z_][a-zA-Z0-9_]*, e.g. ${name.replace(/[^a-zA-Z0-9_]/g, '_')}` });
        }
      })
      .default({}),
    sending_queue: z
      .object({ queue_size: z.number().int().positive().default(1000) })
      .strict()
      .default({ queue_size: 1000 }),
    retry_on_failure: z
      .object({
        enabled: z.boolean().default(true),
        initial_interval: duration().default(1_000),
        max_interval: duration().default(30_000),
        max_elapsed_time: duration().default(300_000),
      })
      .strict()
      .default({ enabled: true, initial_interval: 1_000, max_interval: 30_000, max_elapsed_time: 300_000 }),
    max_batch: z.number().int().positive().default(100),
  })
  .strict();
export type AlertmanagerConfig = z.infer<typeof alertmanagerConfigSchema>;

/** One alert in the Alertmanager v2 API's PostableAlert shape. */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

function attr(rec: ReadonlyRecord, key: string): string | undefined {
  const v = getAttribute(rec.log.attributes, key);
  return v === undefined ? undefined : String(v);
}

/** The Alertmanager alert for an anomaly alert record (pure). */
export function toPostableAlert(rec: ReadonlyRecord, cfg: Pick<AlertmanagerConfig, 'resolve_after' | 'generator_url' | 'labels'>): PostableAlert {
  const start = eventTimeMillis(rec.log);
  const cooldown = Number(attr(rec, 'anomaly.cooldown_seconds') ?? NaN) * 1000;
  const standFor = cfg.resolve_after ?? (Number.isFinite(cooldown) && cooldown > 0 ? cooldown : 3_600_000);
  const reasons = (findAttribute(rec.log.attributes, 'anomaly.reasons')?.arrayValue?.values ?? []).map((v) => String(scalarOf(v) ?? ''));
  const detector = attr(rec, 'anomaly.detector') ?? 'unknown';
  const labels: Record<string, string> = {
    ...cfg.labels,
    alertname: 'VigilAnomaly',
    detector,
    key: attr(rec, 'anomaly.key') ?? '',
    severity: attr(rec, 'anomaly.severity') ?? 'warning',
  };
  const annotations: Record<string, string> = {
    summary: reasons[0] ?? `anomaly detected by ${detector}`,
    description: reasons.join('\n'),
    score: attr(rec, 'anomaly.score') ?? '',
  };
  const source = attr(rec, 'anomaly.source_record_id');
  if (source) annotations.source_record_id = source;
  const id = attr(rec, 'audit.record_id');
  if (id) annotations.alert_record_id = id;
  const alert: PostableAlert = {
    labels,
    annotations,
    startsAt: new Date(start).toISOString(),
    endsAt: new Date(start + standFor).toISOString(),
  };
  if (cfg.generator_url) alert.generatorURL = cfg.generator_url;
  return alert;
}

class PermanentError extends Error {}

export class AlertmanagerExporter implements Exporter {
  private readonly queue: PostableAlert[] = [];
  private readonly url: string;
  /** The URL as it may appear in logs and errors: credentials and query values masked. */
  private readonly shownUrl: string;
  private sending: Promise<void> | undefined;
  /** Aborted when the service's shutdown deadline passes: stops waiting between retries. */
  private readonly stopping = new AbortController();
  private readonly idle = new Set<() => void>();

  constructor(
    private readonly id: string,
    private readonly config: AlertmanagerConfig,
    private readonly logger: Logger,
    private readonly telemetry: Telemetry,
  ) {
    this.url = `${config.endpoint.replace(/\/+$/, '')}/api/v2/alerts`;
    this.shownUrl = redactUrl(new URL(this.url));
    telemetry.exporterQueueCapacity.set({ exporter: id }, config.sending_queue.queue_size);
  }

  describe(): string[] {
    return [`alertmanager ${this.shownUrl}`];
  }

  async consume(batch: ReadonlyBatch): Promise<void> {
    let added = 0;
    for (const rec of batch) {
      if (rec.log.eventName !== ANOMALY_EVENT) continue;
      this.queue.push(toPostableAlert(rec, this.config));
      added++;
    }
    if (added === 0) return;
    const overflow = this.queue.length - this.config.sending_queue.queue_size;
    if (overflow > 0) {
      this.queue.splice(0, overflow);
      this.telemetry.exporterEnqueueFailed.inc({ exporter: this.id }, overflow);
      this.logger.warn({ dropped: overflow }, 'alertmanager queue full: dropped the oldest alerts');
    }
    this.telemetry.exporterQueueSize.set({ exporter: this.id }, this.queue.length);
    this.sending ??= this.sendLoop().finally(() => {
      this.sending = undefined;
      for (const f of this.idle) f();
      this.idle.clear();
    });
  }

  /** Resolves once everything queued so far has been sent or given up on (for tests and shutdown). */
  whenIdle(): Promise<void> {
    if (!this.sending) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  private async sendLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const alerts = this.queue.splice(0, this.config.max_batch);
      this.telemetry.exporterQueueSize.set({ exporter: this.id }, this.queue.length);
      try {
        await this.postWithRetry(alerts);
        this.telemetry.exporterSent.inc({ exporter: this.id }, alerts.length);
      } catch (err) {
        this.telemetry.exporterSendFailed.inc({ exporter: this.id }, alerts.length);
        this.logger.error({ alerts: alerts.length, err: (err as Error).message, endpoint: this.shownUrl }, 'could not deliver anomaly alerts to Alertmanager');
      }
    }
  }

  private async postWithRetry(alerts: PostableAlert[]): Promise<void> {
    const r = this.config.retry_on_failure;
    const started = Date.now();
    let wait = r.initial_interval;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.post(alerts);
        return;
      } catch (err) {
        const elapsed = Date.now() - started;
        const giveUp = err instanceof PermanentError || !r.enabled || elapsed + wait > r.max_elapsed_time || this.stopping.signal.aborted;
        if (giveUp) throw err;
        this.logger.warn({ attempt, err: (err as Error).message, retryInMs: wait }, 'Alertmanager did not take the alerts: retrying');
        await this.sleep(wait);
        wait = Math.min(wait * 2, r.max_interval);
      }
    }
  }

  private async post(alerts: PostableAlert[]): Promise<void> {
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.config.headers },
        body: JSON.stringify(alerts),
        signal: AbortSignal.timeout(this.config.timeout),
      });
    } catch (err) {
      throw new Error(`cannot reach ${this.shownUrl}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
    }
    const text = await res.text().catch(() => '');
    if (res.ok) return;
    const message = `Alertmanager answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
    // 4xx other than 408/429 mean the request itself is wrong: retrying will not help.
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new PermanentError(message);
    throw new Error(message);
  }

  private sleep(ms: number): Promise<void> {
    const signal = this.stopping.signal;
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      t.unref();
      function done() {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }

  async shutdown(signal: AbortSignal): Promise<void> {
    if (signal.aborted) this.stopping.abort();
    else signal.addEventListener('abort', () => this.stopping.abort(), { once: true });
    if (!this.sending) return;
    await Promise.race([this.whenIdle(), new Promise<void>((resolve) => this.stopping.signal.addEventListener('abort', () => resolve(), { once: true }))]);
    if (this.queue.length > 0) {
      this.telemetry.exporterSendFailed.inc({ exporter: this.id }, this.queue.length);
      this.logger.error({ alerts: this.queue.length }, 'shutting down with anomaly alerts not delivered to Alertmanager');
      this.queue.length = 0;
    }
  }
}

export const alertmanagerExporterFactory: ExporterFactory<AlertmanagerConfig> = {
  kind: 'exporter',
  type: 'alertmanager',
  mutatesData: false,
  configSchema: alertmanagerConfigSchema,
  create: (config, ctx) => new AlertmanagerExporter(ctx.id, config, ctx.logger, ctx.telemetry),
};
