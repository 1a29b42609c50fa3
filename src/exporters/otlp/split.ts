// Cutting a batch into requests the downstream accepts: at most
// `max_request_bytes` encoded (before compression) and at most
// `max_batch_records` records each. Pure: the exporter decides what to do with
// the pieces and with records that cannot fit on their own.
import type { LogBatch } from '../../pipeline/record.js';

export interface RequestLimits {
  /** Largest encoded request, in bytes (before compression). */
  maxBytes: number;
  /** Most records in one request; 0 = no limit. */
  maxRecords: number;
  /** A single record still goes alone up to this size (default maxBytes): the configured limit, when maxBytes was lowered below it. */
  singleMaxBytes?: number;
}

/** One request as it goes on the wire, and how many records it holds. */
export interface Chunk {
  payload: Uint8Array;
  records: number;
}

export interface SplitResult {
  /** In the batch's record order. */
  chunks: Chunk[];
  /** Records that alone encode to more than singleMaxBytes (maxBytes): they cannot be sent within the limit. */
  oversize: { bytes: number }[];
}

/**
 * Splits `batch` into chunks within `limits`. A batch that fits is encoded once;
 * one that does not is cut into as many equal parts as its size calls for, and
 * any part still too large (records differ in size) is cut again.
 */
export function splitToFit(batch: LogBatch, encode: (b: LogBatch) => Uint8Array, limits: RequestLimits): SplitResult {
  const out: SplitResult = { chunks: [], oversize: [] };
  fit(batch, encode, limits, out);
  return out;
}

function fit(batch: LogBatch, encode: (b: LogBatch) => Uint8Array, limits: RequestLimits, out: SplitResult): void {
  if (batch.length === 0) return;
  if (limits.maxRecords > 0 && batch.length > limits.maxRecords) {
    for (const part of slices(batch, Math.ceil(batch.length / limits.maxRecords))) fit(part, encode, limits, out);
    return;
  }
  const payload = encode(batch);
  if (payload.length <= limits.maxBytes) {
    out.chunks.push({ payload, records: batch.length });
    return;
  }
  if (batch.length === 1) {
    if (payload.length <= (limits.singleMaxBytes ?? limits.maxBytes)) out.chunks.push({ payload, records: 1 });
    else out.oversize.push({ bytes: payload.length });
    return;
  }
  const parts = Math.min(batch.length, Math.max(2, Math.ceil(payload.length / limits.maxBytes)));
  for (const part of slices(batch, parts)) fit(part, encode, limits, out);
}

/** `n` consecutive slices of near-equal record counts. */
export function slices<T>(items: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  const size = items.length / n;
  for (let i = 0; i < n; i++) {
    const part = items.slice(Math.round(i * size), Math.round((i + 1) * size));
    if (part.length > 0) out.push(part);
  }
  return out;
}
