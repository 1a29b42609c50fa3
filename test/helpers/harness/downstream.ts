// A real downstream OTLP/gRPC LogsService for the reliability harness: it
// decodes what Vigil delivers with Vigil's own codec and keeps, per record, the
// client-side `test.id` and the `audit.record_id` Vigil assigned, counting
// every delivery (so at-least-once duplicates show). It can be made flaky
// (answer UNAVAILABLE to a seeded fraction of calls, or to the next N) and can
// go down and come back on the same port (an outage).
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { decodeProtobufRequest } from '../../../src/otlp/convert.js';
import { EXPORT_METHOD_PATH, ExportLogsServiceResponse } from '../../../src/otlp/schema.js';
import { getStringAttribute } from '../../../src/pipeline/record.js';
import { rng } from './access-log.js';

export interface Delivery {
  /** `audit.record_id` of the first delivery. */
  recordId: string;
  count: number;
}

export interface DownstreamOptions {
  /** Seed of the failure decisions. */
  seed: number;
  /** Fraction of calls answered UNAVAILABLE (0 = never). */
  failRatio?: number;
  /** Port to listen on (0 = a free one). */
  port?: number;
}

const identity = (b: Buffer): Buffer => b;
const EMPTY_RESPONSE = Buffer.from(ExportLogsServiceResponse.encode({}).finish());

/** Emits `refused` (after a call was answered UNAVAILABLE) and `delivered` (after one was accepted). */
export class FlakyDownstream extends EventEmitter {
  /** test.id → what arrived. */
  readonly deliveries = new Map<string, Delivery>();
  /** test.ids seen with two different audit.record_ids (a resend must keep its id). */
  readonly idConflicts: string[] = [];
  /** Records without a test.id (none are expected). */
  foreign = 0;
  calls = 0;
  refused = 0;
  records = 0;
  failRatio: number;
  private failures = 0;
  private server: grpc.Server | undefined;
  private readonly random: () => number;
  port = 0;

  private constructor(opts: DownstreamOptions) {
    super();
    this.failRatio = opts.failRatio ?? 0;
    this.random = rng(opts.seed);
    this.port = opts.port ?? 0;
  }

  static async start(opts: DownstreamOptions): Promise<FlakyDownstream> {
    const d = new FlakyDownstream(opts);
    await d.up();
    return d;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get isUp(): boolean {
    return this.server !== undefined;
  }

  /** Answers UNAVAILABLE to the next `n` calls. */
  failNext(n: number): void {
    this.failures = n;
  }

  /** Distinct test.ids delivered. */
  get delivered(): number {
    return this.deliveries.size;
  }

  /** Listens (again) on the same port. */
  async up(): Promise<void> {
    if (this.server) return;
    const server = new grpc.Server({ 'grpc.max_receive_message_length': -1 });
    server.addService(
      {
        Export: {
          path: EXPORT_METHOD_PATH,
          requestStream: false,
          responseStream: false,
          requestSerialize: identity,
          requestDeserialize: identity,
          responseSerialize: identity,
          responseDeserialize: identity,
        },
      },
      { Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => this.onExport(call.request, cb) },
    );
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${this.port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    this.server = server;
  }

  /** Goes down at once: connections are cut, calls in flight fail (Vigil retries them). */
  async down(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    s?.forceShutdown();
  }

  private onExport(body: Buffer, cb: grpc.sendUnaryData<Buffer>): void {
    this.calls++;
    if (this.failures > 0 || (this.failRatio > 0 && this.random() < this.failRatio)) {
      if (this.failures > 0) this.failures--;
      this.refused++;
      cb({ code: grpc.status.UNAVAILABLE, details: 'reliability harness: downstream refusing' });
      this.emit('refused');
      return;
    }
    let n = 0;
    try {
      for (const rl of decodeProtobufRequest(body).resourceLogs) {
        for (const sl of rl.scopeLogs ?? []) {
          for (const log of sl.logRecords ?? []) {
            n++;
            const attrs = log.attributes ?? [];
            const id = getStringAttribute(attrs, 'test.id');
            if (id === undefined) {
              this.foreign++;
              continue;
            }
            const recordId = getStringAttribute(attrs, 'audit.record_id') ?? '';
            const seen = this.deliveries.get(id);
            if (!seen) this.deliveries.set(id, { recordId, count: 1 });
            else {
              seen.count++;
              if (seen.recordId !== recordId) this.idConflicts.push(id);
            }
          }
        }
      }
    } catch (err) {
      cb({ code: grpc.status.INVALID_ARGUMENT, details: `reliability harness cannot decode: ${(err as Error).message}` });
      return;
    }
    this.records += n;
    cb(null, EMPTY_RESPONSE);
    this.emit('delivered', n);
  }

  /** Deliveries beyond the first, summed over records. */
  duplicates(): number {
    let d = 0;
    for (const v of this.deliveries.values()) d += v.count - 1;
    return d;
  }

  async stop(): Promise<void> {
    await this.down();
    this.removeAllListeners();
  }
}
