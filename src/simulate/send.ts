// Sends a simulation to an OTLP endpoint (I/O at the edge): events become log
// records (semconv attributes plus the Combined Log Format line as body, as a
// filelog pipeline would send them), in time order, one batch in flight at a
// time so that Vigil scores them in the order they happened. Uses the otlp
// exporters' own senders (gRPC or HTTP/protobuf, gzip); a retryable refusal is
// retried after the server's hint, a permanent one stops the run.
import Long from 'long';
import { GrpcSender } from '../exporters/otlp/grpc.js';
import { HttpSender } from '../exporters/otlp/http.js';
import { otlpGrpcConfigSchema, otlpHttpConfigSchema } from '../exporters/otlp/config.js';
import type { Sender } from '../exporters/otlp/sender.js';
import { encodeBatchProtobuf } from '../otlp/convert.js';
import { anyValue, type LogBatch, millisToNanos, type ResourceContext, type ScopeContext, type VigilRecord } from '../pipeline/record.js';
import type { SimEvent } from './traffic.js';

export type Protocol = 'grpc' | 'http';

export interface SendOptions {
  endpoint: string;
  protocol: Protocol;
  /** Records per Export call. */
  batchSize?: number;
  /** At most this many records per second (wall clock); 0: as fast as Vigil acknowledges. */
  rate?: number;
  onProgress?: (sent: number, total: number) => void;
  signal?: AbortSignal;
}

export interface SendResult {
  records: number;
  batches: number;
  retries: number;
  rejected: number;
  ms: number;
}

const RESOURCE: ResourceContext = {
  resource: {
    attributes: [
      { key: 'service.name', value: { stringValue: 'shop-api' } },
      { key: 'deployment.environment.name', value: { stringValue: 'simulation' } },
      { key: 'telemetry.sdk.name', value: { stringValue: 'vigil-simulate' } },
    ],
  },
  schemaUrl: '',
};
const SCOPE: ScopeContext = { scope: { name: 'vigil.simulate', version: '1' }, schemaUrl: '' };

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `[02/Mar/2026:09:00:00 +0000]`. */
function clfTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** The Combined Log Format line of an event (with nginx's request time last). */
export function clfLine(e: SimEvent): string {
  const a = e.attrs;
  return `${a['client.address']} - ${a['user.id'] ?? '-'} [${clfTime(e.t)}] "${a['http.request.method']} ${a['url.path']} HTTP/1.1" ${a['http.response.status_code']} ${a['http.response.body.size']} "-" "${a['user_agent.original']}" ${Number(a['http.server.request.duration']).toFixed(3)}`;
}

export function toRecord(e: SimEvent): VigilRecord {
  const status = Number(e.attrs['http.response.status_code']);
  return {
    resource: RESOURCE,
    scope: SCOPE,
    log: {
      timeUnixNano: millisToNanos(e.t),
      observedTimeUnixNano: Long.UZERO,
      severityNumber: status >= 500 ? 17 : status >= 400 ? 13 : 9,
      severityText: status >= 500 ? 'ERROR' : status >= 400 ? 'WARN' : 'INFO',
      body: { stringValue: clfLine(e) },
      attributes: Object.entries(e.attrs).map(([key, v]) => ({ key, value: anyValue(v) })),
    },
  };
}

export function makeSender(endpoint: string, protocol: Protocol): Sender {
  if (protocol === 'grpc') {
    const target = endpoint.replace(/^http:\/\//, '').replace(/\/+$/, '');
    return new GrpcSender('simulate', otlpGrpcConfigSchema.parse({ endpoint: target, tls: { insecure: !endpoint.startsWith('https://') }, timeout: '30s' }));
  }
  const url = /^https?:\/\//.test(endpoint) ? endpoint : `http://${endpoint}`;
  return new HttpSender('simulate', otlpHttpConfigSchema.parse({ endpoint: url, timeout: '30s' }));
}

const MAX_ATTEMPTS = 20;

export async function sendEvents(events: readonly SimEvent[], o: SendOptions): Promise<SendResult> {
  const size = o.batchSize ?? 1000;
  const sender = makeSender(o.endpoint, o.protocol);
  await sender.start();
  const started = performance.now();
  const result: SendResult = { records: 0, batches: 0, retries: 0, rejected: 0, ms: 0 };
  const signal = o.signal ?? new AbortController().signal;
  try {
    for (let i = 0; i < events.length; i += size) {
      const slice = events.slice(i, i + size);
      const batch: LogBatch = slice.map(toRecord);
      const payload = encodeBatchProtobuf(batch);
      for (let attempt = 1; ; attempt++) {
        const out = await sender.send(payload, signal);
        if (out.kind === 'ok') {
          result.rejected += out.rejected;
          break;
        }
        if (out.kind === 'aborted') throw new Error('simulation interrupted');
        if (out.kind === 'permanent' || out.kind === 'too_large') throw new Error(`${sender.description} refused a batch: ${out.reason}`);
        if (attempt >= MAX_ATTEMPTS) throw new Error(`${sender.description} kept refusing (${out.reason}); is Vigil running and healthy at ${o.endpoint}?`);
        result.retries++;
        await delay(Math.min(5000, out.retryAfterMs ?? 200 * attempt), signal);
      }
      result.records += slice.length;
      result.batches++;
      o.onProgress?.(result.records, events.length);
      if (o.rate && o.rate > 0) {
        const due = (result.records / o.rate) * 1000 - (performance.now() - started);
        if (due > 0) await delay(due, signal);
      }
    }
  } finally {
    await sender.close();
  }
  result.ms = performance.now() - started;
  return result;
}

/** Waits ms, or less if aborted; the abort listener goes with it (retries would otherwise pile them up on the one signal). */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
