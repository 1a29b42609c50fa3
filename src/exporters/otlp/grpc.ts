// The OTLP/gRPC sender: unary LogsService/Export with the request bytes as
// already encoded by our codec (no re-serialisation), gzip per message by
// default, headers as metadata, one deadline per attempt.
import * as grpc from '@grpc/grpc-js';
import { EXPORT_METHOD_PATH } from '../../otlp/schema.js';
import { type OtlpGrpcConfig, parseGrpcEndpoint } from './config.js';
import type { SendOutcome, Sender } from './sender.js';
import { readTlsFile, userAgent } from './sender.js';
import { classifyGrpcStatus, okOutcome, partialSuccessFromProto } from './status.js';

/** grpc-js compression algorithm keys (channel option grpc.default_compression_algorithm). */
const GZIP = 2;
const IDENTITY = 0;

const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const passThrough = (b: Buffer): Buffer => b;

export class GrpcSender implements Sender {
  private client: grpc.Client | undefined;
  private metadata = new grpc.Metadata();
  private readonly target: string;
  private readonly plaintext: boolean;

  constructor(
    private readonly id: string,
    private readonly config: OtlpGrpcConfig,
  ) {
    const ep = parseGrpcEndpoint(config.endpoint)!;
    this.target = ep.target;
    this.plaintext = ep.scheme === 'http' || (ep.scheme === undefined && config.tls.insecure);
  }

  get description(): string {
    return `OTLP/gRPC → ${this.target}${this.plaintext ? '' : ' (TLS)'}`;
  }

  private credentials(): grpc.ChannelCredentials {
    if (this.plaintext) return grpc.credentials.createInsecure();
    const key = `exporters.${this.id}.tls`;
    const tls = this.config.tls;
    return grpc.credentials.createSsl(
      readTlsFile(tls.ca_file, `${key}.ca_file`) ?? null,
      readTlsFile(tls.key_file, `${key}.key_file`) ?? null,
      readTlsFile(tls.cert_file, `${key}.cert_file`) ?? null,
    );
  }

  async start(): Promise<void> {
    const retry = this.config.retry_on_failure;
    this.client = new grpc.Client(this.target, this.credentials(), {
      'grpc.default_compression_algorithm': this.config.compression === 'gzip' ? GZIP : IDENTITY,
      'grpc.primary_user_agent': userAgent(),
      // Reconnect at least as eagerly as we retry, so a recovered downstream is seen soon.
      'grpc.max_reconnect_backoff_ms': Math.max(1000, Math.min(retry.max_interval, 30_000)),
      'grpc.max_send_message_length': -1,
    });
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(this.config.headers)) md.set(k.toLowerCase(), v);
    this.metadata = md;
  }

  send(payload: Uint8Array, signal: AbortSignal): Promise<SendOutcome> {
    const client = this.client;
    if (!client) return Promise.resolve({ kind: 'retryable', reason: 'gRPC client is not started' });
    if (signal.aborted) return Promise.resolve({ kind: 'aborted' });
    return new Promise<SendOutcome>((resolve) => {
      let call: grpc.ClientUnaryCall | undefined;
      const onAbort = () => call?.cancel();
      const done = (err: grpc.ServiceError | null, response?: Buffer) => {
        signal.removeEventListener('abort', onAbort);
        if (!err) return resolve(okOutcome(partialSuccessFromProto(response)));
        if (signal.aborted) return resolve({ kind: 'aborted' });
        const bin = err.metadata?.get('grpc-status-details-bin')[0];
        resolve(classifyGrpcStatus(err.code, err.details, typeof bin === 'string' ? undefined : bin));
      };
      try {
        const options = { deadline: Date.now() + this.config.timeout };
        call = client.makeUnaryRequest(EXPORT_METHOD_PATH, asBuffer, passThrough, payload, this.metadata.clone(), options, done);
      } catch (err) {
        resolve({ kind: 'retryable', reason: `gRPC client error: ${(err as Error).message}` });
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  async close(): Promise<void> {
    this.client?.close();
    this.client = undefined;
  }
}
