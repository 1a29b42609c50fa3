// OTLP/HTTP: POST <logs_url_path> with a protobuf or OTLP/JSON body, optionally
// gzip/deflate/zstd-compressed; the response is in the request's encoding.
// Status codes as the OTLP specification says: 200 (with partial_success when
// records were rejected), 400 malformed, 404 unknown path, 405 not POST,
// 413 too large (also after decompression: a gzip bomb is 413), 415 content
// type or encoding not supported, 429/503 with Retry-After when a retry helps,
// 401 with WWW-Authenticate when auth is on and the credential is missing or wrong.
// The server itself (http or https, timeouts against slow clients, the
// connection cap, certificate reload) comes from security/http-server.ts.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { splitHostPort } from '../../config/units.js';
import { requestToBatch, type DecodedBatch } from '../../otlp/convert.js';
import { decodeProtobufBatch } from '../../otlp/wire-decode.js';
import { countJsonLogRecords, countProtobufLogRecords } from '../../otlp/count.js';
import { decodeJsonRequest } from '../../otlp/json.js';
import { Refusal, asRefusal } from '../../pipeline/errors.js';
import { type ServerAuthenticator, httpHeaders } from '../../security/auth.js';
import { createHardenedServer } from '../../security/http-server.js';
import { SecurityMetrics } from '../../security/metrics.js';
import type { ServerTls } from '../../security/tls.js';
import type { Logger } from '../../telemetry/logger.js';
import type { InflightBudget } from './budget.js';
import type { HttpConfig } from './config.js';
import { DecompressionError, decompressBody, supportedCoding } from './decompress.js';
import { aborted, type ExportHandler, type ExportRequest } from './export.js';
import {
  CONTENT_TYPES,
  type Encoding,
  encodeExportResponseAs,
  encodeRpcStatusAs,
  grpcCodeOf,
  httpStatusOf,
  retryAfterHeader,
  retryDelayOf,
} from './status.js';

/** The body encoding from Content-Type (parameters such as charset allowed), or undefined when unsupported. */
export function encodingOf(contentType: string | undefined): Encoding | undefined {
  const media = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (media === 'application/x-protobuf') return 'protobuf';
  if (media === 'application/json') return 'json';
  return undefined;
}

/** An error answered before the request reached the pipeline. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly grpcCode: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** What the receiver adds around the HTTP server: TLS, auth, and where to count. */
export interface HttpSecurity {
  tls?: ServerTls | undefined;
  auth?: ServerAuthenticator | undefined;
  receiver: string;
  metrics: SecurityMetrics;
}

const UNAUTHENTICATED = 16;
const NOT_FOUND = 5;
const INVALID_ARGUMENT = 3;
const RESOURCE_EXHAUSTED = 8;
const UNAVAILABLE = 14;
const UNIMPLEMENTED = 12;

export class OtlpHttpServer {
  private server: Server | undefined;
  private security: HttpSecurity | undefined;

  constructor(
    private readonly config: HttpConfig,
    private readonly handler: ExportHandler,
    private readonly logger: Logger,
    private readonly budget: InflightBudget,
  ) {}

  /** host:port actually bound (the real port when the config said 0). */
  address(): string {
    const a = this.server?.address() as AddressInfo | null | undefined;
    if (!a) return this.config.endpoint;
    return `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  url(): string {
    return `${this.security?.tls ? 'https' : 'http'}://${this.address()}${this.config.logs_url_path}`;
  }

