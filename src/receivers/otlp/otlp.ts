// The `otlp` receiver: OTLP/gRPC and/or OTLP/HTTP in front of the pipeline.
// An Export call is answered only once the pipeline acknowledged its records
// (every exporter durably took them), so a success means stored.
import { Gauge } from 'prom-client';
import type { Consumer, Host, Receiver, ReceiverFactory } from '../../pipeline/component.js';
import { type ServerAuthenticator, resolveAuthenticator } from '../../security/auth.js';
import { warnIfExposed } from '../../security/loopback.js';
import { SecurityMetrics } from '../../security/metrics.js';
import { ServerTls } from '../../security/tls.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Telemetry } from '../../telemetry/metrics.js';
import { type GrpcConfig, type HttpConfig, type OtlpReceiverConfig, otlpReceiverConfigSchema } from './config.js';
import { InflightBudget } from './budget.js';
import { ReclaimAfterBurst } from './reclaim.js';
import { ExportHandler } from './export.js';
import { OtlpGrpcServer } from './grpc.js';
import { OtlpHttpServer } from './http.js';

/** vigil_receiver_inflight_bytes, shared by every receiver of a registry. */
function inflightGauge(telemetry: Telemetry): Gauge<'receiver'> {
  const reg = telemetry.registry;
  return (
    (reg.getSingleMetric('vigil_receiver_inflight_bytes') as Gauge<'receiver'> | undefined) ??
    new Gauge<'receiver'>({
      name: 'vigil_receiver_inflight_bytes',
      help: 'Bytes of requests still arriving (gRPC messages, HTTP bodies not yet complete), against max_inflight_bytes.',
      labelNames: ['receiver'],
      registers: [reg],
    })
  );
}

interface Guard {
  tls: ServerTls | undefined;
  auth: ServerAuthenticator | undefined;
}

export class OtlpReceiver implements Receiver {
  private readonly handler: ExportHandler;
  private readonly grpc: OtlpGrpcServer | undefined;
  private readonly http: OtlpHttpServer | undefined;
  private readonly metrics: SecurityMetrics;
  private readonly guards: { grpc?: Guard; http?: Guard } = {};
  /** Bytes of requests still arriving, shared by both protocols. */
  readonly budget: InflightBudget;

  constructor(
    private readonly config: OtlpReceiverConfig,
    next: Consumer,
    private readonly id: string,
    telemetry: Telemetry,
    private readonly logger: Logger,
  ) {
    this.handler = new ExportHandler(id, next, telemetry, logger);
    this.metrics = new SecurityMetrics(telemetry);
    const { grpc, http } = config.protocols;
    const gauge = inflightGauge(telemetry);
    gauge.set({ receiver: id }, 0);
    const reclaim = new ReclaimAfterBurst(config.max_inflight_bytes, {
      onCollect: (peak) => logger.info({ peak_inflight_mib: Math.round(peak / 1048576) }, 'partly received requests drained after a burst: forced a garbage collection to free their buffers'),
    });
    this.budget = new InflightBudget(config.max_inflight_bytes, (used) => {
      gauge.set({ receiver: id }, used);
      reclaim.observe(used);
    });
    this.grpc = grpc ? new OtlpGrpcServer(grpc, this.handler, this.budget) : undefined;
    this.http = http ? new OtlpHttpServer(http, this.handler, logger, this.budget) : undefined;
    if (grpc?.keepalive?.enforcement_policy) {
      logger.warn('protocols.grpc.keepalive.enforcement_policy is accepted but not enforced: grpc-js has no server-side ping policy');
    }
  }

  describe(): string[] {
    const out: string[] = [];
    if (this.grpc) out.push(`OTLP/gRPC ${this.grpc.address()}${suffix(this.guards.grpc)}`);
    if (this.http) out.push(`OTLP/HTTP ${this.http.url()}${suffix(this.guards.http)}`);
    return out;
  }

  /** The bound gRPC host:port (undefined when gRPC is not enabled). */
  grpcAddress(): string | undefined {
    return this.grpc?.address();
  }

  /** The bound HTTP host:port (undefined when HTTP is not enabled). */
  httpAddress(): string | undefined {
    return this.http?.address();
  }

  async start(host?: Host): Promise<void> {
    const { grpc, http } = this.config.protocols;
    // Load certificates and find authenticators first: a mistake there stops start-up before anything listens.
    if (grpc) this.guards.grpc = this.guard('grpc', grpc, host);
    if (http) this.guards.http = this.guard('http', http, host);
    const common = { receiver: this.id, metrics: this.metrics };
    await this.grpc?.start({ ...common, ...this.guards.grpc, logger: this.logger });
    try {
      await this.http?.start({ ...common, ...this.guards.http });
    } catch (err) {
      await this.grpc?.shutdown(AbortSignal.abort());
      this.stopWatching();
      throw err;
    }
    for (const g of [this.guards.grpc, this.guards.http]) await g?.tls?.start();
    this.logger.info({ listening: this.describe() }, 'otlp receiver listening');
  }

  /** Stops taking calls, lets those in flight get their acknowledgement, force-closes when the signal aborts. */
  async shutdown(signal: AbortSignal): Promise<void> {
    this.handler.beginShutdown();
    this.stopWatching();
    await Promise.all([this.grpc?.shutdown(signal), this.http?.shutdown(signal), this.handler.drained(signal)]);
  }

  private guard(protocol: 'grpc' | 'http', c: GrpcConfig | HttpConfig, host: Host | undefined): Guard {
    const key = `receivers.${this.id}.protocols.${protocol}`;
    let tls: ServerTls | undefined;
    if (c.tls) {
      tls = new ServerTls(c.tls, `${key}.tls`, this.logger);
      tls.load();
    }
    let auth: ServerAuthenticator | undefined;
    if (c.auth) {
      if (!host) throw new Error(`${key}.auth needs the service's extensions: start the receiver through the service`);
      auth = resolveAuthenticator(host, c.auth, `${key}.auth`);
    }
    warnIfExposed(this.logger, key, c.endpoint, { tls: tls !== undefined, auth: auth !== undefined });
    return { tls, auth };
  }

  private stopWatching(): void {
    this.guards.grpc?.tls?.stop();
    this.guards.http?.tls?.stop();
  }
}

function suffix(g: Guard | undefined): string {
  const parts = [g?.tls?.describe(), g?.auth ? 'bearer auth' : undefined].filter((p) => p !== undefined);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

export const otlpReceiverFactory: ReceiverFactory<OtlpReceiverConfig> = {
  kind: 'receiver',
  type: 'otlp',
  configSchema: otlpReceiverConfigSchema,
  create: (config, ctx) => {
    if (!ctx.next) throw new Error(`receiver ${ctx.id} has no pipeline to feed`);
    return new OtlpReceiver(config, ctx.next, ctx.id, ctx.telemetry, ctx.logger);
  },
};
