// A load client that keeps every record until Vigil acknowledges it: it sends
// OTLP requests over gRPC or HTTP (protobuf), retries each one (byte for byte
// the same, so the audit.record_ids stay the same) until the answer is a
// success, and reports the `test.id` of every acknowledged record. Answers are
// classified with the same pure OTLP rules Vigil's own exporter uses, so a
// refusal with RetryInfo / Retry-After is honoured as the specification says.
import * as grpc from '@grpc/grpc-js';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeProtobufRequest, type ExportRequestMessage } from '../../../src/otlp/convert.js';
import { EXPORT_METHOD_PATH } from '../../../src/otlp/schema.js';
import type { SendOutcome } from '../../../src/exporters/otlp/sender.js';
import { classifyGrpcStatus, classifyHttpAnswer, okOutcome, partialSuccessFromProto } from '../../../src/exporters/otlp/status.js';
import { accessLogRecord, rng } from './access-log.js';

/** Where the running Vigil listens (both change on every restart). */
export interface Endpoints {
  grpc: string;
  /** Full URL of the logs path. */
  http: string;
}

export interface AckingClientOptions {
  /** Prefix of the record ids (`<name>-<request>-<record>`); unique per client. */
  name: string;
  transport: 'grpc' | 'http';
  /** The current Vigil, or undefined while it is down. */
  target: () => Endpoints | undefined;
  recordsPerRequest: number;
  /** Upper bound on requests this client makes. */
  maxRequests: number;
  seed: number;
  /** Time between the starts of two requests (load pacing); 0 = send the next as soon as one is acknowledged. */
  intervalMs?: number;
  /** Longest wait honoured from a server's retry hint (tests keep waits short). */
  maxRetryDelayMs?: number;
  /** Per-attempt deadline. */
  attemptTimeoutMs?: number;
  onAck?: (ids: readonly string[]) => void;
  onRefusal?: (r: Refusal) => void;
}

/** A retryable answer as the client saw it. */
export interface Refusal {
  transport: 'grpc' | 'http';
  reason: string;
  /** The server's RetryInfo / Retry-After, when it gave one. */
  retryAfterMs: number | undefined;
}

export interface ClientStats {
  requests: number;
  ackedRecords: number;
  attempts: number;
  /** Retryable answers by kind (`gRPC UNAVAILABLE`, `HTTP 503`, …). */
  refusals: Record<string, number>;
  /** Retryable answers that carried a retry hint (RetryInfo / Retry-After). */
  hinted: number;
  /** Requests given up on when the client was aborted (not acknowledged, not counted). */
  abandoned: number;
  /** Permanent errors: each is a harness or Vigil bug. */
  permanent: string[];
}

const identity = (b: Buffer): Buffer => b;

export class AckingClient {
  readonly stats: ClientStats = { requests: 0, ackedRecords: 0, attempts: 0, refusals: {}, hinted: 0, abandoned: 0, permanent: [] };
  private readonly random: () => number;
  private stopping = false;
  private readonly abort = new AbortController();
  /** Aborted by stop(): ends a pacing wait early. */
  private readonly pace = new AbortController();
  private grpcClient: { address: string; client: grpc.Client } | undefined;
  private running: Promise<void> | undefined;
  private inFlight = false;

  constructor(private readonly o: AckingClientOptions) {
    this.random = rng(o.seed);
  }

  /** Starts sending; resolves when the client has stopped. */
  start(): Promise<void> {
    this.running ??= this.run().finally(() => this.closeGrpc());
    return this.running;
  }

  /** No new requests; the one in flight is still retried until acknowledged. */
  stop(): Promise<void> {
    this.stopping = true;
    this.pace.abort();
    return this.running ?? Promise.resolve();
  }

  /** Gives up at once, also on the request in flight (it stays unacknowledged). */
  kill(): Promise<void> {
    this.stopping = true;
    this.pace.abort();
    this.abort.abort();
    return this.running ?? Promise.resolve();
  }

  get busy(): boolean {
    return this.inFlight;
  }

  private async run(): Promise<void> {
    const interval = this.o.intervalMs ?? 0;
    let nextAt = Date.now();
    for (let n = 0; n < this.o.maxRequests && !this.stopping; n++) {
      if (interval > 0) {
        const wait = nextAt - Date.now();
        if (wait > 0) await sleep(wait, undefined, { signal: this.pace.signal }).catch(() => undefined);
        // Behind schedule (Vigil was down): carry on from now rather than burst.
        nextAt = Math.max(nextAt, Date.now() - interval) + interval;
        if (this.stopping) break;
      }
      const ids = Array.from({ length: this.o.recordsPerRequest }, (_, i) => `${this.o.name}-${n}-${i}`);
      const body = encodeProtobufRequest(this.request(ids));
      this.stats.requests++;
      this.inFlight = true;
      const acked = await this.sendUntilAcked(body);
      this.inFlight = false;
      if (acked) {
        this.stats.ackedRecords += ids.length;
        this.o.onAck?.(ids);
      } else if (this.stats.permanent.length > 0) {
        break;
      } else {
        this.stats.abandoned++;
      }
    }
  }