  async start(security?: HttpSecurity): Promise<void> {
    this.security = security;
    const c = this.config;
    const server = createHardenedServer((req, res) => void this.serve(req, res), {
      limits: { readHeaderTimeoutMs: c.read_header_timeout, readTimeoutMs: c.read_timeout, idleTimeoutMs: c.idle_timeout, maxConnections: c.max_connections },
      tls: security?.tls,
      server: security?.receiver ?? 'otlp',
      transport: 'http',
      metrics: security?.metrics ?? new SecurityMetrics(undefined),
      logger: this.logger,
    });
    const { host, port } = splitHostPort(this.config.endpoint);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: Error) => {
      throw new Error(`cannot listen for OTLP/HTTP on ${this.config.endpoint}: ${err.message}`);
    });
    this.server = server;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const encoding = encodingOf(req.headers['content-type']);
    const replyIn: Encoding = encoding ?? 'json';
    try {
      const body = await this.readRequest(req, encoding);
      const result = await this.handler.handle('http', exportRequest(body, encoding!), this.config.max_request_records);
      this.reply(res, 200, replyIn, encodeExportResponseAs(replyIn, result));
    } catch (err) {
      if (err instanceof HttpError) {
        this.logger.debug({ transport: 'http', status: err.status, method: req.method, err: err.message }, 'request refused');
        // Whatever the client still sends is discarded; the connection closes after the answer.
        req.resume();
        res.setHeader('connection', 'close');
        this.reply(res, err.status, replyIn, encodeRpcStatusAs(replyIn, err.grpcCode, err.message), {
          ...(err.status === 405 ? { allow: 'POST' } : {}),
          ...err.headers,
        });
        return;
      }
      const refusal = asRefusal(err);
      const delay = retryDelayOf(refusal);
      const code = grpcCodeOf(refusal.code);
      this.reply(res, httpStatusOf(refusal), replyIn, encodeRpcStatusAs(replyIn, code, refusal.message, delay), {
        ...(delay !== undefined ? { 'retry-after': retryAfterHeader(delay) } : {}),
      });
    }
  }

  /** Checks what can be checked before reading, then reads (and decompresses) the body within the size limit. */
  private async readRequest(req: IncomingMessage, encoding: Encoding | undefined): Promise<Buffer> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== this.config.logs_url_path) {
      throw new HttpError(404, NOT_FOUND, `no OTLP endpoint at ${path}: logs are POSTed to ${this.config.logs_url_path}`);
    }
    this.authenticate(req);
    if (req.method !== 'POST') throw new HttpError(405, UNIMPLEMENTED, `method ${req.method} not allowed: POST logs to ${path}`);
    if (this.handler.isStopping) throw this.handler.refuse('http', Refusal.unavailable('vigil is shutting down', 1000), 0);
    if (!encoding) {
      throw new HttpError(
        415,
        INVALID_ARGUMENT,
        `unsupported Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')}: send application/x-protobuf or application/json`,
      );
    }
    const coding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (!supportedCoding(coding)) {
      throw new HttpError(415, INVALID_ARGUMENT, `unsupported Content-Encoding ${JSON.stringify(coding)}: send gzip, deflate, zstd or none`);
    }
    const limit = this.config.max_request_body_size;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) throw tooLarge(limit);
    if (this.budget.spent) throw this.budgetSpent();
    const hold = this.budget.open();
    let raw: Buffer;
    try {
      raw = await readLimited(req, limit, (n) => hold.add(n), () => this.budgetSpent());
    } finally {
      // Complete (or abandoned): from here the memory_limiter governs the request.
      hold.release();
    }
    try {
      return await decompressBody(raw, coding, limit);
    } catch (err) {
      if (err instanceof DecompressionError) throw err.tooLarge ? tooLarge(limit, 'decompressed ') : new HttpError(400, INVALID_ARGUMENT, err.message);
      throw err;
    }
  }

  /** The in-flight budget is spent: 503 + Retry-After (the client retries), counted. */
  private budgetSpent(): HttpError {
    const sec = this.security;
    sec?.metrics.refusedRequests.inc({ server: sec.receiver, transport: 'http', reason: 'inflight_budget' });
    return new HttpError(
      503,
      UNAVAILABLE,
      `too many request bytes in flight (receivers.${sec?.receiver ?? 'otlp'}.max_inflight_bytes: ${this.budget.limit}): retry later`,
      { 'retry-after': '1' },
    );
  }

  /** Refuses (401, body discarded undecoded, counted) a request without a valid credential when auth is on. */
  private authenticate(req: IncomingMessage): void {
    const sec = this.security;
    if (!sec?.auth) return;
    const outcome = sec.auth.authenticate(httpHeaders(req));
    if (outcome.ok) return;
    sec.metrics.refusedRequests.inc({ server: sec.receiver, transport: 'http', reason: 'unauthenticated' });
    throw new HttpError(401, UNAUTHENTICATED, 'missing or invalid bearer token', { 'www-authenticate': sec.auth.challenge(outcome) });
  }

  private reply(res: ServerResponse, status: number, encoding: Encoding, body: Uint8Array | string, headers: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    // While draining, every answer closes its connection so the server can finish closing.
    if (this.handler.isStopping) res.setHeader('connection', 'close');
    const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    res.writeHead(status, { ...headers, 'content-type': CONTENT_TYPES[encoding], 'content-length': String(bytes.length) });
    res.end(bytes);
  }

  /**
   * Stops accepting connections and closes idle keep-alive ones; requests in
   * flight finish (their acknowledgement matters) and close their connection;
   * requests that still arrive on open connections get 503. If the signal
   * aborts first, every connection is cut.
   */
  async shutdown(signal: AbortSignal): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await Promise.race([closed, aborted(signal)]);
    if (signal.aborted) {
      server.closeAllConnections();
      await closed;
    }
  }
}

function tooLarge(limit: number, what = ''): HttpError {
  return new HttpError(413, RESOURCE_EXHAUSTED, `request body ${what}larger than max_request_body_size (${limit} bytes)`);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The request as the handler takes it; a JSON body must be valid UTF-8 (refused with 400, never altered). */
function exportRequest(body: Buffer, encoding: Encoding): ExportRequest {
  if (encoding === 'protobuf') {
    return { bytes: body.length, count: (stopAbove) => countProtobufLogRecords(body, stopAbove), decode: (eager) => decodeProtobufBatch(body, eager) };
  }
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    throw new HttpError(400, INVALID_ARGUMENT, 'JSON body is not valid UTF-8: OTLP/JSON must be UTF-8 encoded (invalid bytes are refused, not replaced)');
  }
  return { bytes: body.length, count: (stopAbove) => countJsonLogRecords(text, stopAbove), decode: () => decodeJsonText(text) };
}

function decodeJsonText(text: string): DecodedBatch {
  const json = decodeJsonRequest(text);
  const decoded = requestToBatch(json.request);
  // Records the JSON decoder already dropped count as rejected too.
  const rejected = json.rejected + decoded.rejected;
  const rejectReason = json.rejectReason ?? decoded.rejectReason;
  return rejectReason === undefined ? { records: decoded.records, rejected } : { records: decoded.records, rejected, rejectReason };
}

/**
 * Reads the whole body, refusing (413) as soon as it passes `limit` bytes, and
 * with `overBudget()` as soon as `take` says a chunk does not fit the in-flight budget.
 */
function readLimited(req: IncomingMessage, limit: number, take: (bytes: number) => boolean, overBudget: () => HttpError): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        reject(tooLarge(limit));
        return;
      }
      if (!take(chunk.length)) {
        req.off('data', onData);
        reject(overBudget());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
    req.once('close', () => {
      if (!req.complete) reject(new Error('the client closed the connection before sending the whole body'));
    });
  });
}
