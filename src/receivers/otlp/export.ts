// The transport-independent half of an Export call: decode, push the records
// into the pipeline, wait for the durable acknowledgement, and account for it
// (metrics, logs). gRPC and HTTP differ only in how they read the request and
// how they tell the client the outcome.
import type { Consumer } from '../../pipeline/component.js';
import { Refusal, asRefusal } from '../../pipeline/errors.js';
import type { DecodedBatch } from '../../otlp/convert.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Telemetry } from '../../telemetry/metrics.js';
import type { ExportResult } from './status.js';

export type Transport = 'grpc' | 'http';

/** One Export request as received (after decompression), not yet decoded. */
export interface ExportRequest {
  /** Its size in bytes. */
  bytes: number;
  /** Its log records, counted by walking the encoding without decoding; may stop counting above `stopAbove`. */
  count(stopAbove: number): number;
  /** Its records; throws a Refusal when it is malformed. `eager`: the consumer reads every record (Consumer.readsRecords). */
  decode(eager: boolean): DecodedBatch;
}

export class ExportHandler {
  private readonly inflight = new Set<Promise<unknown>>();
  private stopping = false;

  constructor(
    private readonly id: string,
    private readonly next: Consumer,
    private readonly telemetry: Telemetry,
    private readonly logger: Logger,
  ) {}

  /** True once shutdown began: new calls are refused with UNAVAILABLE / 503. */
  get isStopping(): boolean {
    return this.stopping;
  }

  /**
   * Runs one Export call. Before any work, the request's records are counted
   * (without decoding) against `maxRecords` and the pipeline is asked whether
   * it can afford the request (memory_limiter); then it is decoded and pushed.
   * Resolves once every accepted record is durably stored; rejects with a
   * Refusal, already counted and logged.
   */
  async handle(transport: Transport, request: ExportRequest, maxRecords: number): Promise<ExportResult> {
    if (this.stopping) throw this.refuse(transport, Refusal.unavailable('vigil is shutting down', 1000), 0);
    const { result, done } = this.push(transport, request, maxRecords);
    if (!done) return result;
    this.inflight.add(done);
    try {
      await done;
    } catch (err) {
      throw this.refuse(transport, asRefusal(err), result.accepted);
    } finally {
      this.inflight.delete(done);
    }
    this.telemetry.receiverAccepted.inc({ receiver: this.id, transport }, result.accepted);
    return result;
  }

  /**
   * Counts, admits, decodes and hands the records to the pipeline; returns the
   * answer so far and the pipeline's promise (none when no record was
   * accepted). Kept out of `handle` so that no frame waiting for the durable
   * acknowledgement holds the decoded records.
   */
  private push(transport: Transport, request: ExportRequest, maxRecords: number): { result: ExportResult; done?: Promise<void> } {
    const count = request.count(maxRecords);
    if (count > maxRecords) {
      throw this.refuse(
        transport,
        Refusal.invalid(`request holds more than ${maxRecords} log records (receivers.${this.id}.protocols.${transport}.max_request_records): send fewer records per request`),
        0,
      );
    }
    try {
      this.next.admit?.({ bytes: request.bytes, records: count });
    } catch (err) {
      throw this.refuse(transport, asRefusal(err), count);
    }
    let decoded: DecodedBatch;
    try {
      decoded = request.decode(this.next.readsRecords === true);
    } catch (err) {
      throw this.refuse(transport, asMalformed(err), 0);
    }
    // The walk and the decoder agree (fuzzed); should they ever not, the limit still holds.
    if (decoded.records.length + decoded.rejected > maxRecords) {
      throw this.refuse(transport, Refusal.invalid(`request holds more than ${maxRecords} log records (receivers.${this.id}.protocols.${transport}.max_request_records): send fewer records per request`), 0);
    }
    const { records, rejected } = decoded;
    if (rejected > 0) {
      this.telemetry.receiverRefused.inc({ receiver: this.id, transport }, rejected);
      this.logger.debug({ transport, rejected, reason: decoded.rejectReason }, 'rejected unusable log records (partial success)');
    }
    const result: ExportResult = { accepted: records.length, rejected };
    if (rejected > 0) result.errorMessage = `${rejected} log record(s) rejected: ${decoded.rejectReason ?? 'unusable'}`;
    if (records.length === 0) return { result };
    let done: Promise<void>;
    try {
      done = this.next.consume(records);
    } catch (err) {
      done = Promise.reject(err);
    }
    return { result, done };
  }

  /** Counts and logs a refusal (never the payload), and returns it for the transport to report. */
  refuse(transport: Transport, refusal: Refusal, records: number): Refusal {
    if (records > 0) this.telemetry.receiverRefused.inc({ receiver: this.id, transport }, records);
    const fields = { transport, code: refusal.code, records, retry_after_ms: refusal.retryAfterMs, err: withoutExcerpt(refusal.message) };
    // A malformed request is the client's problem: debug, so a broken client cannot flood the log.
    if (refusal.code === 'INVALID_ARGUMENT') this.logger.debug(fields, 'export refused');
    else this.logger.warn(fields, 'export refused');
    return refusal;
  }

  /** Refuses new calls from now on. */
  beginShutdown(): void {
    this.stopping = true;
  }

  /** Resolves when every Export call already in the pipeline has its answer (or the signal aborts). */
  async drained(signal: AbortSignal): Promise<void> {
    while (this.inflight.size > 0 && !signal.aborted) {
      await Promise.race([Promise.allSettled([...this.inflight]), aborted(signal)]);
    }
  }
}

/**
 * V8's JSON.parse errors quote an excerpt of the input ("Unexpected token 'S',
 * "{"a": SECRETTOKE"... is not valid JSON"): the client may see its own data,
 * Vigil's log must not.
 */
export function withoutExcerpt(message: string): string {
  return message.replace(/"[\s\S]*"(\.\.\.)? is not valid JSON/, '(excerpt omitted) is not valid JSON');
}

function asMalformed(err: unknown): Refusal {
  if (err instanceof Refusal) return err;
  return Refusal.invalid(`malformed request: ${(err as Error)?.message ?? String(err)}`);
}

/** Resolves when the signal aborts (never rejects). */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
