// Real downstream servers for the OTLP exporter tests: a grpc-js server
// implementing LogsService/Export on our codec, a raw HTTP/2 gRPC endpoint that
// shows the bytes on the wire, and a node:http server for POST /v1/logs. Each
// answers from a script (one reply per attempt), then with its default.
import * as grpc from '@grpc/grpc-js';
import http2 from 'node:http2';
import { createServer, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import { createServer as createTlsServer, type ServerOptions as TlsServerOptions } from 'node:https';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { RAW_LOGS_SERVICE } from '../../../src/otlp/grpc-service.js';
import { ExportLogsServiceResponse, RETRY_INFO_TYPE_URL, RetryInfo, RpcStatus } from '../../../src/otlp/schema.js';

/** A port that was free a moment ago (for a server that starts late). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Polls until `cond` holds, failing after a bounded deadline (never a fixed sleep); as a function,
 * `what` is called only on failure, so that the message can say what was observed last.
 */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string | (() => string), timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export type GrpcReply =
  | { ok: true; rejected?: number; message?: string }
  | { code: grpc.status; details?: string; retryDelayMs?: number };

export const OK: GrpcReply = { ok: true };

// Any's type URL is `typeUrl` to protobufjs reflection and `type_url` to pbjs static code: set both.
function statusDetails(code: number, message: string, retryDelayMs: number): Buffer {
  const retryInfo = RetryInfo.encode({
    retryDelay: { seconds: Math.floor(retryDelayMs / 1000), nanos: (retryDelayMs % 1000) * 1e6 },
  }).finish();
  return Buffer.from(RpcStatus.encode({ code, message, details: [{ typeUrl: RETRY_INFO_TYPE_URL, type_url: RETRY_INFO_TYPE_URL, value: retryInfo }] }).finish());
}

export class GrpcDownstream {
  /** Every attempt, in arrival order: the request bytes and the metadata. */
  readonly attempts: { bytes: Buffer; metadata: grpc.Metadata }[] = [];
  /** Attempts answered OK. */
  readonly delivered: Buffer[] = [];
  script: GrpcReply[] = [];
  fallback: GrpcReply = OK;
  private constructor(
    private readonly server: grpc.Server,
    readonly address: string,
  ) {}

  /** `options` e.g. `{ 'grpc.max_receive_message_length': n }` for a downstream that takes only small messages. */
  static async start(credentials = grpc.ServerCredentials.createInsecure(), port = 0, options: grpc.ServerOptions = {}): Promise<GrpcDownstream> {
    const server = new grpc.Server(options);
    const d: { self?: GrpcDownstream } = {};
    server.addService(
      RAW_LOGS_SERVICE,
      { Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => d.self!.answer(call, cb) },
    );
    const bound = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, credentials, (err, p) => (err ? reject(err) : resolve(p))),
    );
    d.self = new GrpcDownstream(server, `127.0.0.1:${bound}`);
    return d.self;
  }

  private answer(call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>): void {
    this.attempts.push({ bytes: call.request, metadata: call.metadata });
    const reply = this.script.shift() ?? this.fallback;
    if ('ok' in reply) {
      this.delivered.push(call.request);
      const partial = reply.rejected || reply.message ? { rejectedLogRecords: reply.rejected ?? 0, errorMessage: reply.message ?? '' } : undefined;
      cb(null, Buffer.from(ExportLogsServiceResponse.encode(partial ? { partialSuccess: partial } : {}).finish()));
      return;
    }
    const metadata = new grpc.Metadata();
    if (reply.retryDelayMs !== undefined) metadata.set('grpc-status-details-bin', statusDetails(reply.code, reply.details ?? '', reply.retryDelayMs));
    cb({ code: reply.code, details: reply.details ?? 'scripted failure', metadata });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}

/** A gRPC endpoint on bare HTTP/2, to see what the client puts on the wire (headers, compressed-flag byte). */
export class WireGrpcDownstream {
  readonly calls: { headers: http2.IncomingHttpHeaders; compressedFlag: number; message: Buffer }[] = [];
  private constructor(
    private readonly server: http2.Http2Server,
    readonly address: string,
  ) {}

  static async start(): Promise<WireGrpcDownstream> {
    const server = http2.createServer();
    const self: { d?: WireGrpcDownstream } = {};
    server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const frame = Buffer.concat(chunks);
        const flag = frame[0];
        const len = frame.readUInt32BE(1);
        const raw = frame.subarray(5, 5 + len);
        self.d!.calls.push({ headers, compressedFlag: flag, message: flag === 1 ? gunzipSync(raw) : raw });
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(Buffer.from([0, 0, 0, 0, 0]));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self.d = new WireGrpcDownstream(server, `127.0.0.1:${(server.address() as AddressInfo).port}`);
    return self.d;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export interface HttpReply {
  status: number;
  /** Drop the connection instead of answering (a network error for the client). */
  destroy?: boolean;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

export class HttpDownstream {
  /** Every attempt: path, headers, the body as sent and as decoded (gunzipped). */
  readonly attempts: { path: string; headers: IncomingHttpHeaders; raw: Buffer; body: Buffer }[] = [];
  readonly delivered: Buffer[] = [];
  script: HttpReply[] = [];
  fallback: HttpReply = { status: 200, headers: { 'content-type': 'application/x-protobuf' } };
  /** Bodies (after decompression) larger than this get 413, as a server with a body size limit answers. */
  maxBody = Infinity;
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  /** Plain HTTP, or HTTPS with `tls` options. */
  static async start(tls?: TlsServerOptions): Promise<HttpDownstream> {
    const self: { d?: HttpDownstream } = {};
    const handler: RequestListener = (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const d = self.d!;
        const raw = Buffer.concat(chunks);
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        d.attempts.push({ path: req.url ?? '', headers: req.headers, raw, body });
        const reply = body.length > d.maxBody ? { status: 413 } : (d.script.shift() ?? d.fallback);
        if (reply.destroy) {
          req.socket.destroy();
          return;
        }
        if (reply.status >= 200 && reply.status < 300) d.delivered.push(body);
        res.writeHead(reply.status, reply.headers ?? {});
        res.end(reply.body ?? '');
      });
    };
    const server: Server = tls ? createTlsServer(tls, handler) : createServer(handler);
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self.d = new HttpDownstream(server, `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return self.d;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
