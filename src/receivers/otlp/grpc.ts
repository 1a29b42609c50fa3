// OTLP/gRPC: opentelemetry.proto.collector.logs.v1.LogsService/Export on a
// grpc-js server. The service definition passes raw bytes through
// (identity serializers) so that decoding is ours: malformed protobuf becomes
// INVALID_ARGUMENT with a message instead of grpc-js's bare INTERNAL. grpc-js
// itself decompresses gzip/deflate requests and enforces the size limit
// (RESOURCE_EXHAUSTED, without RetryInfo: a retry cannot help).
//
// Connections are accepted by our own net.Server and handed to grpc-js (its
// connection injector): that is where max_connections is enforced, and it
// lets shutdown cut connections that never became HTTP/2 sessions. TLS (with
// certificate reload) comes from ReloadingServerCredentials, bearer-token
// auth from an interceptor that answers UNAUTHENTICATED before the message
// is decoded or reaches the pipeline.
import * as grpc from '@grpc/grpc-js';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { splitHostPort } from '../../config/units.js';
import { decodeProtobufBatch } from '../../otlp/wire-decode.js';
import { countProtobufLogRecords } from '../../otlp/count.js';
import { RAW_LOGS_SERVICE } from '../../otlp/grpc-service.js';
import { asRefusal, type Refusal } from '../../pipeline/errors.js';
import type { ServerAuthenticator } from '../../security/auth.js';
import { ReloadingServerCredentials } from '../../security/grpc-credentials.js';
import { capConnections } from '../../security/connection-cap.js';
import type { SecurityMetrics } from '../../security/metrics.js';
import type { ServerTls } from '../../security/tls.js';
import type { Logger } from '../../telemetry/logger.js';
import type { InflightBudget } from './budget.js';
import type { GrpcConfig } from './config.js';
import { aborted, type ExportHandler } from './export.js';
import { guardStreams } from './grpc-streams.js';
import { encodeExportResponse, encodeRpcStatus, grpcCodeOf, retryDelayOf } from './status.js';

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

export const UNAUTHENTICATED_MESSAGE = 'missing or invalid bearer token';

/**
 * Checks the call's credential as soon as its metadata arrives: a call without
 * a valid one is answered UNAUTHENTICATED and its message is never decoded.
 */
export function authInterceptor(auth: ServerAuthenticator, onRefused: () => void): grpc.ServerInterceptor {
  return (_method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, proceed) => {
            const outcome = auth.authenticate((name) => {
              const values = metadata.get(name);
              return values.length === 1 && typeof values[0] === 'string' ? values[0] : undefined;
            });
            if (outcome.ok) {
              proceed(metadata);
              return;
            }
            onRefused();
            call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: UNAUTHENTICATED_MESSAGE, metadata: new grpc.Metadata() });
          },
        }),
    });
}

/** What the receiver adds around the gRPC server: TLS, auth, and where to count and log. */
export interface GrpcSecurity {
  tls?: ServerTls | undefined;
  auth?: ServerAuthenticator | undefined;
  receiver: string;
  metrics: SecurityMetrics;
  logger: Logger;
}

export class OtlpGrpcServer {
  private server: grpc.Server | undefined;
  private listener: NetServer | undefined;
  private readonly sockets = new Set<Socket>();
  private boundPort = 0;

  constructor(
    private readonly config: GrpcConfig,
    private readonly handler: ExportHandler,
    private readonly budget: InflightBudget,
  ) {}

  /** host:port actually bound (the real port when the config said 0). */
  address(): string {
    const { host, port } = splitHostPort(this.config.endpoint);
    return `${host.includes(':') ? `[${host}]` : host}:${this.server ? this.boundPort : port}`;
  }

  async start(security?: GrpcSecurity): Promise<void> {
    const options = serverOptions(this.config);
    const auth = security?.auth;
    if (auth && security) {
      const labels = { server: security.receiver, transport: 'grpc', reason: 'unauthenticated' };
      options.interceptors = [
        authInterceptor(auth, () => {
          security.metrics.refusedRequests.inc(labels);
          security.logger.debug({ transport: 'grpc', code: 'UNAUTHENTICATED' }, 'export refused');
        }),
      ];
    }
    const server = new grpc.Server(options);
    server.addService(RAW_LOGS_SERVICE, {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        void this.export(call, callback);
      },
    });
    const credentials = security?.tls ? new ReloadingServerCredentials(security.tls) : grpc.ServerCredentials.createInsecure();
    const injector = server.createConnectionInjector(credentials);
    guardStreams(server, {
      budget: this.budget,
      receiveTimeoutMs: this.config.receive_timeout,
      onCut: (reason) => {
        if (!security) return;
        security.metrics.refusedRequests.inc({ server: security.receiver, transport: 'grpc', reason });
        security.logger.debug({ transport: 'grpc', reason }, 'call cut off while its request was arriving');
      },
    });
    const listener = createServer((socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      // A reset by the peer before grpc-js attached its handlers must not be an uncaught error.
      socket.on('error', () => undefined);
      injector.injectConnection(socket);
    });
    if (security) capConnections(listener, this.config.max_connections, { server: security.receiver, transport: 'grpc', metrics: security.metrics, logger: security.logger });
    const { host, port } = splitHostPort(this.config.endpoint);
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(port, host, () => {
        listener.off('error', reject);
        resolve();
      });
    }).catch((err: Error) => {
      injector.destroy();
      server.forceShutdown();
      throw new Error(`cannot listen for OTLP/gRPC on ${this.config.endpoint}: ${err.message}`);
    });
    this.boundPort = (listener.address() as { port: number }).port;
    this.listener = listener;
    this.server = server;
  }

  private async export(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>): Promise<void> {
    try {
      const bytes = call.request;
      const request = { bytes: bytes.length, count: (stopAbove: number) => countProtobufLogRecords(bytes, stopAbove), decode: (eager: boolean) => decodeProtobufBatch(bytes, eager) };
      const result = await this.handler.handle('grpc', request, this.config.max_request_records);
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
    const listener = this.listener;
    if (!server) return;
    this.server = undefined;
    this.listener = undefined;
    // The listener's close callback fires once every connection it accepted has ended.
    const closed = new Promise<void>((resolve) => (listener ? listener.close(() => resolve()) : resolve()));
    const graceful = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    // grpc-js may report done while a session still finishes its last calls: wait for the connections themselves.
    await Promise.race([graceful.then(() => closed), aborted(signal)]);
    if (signal.aborted) {
      server.forceShutdown();
      for (const s of this.sockets) s.destroy();
      await closed;
    }
  }
}
