// OTLP/gRPC: opentelemetry.proto.collector.logs.v1.LogsService/Export on a
// grpc-js server. The service definition passes raw bytes through
// (identity serializers) so that decoding is ours: malformed protobuf becomes
// INVALID_ARGUMENT with a message instead of grpc-js's bare INTERNAL. grpc-js
// itself decompresses gzip/deflate requests and enforces the size limit
// (RESOURCE_EXHAUSTED, without RetryInfo: a retry cannot help).
import * as grpc from '@grpc/grpc-js';
import { splitHostPort } from '../../config/units.js';
import { decodeProtobufRequest, requestToBatch } from '../../otlp/convert.js';
import { EXPORT_METHOD_PATH } from '../../otlp/schema.js';
import { asRefusal, type Refusal } from '../../pipeline/errors.js';
import type { GrpcConfig } from './config.js';
import { aborted, type ExportHandler } from './export.js';
import { encodeExportResponse, encodeRpcStatus, grpcCodeOf, retryDelayOf } from './status.js';

const identity = (b: Buffer): Buffer => b;

const LOGS_SERVICE: grpc.ServiceDefinition = {
  Export: {
    path: EXPORT_METHOD_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

/** grpc-js channel options from the Collector-style settings. */
export function serverOptions(config: GrpcConfig): grpc.ServerOptions {
  const o: grpc.ServerOptions = {
    'grpc.max_receive_message_length': Math.floor(config.max_recv_msg_size_mib * 1024 * 1024),
  };
  if (config.max_concurrent_streams !== undefined) o['grpc.max_concurrent_streams'] = config.max_concurrent_streams;
  const sp = config.keepalive?.server_parameters;
  if (sp?.max_connection_idle !== undefined) o['grpc.max_connection_idle_ms'] = sp.max_connection_idle;
  if (sp?.max_connection_age !== undefined) o['grpc.max_connection_age_ms'] = sp.max_connection_age;
  if (sp?.max_connection_age_grace !== undefined) o['grpc.max_connection_age_grace_ms'] = sp.max_connection_age_grace;
  if (sp?.time !== undefined) o['grpc.keepalive_time_ms'] = sp.time;
  if (sp?.timeout !== undefined) o['grpc.keepalive_timeout_ms'] = sp.timeout;
  return o;
}

/** The grpc-js error for a refusal: retryable ones carry RetryInfo in grpc-status-details-bin. */
export function grpcError(refusal: Refusal): Partial<grpc.StatusObject> {
  const code = grpcCodeOf(refusal.code);
  const metadata = new grpc.Metadata();
  const delay = retryDelayOf(refusal);
  if (delay !== undefined) metadata.set('grpc-status-details-bin', Buffer.from(encodeRpcStatus(code, refusal.message, delay)));
  return { code, details: refusal.message, metadata };
}

/** Server credentials. TLS/mTLS (the hardening issue) plugs in here. */
function serverCredentials(): grpc.ServerCredentials {
  return grpc.ServerCredentials.createInsecure();
}

export class OtlpGrpcServer {
  private server: grpc.Server | undefined;
  private boundPort = 0;

  constructor(
    private readonly config: GrpcConfig,
    private readonly handler: ExportHandler,
  ) {}

  /** host:port actually bound (the real port when the config said 0). */
  address(): string {
    const { host, port } = splitHostPort(this.config.endpoint);
    return `${host.includes(':') ? `[${host}]` : host}:${this.server ? this.boundPort : port}`;
  }

  async start(): Promise<void> {
    const server = new grpc.Server(serverOptions(this.config));
    server.addService(LOGS_SERVICE, {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        void this.export(call, callback);
      },
    });
    const { host, port } = splitHostPort(this.config.endpoint);
    const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.boundPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(target, serverCredentials(), (err, p) => (err ? reject(err) : resolve(p))),
    ).catch((err: Error) => {
      server.forceShutdown();
      throw new Error(`cannot listen for OTLP/gRPC on ${this.config.endpoint}: ${err.message}`);
    });
    this.server = server;
  }

  private async export(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>): Promise<void> {
    try {
      // Bearer-token auth (the hardening issue) checks call.metadata here, before any decoding.
      const result = await this.handler.handle('grpc', () => requestToBatch(decodeProtobufRequest(call.request)));
      callback(null, Buffer.from(encodeExportResponse(result)));
    } catch (err) {
      callback(grpcError(asRefusal(err)));
    }
  }

  /**
   * Stops taking new calls (connections get GOAWAY; calls arriving meanwhile
   * are refused by the handler with UNAVAILABLE), lets calls in flight finish,
   * and cuts every connection if the signal aborts first.
   */
  async shutdown(signal: AbortSignal): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const graceful = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    await Promise.race([graceful, aborted(signal)]);
    if (signal.aborted) server.forceShutdown();
  }
}
