// The OTLP/HTTP sender: POST <endpoint>/v1/logs with the request bytes as
// already encoded (protobuf or OTLP/JSON), gzip by default, keep-alive
// connections, one timeout per attempt.
import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { redactUrl } from '../../security/redact.js';
import { type OtlpHttpConfig, logsUrl } from './config.js';
import type { SendOutcome, Sender } from './sender.js';
import { readTlsFile, userAgent } from './sender.js';
import { type HttpAnswer, classifyHttpAnswer } from './status.js';

const gzip = promisify(gzipCb);

/** Answers are small (a partial success or a google.rpc.Status); more than this is not read. */
const MAX_ANSWER_BYTES = 1024 * 1024;

export class HttpSender implements Sender {
  readonly url: URL;
  private agent: http.Agent | undefined;

  constructor(
    private readonly id: string,
    private readonly config: OtlpHttpConfig,
  ) {
    this.url = logsUrl(config);
  }

  get description(): string {
    // The URL may carry credentials (user:pass@, ?api_key=): never print them.
    return `OTLP/HTTP (${this.config.encoding}) → ${redactUrl(this.url)}`;
  }

  async start(): Promise<void> {
    if (this.url.protocol === 'https:') {
      const key = `exporters.${this.id}.tls`;
      const tls = this.config.tls;
      this.agent = new https.Agent({
        keepAlive: true,
        ca: readTlsFile(tls.ca_file, `${key}.ca_file`),
        cert: readTlsFile(tls.cert_file, `${key}.cert_file`),
        key: readTlsFile(tls.key_file, `${key}.key_file`),
      });
    } else {
      this.agent = new http.Agent({ keepAlive: true });
    }
  }

  async send(payload: Uint8Array, signal: AbortSignal): Promise<SendOutcome> {
    if (signal.aborted) return { kind: 'aborted' };
    const headers: Record<string, string> = {
      'user-agent': userAgent(),
      ...this.config.headers,
      'content-type': this.config.encoding === 'json' ? 'application/json' : 'application/x-protobuf',
    };
    let body = payload;
    if (this.config.compression === 'gzip') {
      body = await gzip(payload);
      headers['content-encoding'] = 'gzip';
    }
    const timeout = AbortSignal.timeout(this.config.timeout);
    try {
      return classifyHttpAnswer(await post(this.url, body, headers, this.agent, AbortSignal.any([signal, timeout])));
    } catch (err) {
      if (signal.aborted) return { kind: 'aborted' };
      if (timeout.aborted) return { kind: 'retryable', reason: `no answer within timeout (${this.config.timeout / 1000}s)` };
      const e = err as NodeJS.ErrnoException;
      return { kind: 'retryable', reason: `network error: ${e.code ?? ''} ${e.message}`.trim() };
    }
  }

  async close(): Promise<void> {
    this.agent?.destroy();
    this.agent = undefined;
  }
}

function post(url: URL, body: Uint8Array, headers: Record<string, string>, agent: http.Agent | undefined, signal: AbortSignal): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': String(body.length) }, agent, signal },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= MAX_ANSWER_BYTES) chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
