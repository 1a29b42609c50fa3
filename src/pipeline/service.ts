// The service: builds every component from a validated config, wires
// receivers → pipelines (processors in order) → fan-out to exporters, and runs
// the lifecycle in the Collector's order (start: extensions, exporters,
// processors, receivers; shutdown in reverse).
import type { ComponentConfig, PipelineConfig, VigilConfig } from '../config/load.js';
import type { Logger } from '../telemetry/logger.js';
import type { Telemetry } from '../telemetry/metrics.js';
import type { Consumer, CreateContext, Exporter, Extension, Host, Lifecycle, Processor, Receiver, RequestCost, ServiceState } from './component.js';
import { Refusal, asRefusal } from './errors.js';
import type { LogBatch } from './record.js';
import { cloneBatch } from './clone.js';

export type { ServiceState };

/** A built pipeline: its processors in order, then every exporter gets the result. */
export class Pipeline implements Consumer {
  constructor(
    readonly id: string,
    private readonly processors: { id: string; processor: Processor }[],
    private readonly exporters: { id: string; exporter: Exporter }[],
    private readonly telemetry: Telemetry,
  ) {}

  /** Runs the processors only (what `vigil replay` uses). */
  async process(batch: LogBatch): Promise<LogBatch> {
    let b = batch;
    for (const { id, processor } of this.processors) {
      this.telemetry.processorIncoming.inc({ processor: id }, b.length);
      b = await processor.process(b);
      this.telemetry.processorOutgoing.inc({ processor: id }, b.length);
    }
    return b;
  }

  /** Asks every processor whether a request of this cost may come in (before it is decoded). */
  admit(cost: RequestCost): void {
    for (const { processor } of this.processors) processor.admit?.(cost);
  }

  async consume(batch: LogBatch): Promise<void> {
    const b = await this.process(batch);
    if (b.length === 0) return;
    await fanOut(this.exporters.map((e) => e.exporter), b);
  }
}

/**
 * Gives the batch to every consumer; succeeds only if all of them durably took
 * it. On a partial failure the client retries the whole batch: consumers that
 * had already taken it see it twice (at-least-once, deduplicated downstream by
 * audit.record_id).
 */
export async function fanOut(consumers: readonly Consumer[], batch: LogBatch): Promise<void> {
  if (consumers.length === 1) return consumers[0].consume(batch);
  const results = await Promise.allSettled(consumers.map((c) => c.consume(batch)));
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => asRefusal(r.reason));
  if (failures.length === 0) return;
  // A non-retryable refusal wins: retrying will not help. Otherwise keep the longest retry hint.
  const permanent = failures.find((f) => !f.retryable);
  if (permanent) throw permanent;
  throw failures.reduce((a, b) => ((b.retryAfterMs ?? 0) > (a.retryAfterMs ?? 0) ? b : a));
}

/** Feeds several pipelines from one receiver; each pipeline gets its own copy, since processors mutate records. */
class MultiPipelineConsumer implements Consumer {
  constructor(private readonly pipelines: Pipeline[]) {}
  admit(cost: RequestCost): void {
    for (const p of this.pipelines) p.admit(cost);
  }
  consume(batch: LogBatch): Promise<void> {
    return fanOut(
      this.pipelines.map((p, i) => ({ consume: (b: LogBatch) => p.consume(i === 0 ? b : cloneBatch(b)) })),
      batch,
    );
  }
}

interface Built<T> {
  id: string;
  instance: T;
}

export class Service implements Host {
  state: ServiceState = 'starting';
  readonly extensions: Built<Extension>[] = [];
  readonly exporters: Built<Exporter>[] = [];
  readonly processors: Built<Processor>[] = [];
  readonly receivers: Built<Receiver>[] = [];
  readonly pipelines: Pipeline[] = [];
  private readonly stateListeners: ((s: ServiceState) => void)[] = [];

  private constructor(
    readonly config: VigilConfig,
    readonly logger: Logger,
    readonly telemetry: Telemetry,
  ) {}

