// The `otlp` receiver: OTLP/gRPC and/or OTLP/HTTP in front of the pipeline.
// An Export call is answered only once the pipeline acknowledged its records
// (every exporter durably took them), so a success means stored.
import type { Consumer, Receiver, ReceiverFactory } from '../../pipeline/component.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Telemetry } from '../../telemetry/metrics.js';
import { type OtlpReceiverConfig, otlpReceiverConfigSchema } from './config.js';
import { ExportHandler } from './export.js';
import { OtlpGrpcServer } from './grpc.js';
import { OtlpHttpServer } from './http.js';

export class OtlpReceiver implements Receiver {
  private readonly handler: ExportHandler;
  private readonly grpc: OtlpGrpcServer | undefined;
  private readonly http: OtlpHttpServer | undefined;

  constructor(
    config: OtlpReceiverConfig,
    next: Consumer,
    id: string,
    telemetry: Telemetry,
    private readonly logger: Logger,
  ) {
    this.handler = new ExportHandler(id, next, telemetry, logger);
    const { grpc, http } = config.protocols;
    this.grpc = grpc ? new OtlpGrpcServer(grpc, this.handler) : undefined;
    this.http = http ? new OtlpHttpServer(http, this.handler, logger) : undefined;
    if (grpc?.keepalive?.enforcement_policy) {
      logger.warn('protocols.grpc.keepalive.enforcement_policy is accepted but not enforced: grpc-js has no server-side ping policy');
    }
  }

  describe(): string[] {
    const out: string[] = [];
    if (this.grpc) out.push(`OTLP/gRPC ${this.grpc.address()}`);
    if (this.http) out.push(`OTLP/HTTP ${this.http.url()}`);
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

  async start(): Promise<void> {
    await this.grpc?.start();
    try {
      await this.http?.start();
    } catch (err) {
      await this.grpc?.shutdown(AbortSignal.abort());
      throw err;
    }
    this.logger.info({ listening: this.describe() }, 'otlp receiver listening');
  }

  /** Stops taking calls, lets those in flight get their acknowledgement, force-closes when the signal aborts. */
  async shutdown(signal: AbortSignal): Promise<void> {
    this.handler.beginShutdown();
    await Promise.all([this.grpc?.shutdown(signal), this.http?.shutdown(signal), this.handler.drained(signal)]);
  }
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