  private request(ids: string[]): ExportRequestMessage {
    const now = Date.now();
    return {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: `soak-${this.o.name}` } }] },
          scopeLogs: [
            {
              scope: { name: 'vigil-reliability', version: '1' },
              logRecords: ids.map((id, k) => {
                const rec = accessLogRecord(this.random, now + k);
                rec.attributes.push({ key: 'test.id', value: { stringValue: id } });
                return rec;
              }),
            },
          ],
        },
      ],
    };
  }

  /** True once acknowledged; false when aborted or refused for good. */
  private async sendUntilAcked(body: Uint8Array): Promise<boolean> {
    let backoff = 25;
    while (!this.abort.signal.aborted) {
      const target = this.o.target();
      let outcome: SendOutcome;
      if (!target) outcome = { kind: 'retryable', reason: 'vigil is down' };
      else {
        this.stats.attempts++;
        outcome = this.o.transport === 'grpc' ? await this.sendGrpc(target.grpc, body) : await this.sendHttp(target.http, body);
      }
      if (outcome.kind === 'ok') {
        if (outcome.rejected > 0) {
          this.stats.permanent.push(`partial success: ${outcome.rejected} rejected (${outcome.message ?? ''})`);
          return false;
        }
        return true;
      }
      if (outcome.kind === 'permanent' || outcome.kind === 'too_large') {
        this.stats.permanent.push(outcome.reason);
        return false;
      }
      if (outcome.kind === 'aborted') return false;
      const kind = /^(gRPC \w+|HTTP \d+|vigil is down)/.exec(outcome.reason)?.[1] ?? 'network error';
      this.stats.refusals[kind] = (this.stats.refusals[kind] ?? 0) + 1;
      if (outcome.retryAfterMs !== undefined) this.stats.hinted++;
      if (target) this.o.onRefusal?.({ transport: this.o.transport, reason: outcome.reason, retryAfterMs: outcome.retryAfterMs });
      // The server's hint (capped for tests), else a jittered backoff.
      const jittered = backoff * (0.5 + this.random());
      backoff = Math.min(backoff * 2, 500);
      const wait = outcome.retryAfterMs !== undefined ? Math.min(outcome.retryAfterMs, this.o.maxRetryDelayMs ?? 1000) : jittered;
      await sleep(wait, undefined, { signal: this.abort.signal }).catch(() => undefined);
    }
    return false;
  }

  private grpcFor(address: string): grpc.Client {
    if (this.grpcClient?.address !== address) {
      this.closeGrpc();
      this.grpcClient = { address, client: new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1, 'grpc.max_reconnect_backoff_ms': 200 }) };
    }
    return this.grpcClient.client;
  }

  private closeGrpc(): void {
    this.grpcClient?.client.close();
    this.grpcClient = undefined;
  }

  private sendGrpc(address: string, body: Uint8Array): Promise<SendOutcome> {
    const client = this.grpcFor(address);
    const deadline = Date.now() + (this.o.attemptTimeoutMs ?? 10_000);
    return new Promise<SendOutcome>((resolve) => {
      let call: grpc.ClientUnaryCall | undefined;
      const cancel = () => call?.cancel();
      call = client.makeUnaryRequest(EXPORT_METHOD_PATH, identity, identity, Buffer.from(body), new grpc.Metadata(), { deadline }, (err, response) => {
        this.abort.signal.removeEventListener('abort', cancel);
        if (!err) return resolve(okOutcome(partialSuccessFromProto(response)));
        if (this.abort.signal.aborted) return resolve({ kind: 'aborted' });
        const details = err.metadata?.get('grpc-status-details-bin')[0];
        resolve(classifyGrpcStatus(err.code, err.details, Buffer.isBuffer(details) ? details : undefined));
      });
      this.abort.signal.addEventListener('abort', cancel, { once: true });
    });
  }

  private async sendHttp(url: string, body: Uint8Array): Promise<SendOutcome> {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body,
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.o.attemptTimeoutMs ?? 10_000)]),
      });
      const payload = Buffer.from(await res.arrayBuffer());
      return classifyHttpAnswer({ status: res.status, headers: Object.fromEntries(res.headers), body: payload });
    } catch (err) {
      if (this.abort.signal.aborted) return { kind: 'aborted' };
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      return { kind: 'retryable', reason: `network error (${cause})` };
    }
  }
}

/** Runs several clients and collects what they acknowledged. */
export class Load {
  readonly acked = new Set<string>();
  readonly clients: AckingClient[];
  private readonly done: Promise<void>[] = [];

  constructor(specs: Omit<AckingClientOptions, 'onAck'>[]) {
    this.clients = specs.map((s) => new AckingClient({ ...s, onAck: (ids) => ids.forEach((id) => this.acked.add(id)) }));
  }

  start(): void {
    for (const c of this.clients) this.done.push(c.start());
  }

  /** Stops making requests and waits (up to `timeoutMs`) for those in flight to be acknowledged; then gives up on the rest. */
  async finish(timeoutMs: number): Promise<void> {
    const stopped = Promise.all(this.clients.map((c) => c.stop()));
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
    if ((await Promise.race([stopped, timer])) === 'timeout') await Promise.all(this.clients.map((c) => c.kill()));
    await Promise.all(this.done);
  }

  /** Gives up at once (cleanup after a failure). */
  async kill(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.kill()));
  }

  stats(): ClientStats {
    const total: ClientStats = { requests: 0, ackedRecords: 0, attempts: 0, refusals: {}, hinted: 0, abandoned: 0, permanent: [] };
    for (const c of this.clients) {
      const s = c.stats;
      total.requests += s.requests;
      total.ackedRecords += s.ackedRecords;
      total.attempts += s.attempts;
      total.hinted += s.hinted;
      total.abandoned += s.abandoned;
      total.permanent.push(...s.permanent);
      for (const [k, v] of Object.entries(s.refusals)) total.refusals[k] = (total.refusals[k] ?? 0) + v;
    }
    return total;
  }
}
