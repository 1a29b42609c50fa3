// ExportLogsServiceRequest ⇄ the internal record batch.
// Decoding flattens resource → scope → record into VigilRecords that share their
// resource and scope objects; encoding regroups them by those shared objects, so
// a batch that passed through untouched goes out in the shape it came in.
import { ExportLogsServiceRequest } from './schema.js';
import type {
  InstrumentationScope,
  LogBatch,
  Immutable,
  LogRecord,
  ReadonlyBatch,
  Resource,
  ResourceContext,
  ScopeContext,
  VigilRecord,
} from '../pipeline/record.js';
import { Refusal } from '../pipeline/errors.js';
import { assertSameMeaning, encodeBatchSpliced, encodeRecordSpliced, encodeRecordsSpliced, spliceCheckEnabled } from './wire-encode.js';

export interface ScopeLogsMessage {
  scope?: InstrumentationScope | null;
  logRecords: LogRecord[];
  schemaUrl?: string;
}

export interface ResourceLogsMessage {
  resource?: Resource | null;
  scopeLogs: ScopeLogsMessage[];
  schemaUrl?: string;
}

export interface ExportRequestMessage {
  resourceLogs: ResourceLogsMessage[];
}

/** The records of a request, and those that were individually unusable (OTLP partial success). */
export interface DecodedBatch {
  records: LogBatch;
  rejected: number;
  rejectReason?: string;
}

/** Why a single record cannot be accepted, or undefined when it can. */
export function recordProblem(log: LogRecord): string | undefined {
  const t = log.traceId;
  if (t && t.length !== 0 && t.length !== 16) return `trace_id must be 16 bytes, got ${t.length}`;
  const s = log.spanId;
  if (s && s.length !== 0 && s.length !== 8) return `span_id must be 8 bytes, got ${s.length}`;
  return undefined;
}

export function requestToBatch(req: ExportRequestMessage): DecodedBatch {
  const records: VigilRecord[] = [];
  let rejected = 0;
  let rejectReason: string | undefined;
  for (const rl of req.resourceLogs ?? []) {
    const resource: ResourceContext = {
      resource: rl.resource ?? { attributes: [] },
      schemaUrl: rl.schemaUrl ?? '',
    };
    if (!resource.resource.attributes) resource.resource.attributes = [];
    for (const sl of rl.scopeLogs ?? []) {
      const scope: ScopeContext = { scope: sl.scope ?? {}, schemaUrl: sl.schemaUrl ?? '' };
      for (const log of sl.logRecords ?? []) {
        const problem = recordProblem(log);
        if (problem) {
          rejected++;
          rejectReason ??= problem;
          continue;
        }
        if (!log.attributes) log.attributes = [];
        records.push({ resource, scope, log });
      }
    }
  }
  return rejectReason === undefined ? { records, rejected } : { records, rejected, rejectReason };
}

/**
 * Regroups records under their (shared) resource and scope, preserving record
 * order within each group. The request holds the records themselves, not
 * copies: a read-only batch gives a read-only request.
 */
export function batchToRequest(batch: LogBatch): ExportRequestMessage;
export function batchToRequest(batch: ReadonlyBatch): Immutable<ExportRequestMessage>;
export function batchToRequest(input: ReadonlyBatch): Immutable<ExportRequestMessage> {
  // The regrouping only reads the records; the overloads say what the caller may do with the result.
  const batch = input as LogBatch;
  const byResource = new Map<ResourceContext, { rl: ResourceLogsMessage; byScope: Map<ScopeContext, ScopeLogsMessage> }>();
  const resourceLogs: ResourceLogsMessage[] = [];
  for (const rec of batch) {
    let r = byResource.get(rec.resource);
    if (!r) {
      const rl: ResourceLogsMessage = { resource: rec.resource.resource, scopeLogs: [], schemaUrl: rec.resource.schemaUrl };
      r = { rl, byScope: new Map() };
      byResource.set(rec.resource, r);
      resourceLogs.push(rl);
    }
    let sl = r.byScope.get(rec.scope);
    if (!sl) {
      sl = { scope: rec.scope.scope, logRecords: [], schemaUrl: rec.scope.schemaUrl };
      r.byScope.set(rec.scope, sl);
      r.rl.scopeLogs.push(sl);
    }
    sl.logRecords.push(rec.log);
  }
  return { resourceLogs };
}

/** Decodes a protobuf ExportLogsServiceRequest; malformed input is an INVALID_ARGUMENT refusal. */
export function decodeProtobufRequest(bytes: Uint8Array): ExportRequestMessage {
  try {
    return ExportLogsServiceRequest.decode(bytes) as unknown as ExportRequestMessage;
  } catch (err) {
    throw Refusal.invalid(`malformed protobuf ExportLogsServiceRequest: ${(err as Error).message}`);
  }
}

export function encodeProtobufRequest(req: Immutable<ExportRequestMessage>): Uint8Array {
  return ExportLogsServiceRequest.encode(req as never).finish();
}

/**
 * The batch as protobuf: records decoded from protobuf and only appended to
 * since are spliced from their original bytes (wire-encode.ts), the rest
 * encoded from their objects. `encodeProtobufRequest(batchToRequest(batch))` is
 * the object path, for when the bytes must follow the objects alone.
 */
export function encodeBatchProtobuf(batch: ReadonlyBatch): Uint8Array {
  const bytes = encodeBatchSpliced(batch);
  if (spliceCheckEnabled()) assertSameMeaning(bytes, encodeProtobufRequest(batchToRequest(batch)));
  return bytes;
}

/**
 * One record as a stand-alone one-record ExportLogsServiceRequest (its resource and scope
 * included): the payload of a v2 archive entry, readable without its neighbours.
 */
export function encodeRecordRequest(rec: Immutable<VigilRecord>): Uint8Array {
  const bytes = encodeRecordSpliced(rec);
  if (spliceCheckEnabled()) assertSameMeaning(bytes, encodeProtobufRequest(batchToRequest([rec] as ReadonlyBatch)));
  return bytes;
}

/**
 * Every record of the batch as its own one-record request (encodeRecordRequest's
 * bytes for each), back to back in one buffer: record i is
 * `bytes.subarray(ends[i - 1] ?? 0, ends[i])`. The worm's entries, one allocation per batch.
 */
export function encodeRecordRequests(batch: ReadonlyBatch): { bytes: Buffer; ends: number[] } {
  const out = encodeRecordsSpliced(batch);
  if (spliceCheckEnabled()) {
    for (let i = 0; i < batch.length; i++) assertSameMeaning(out.bytes.subarray(i === 0 ? 0 : out.ends[i - 1], out.ends[i]), encodeProtobufRequest(batchToRequest([batch[i]] as ReadonlyBatch)));
  }
  return out;
}

export function countRecords(req: ExportRequestMessage): number {
  let n = 0;
  for (const rl of req.resourceLogs ?? []) for (const sl of rl.scopeLogs ?? []) n += sl.logRecords?.length ?? 0;
  return n;
}
