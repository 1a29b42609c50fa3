// The service: builds every component from a validated config, wires
// receivers → pipelines (processors in order) → fan-out to exporters, and runs
// the lifecycle in the Collector's order (start: extensions, exporters,
// processors, receivers; shutdown in reverse). Who may change a record when is
// told in docs/architecture.md.
import type { ComponentConfig, PipelineConfig, VigilConfig } from '../config/load.js';
import type { Logger } from '../telemetry/logger.js';
import type { Telemetry } from '../telemetry/metrics.js';
import { mutatesData, readsRecords, type Consumer, type CreateContext, type Exporter, type Extension, type Host, type Lifecycle, type Processor, type Receiver, type RequestCost, type ServiceState } from './component.js';
import { Refusal } from './errors.js';
import { fanOut, fanOutTo, takesOriginal, type Target } from './fan-out.js';
import type { LogBatch } from './record.js';

export type { ServiceState };
export { fanOut };

/** A built pipeline: its processors in order, then every exporter gets the result. */
export class Pipeline implements Consumer {
  /** Whether a batch given to this pipeline may come out changed: some processor or exporter of it mutates. */
  readonly mutatesData: boolean;
  /** Whether some processor of it reads every record (Consumer.readsRecords). */
  readonly readsRecords: boolean;

  constructor(
    readonly id: string,
    private readonly processors: { id: string; processor: Processor; mutatesData: boolean; readsRecords: boolean }[],
    private readonly exporters: Target[],
    private readonly telemetry: Telemetry,
    private readonly checkReadOnly = false,
  ) {
    this.mutatesData = processors.some((p) => p.mutatesData) || exporters.some((e) => e.mutatesData);
    this.readsRecords = processors.some((p) => p.readsRecords);
  }

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

  /** Not async: once the exporters have started their writes, nothing here holds the batch (see fanOutTo). */
  consume(batch: LogBatch): Promise<void> {
    return this.process(batch).then((b) => (b.length === 0 ? undefined : fanOutTo(this.exporters, b, this.checkReadOnly)));
  }
}

/**
 * Feeds several pipelines from one receiver: pipelines that only read share the
 * batch, each one that mutates gets its own copy (made before any runs). The
 * receiver acknowledges once every pipeline's exporters took it.
 */
class MultiPipelineConsumer implements Consumer {
  private readonly targets: Target[];
  /**
   * Whether a pipeline given the original batch reads every record: the
   * receiver decodes at once for it. A copy is decoded again from the
   * original's bytes (at once for a pipeline that reads every record), so an
   * original only a copy is made from is left undecoded.
   */
  readonly readsRecords: boolean;
  constructor(
    private readonly pipelines: Pipeline[],
    private readonly checkReadOnly: boolean,
  ) {
    this.targets = pipelines.map((p) => ({ id: `pipeline ${p.id}`, consumer: p, mutatesData: p.mutatesData, readsRecords: p.readsRecords }));
    this.readsRecords = pipelines.some((p, i) => p.readsRecords && takesOriginal(this.targets, i));
  }
  admit(cost: RequestCost): void {
    for (const p of this.pipelines) p.admit(cost);
  }
  consume(batch: LogBatch): Promise<void> {
    return fanOutTo(this.targets, batch, this.checkReadOnly);
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
  /** See Service.build's `checkReadOnly`. */
  private checkReadOnly = false;
  /** Every exporter as a fan-out target, by id (pipelines and CreateContext.publish hand batches to them). */
  private readonly exporterTargets = new Map<string, Target>();
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
    opts: {
      withReceivers?: boolean;
      withExporters?: boolean;
      /** Refuse (INTERNAL) a batch that a consumer declared read-only changed; for tests (or VIGIL_CHECK_READONLY=1): it encodes every shared batch twice. */
      checkReadOnly?: boolean;
    } = {},
  ): Promise<Service> {
    const svc = new Service(config, logger, telemetry);
    const withReceivers = opts.withReceivers ?? true;
    const withExporters = opts.withExporters ?? true;
    svc.checkReadOnly = opts.checkReadOnly ?? process.env.VIGIL_CHECK_READONLY === '1';
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
    const exporterById = svc.exporterTargets;
    if (withExporters) {
      for (const id of unique(config.service.pipelines.flatMap((p) => p.exporters))) {
        const c = config.exporters.get(id)!;
        const instance = (await c.factory.create(c.config, ctx(c, { publish: (batch) => svc.publishFrom(id, batch) }))) as Exporter;
        exporterById.set(id, { id: `exporter ${id}`, consumer: instance, mutatesData: mutatesData(c.factory) });
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
        const next: Consumer = pipelines.length === 1 ? pipelines[0] : new MultiPipelineConsumer(pipelines, svc.checkReadOnly);
        svc.receivers.push({ id, instance: (await c.factory.create(c.config, ctx(c, { next }))) as Receiver });
      }
    }
    return svc;
  }

  private async buildPipeline(
    p: PipelineConfig,
    exporters: Map<string, Target>,
    ctx: (c: ComponentConfig) => CreateContext,
  ): Promise<Pipeline> {
    // Processors are per pipeline (as in the Collector): state such as anomaly
    // baselines belongs to the pipeline that feeds it.
    const processors: { id: string; processor: Processor; mutatesData: boolean; readsRecords: boolean }[] = [];
    for (const id of p.processors) {
      const c = this.config.processors.get(id)!;
      const processor = (await c.factory.create(c.config, ctx(c))) as Processor;
      processors.push({ id, processor, mutatesData: mutatesData(c.factory), readsRecords: readsRecords(c.factory) });
      this.processors.push({ id: `${p.id}/${id}`, instance: processor });
    }
    const exps = p.exporters.filter((id) => exporters.has(id)).map((id) => exporters.get(id)!);
    return new Pipeline(p.id, processors, exps, this.telemetry, this.checkReadOnly);
  }

  /** Gives `batch` to the exporters that share a pipeline with exporter `id` (each once), not to `id` itself. */
  private publishFrom(id: string, batch: LogBatch): Promise<void> {
    const siblings = unique(this.config.service.pipelines.filter((p) => p.exporters.includes(id)).flatMap((p) => p.exporters)).filter((e) => e !== id);
    const targets = siblings.map((e) => this.exporterTargets.get(e)).filter((t): t is Target => t !== undefined);
    if (targets.length === 0 || batch.length === 0) return Promise.resolve();
    return fanOutTo(targets, batch, this.checkReadOnly);
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
    const groups: Built<Lifecycle>[][] = [this.extensions, publishersLast(this.exporters), this.processors, this.receivers];
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
    for (const group of [this.receivers, this.processors, publishersLast(this.exporters), this.extensions]) {
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

/** Exporters that publish to their siblings come after them: started last, and (the list is stopped in reverse) stopped first. */
function publishersLast(exporters: Built<Exporter>[]): Built<Exporter>[] {
  return [...exporters.filter((e) => !e.instance.publishes), ...exporters.filter((e) => e.instance.publishes)];
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