  /** Builds every component the pipelines (and service.extensions) use; components defined but unused are not built, as in the Collector. */
  static async build(
    config: VigilConfig,
    logger: Logger,
    telemetry: Telemetry,
    opts: { withReceivers?: boolean; withExporters?: boolean } = {},
  ): Promise<Service> {
    const svc = new Service(config, logger, telemetry);
    const withReceivers = opts.withReceivers ?? true;
    const withExporters = opts.withExporters ?? true;
    const ctx = (c: ComponentConfig, extra: Partial<CreateContext> = {}): CreateContext => ({
      id: c.id,
      logger: logger.child({ component: c.id, kind: c.factory.kind }),
      telemetry,
      ...extra,
    });

    for (const id of config.service.extensions) {
      const c = config.extensions.get(id)!;
      svc.extensions.push({ id, instance: (await c.factory.create(c.config, ctx(c))) as Extension });
    }
    const exporterById = new Map<string, Exporter>();
    if (withExporters) {
      for (const id of unique(config.service.pipelines.flatMap((p) => p.exporters))) {
        const c = config.exporters.get(id)!;
        const instance = (await c.factory.create(c.config, ctx(c))) as Exporter;
        exporterById.set(id, instance);
        svc.exporters.push({ id, instance });
      }
    }
    const pipelinesByReceiver = new Map<string, Pipeline[]>();
    for (const p of config.service.pipelines) {
      const pipeline = await svc.buildPipeline(p, exporterById, ctx);
      svc.pipelines.push(pipeline);
      for (const r of p.receivers) pipelinesByReceiver.set(r, [...(pipelinesByReceiver.get(r) ?? []), pipeline]);
    }
    if (withReceivers) {
      for (const [id, pipelines] of pipelinesByReceiver) {
        const c = config.receivers.get(id)!;
        const next: Consumer = pipelines.length === 1 ? pipelines[0] : new MultiPipelineConsumer(pipelines);
        svc.receivers.push({ id, instance: (await c.factory.create(c.config, ctx(c, { next }))) as Receiver });
      }
    }
    return svc;
  }

  private async buildPipeline(
    p: PipelineConfig,
    exporters: Map<string, Exporter>,
    ctx: (c: ComponentConfig) => CreateContext,
  ): Promise<Pipeline> {
    // Processors are per pipeline (as in the Collector): state such as anomaly
    // baselines belongs to the pipeline that feeds it.
    const processors: { id: string; processor: Processor }[] = [];
    for (const id of p.processors) {
      const c = this.config.processors.get(id)!;
      const processor = (await c.factory.create(c.config, ctx(c))) as Processor;
      processors.push({ id, processor });
      this.processors.push({ id: `${p.id}/${id}`, instance: processor });
    }
    const exps = p.exporters.filter((id) => exporters.has(id)).map((id) => ({ id, exporter: exporters.get(id)! }));
    return new Pipeline(p.id, processors, exps, this.telemetry);
  }

  getExtension<T extends Extension>(id: string): T | undefined {
    return this.extensions.find((e) => e.id === id)?.instance as T | undefined;
  }

  onStateChange(listener: (s: ServiceState) => void): void {
    this.stateListeners.push(listener);
  }

  private setState(s: ServiceState): void {
    this.state = s;
    for (const l of this.stateListeners) l(s);
  }

  async start(): Promise<void> {
    const groups: Built<Lifecycle>[][] = [this.extensions, this.exporters, this.processors, this.receivers];
    const started: Built<Lifecycle>[] = [];
    try {
      for (const group of groups) {
        for (const c of group) {
          await c.instance.start?.(this);
          started.push(c);
        }
      }
    } catch (err) {
      // Leave nothing half-running: stop what did start, newest first.
      const ac = new AbortController();
      for (const c of started.reverse()) await c.instance.shutdown?.(ac.signal).catch(() => undefined);
      throw err;
    }
    this.setState('ready');
  }

  /** Stops receivers first (no new data), then drains processors, flushes exporters, stops extensions. */
  async shutdown(timeoutMs = this.config.service.shutdown_timeout): Promise<boolean> {
    if (this.state === 'stopping' || this.state === 'stopped') return true;
    this.setState('stopping');
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error('shutdown deadline reached')), timeoutMs);
    timer.unref();
    let clean = true;
    for (const group of [this.receivers, this.processors, this.exporters, this.extensions]) {
      for (const c of [...group].reverse()) {
        try {
          await c.instance.shutdown?.(ac.signal);
        } catch (err) {
          clean = false;
          this.logger.error({ component: c.id, err: (err as Error).message }, 'component failed to shut down cleanly');
        }
      }
    }
    clearTimeout(timer);
    this.setState('stopped');
    return clean && !ac.signal.aborted;
  }

  /** Refusal used by receivers while the service is not ready. */
  static notReady(state: ServiceState): Refusal {
    return Refusal.unavailable(state === 'starting' ? 'vigil is starting' : 'vigil is shutting down', 1000);
  }
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
