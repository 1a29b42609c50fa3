// How a refusal or a result is told to an OTLP client, as the OTLP
// specification says (pure functions, shared by both transports):
// - gRPC: the Refusal's code as the status; for retryable refusals a
//   google.rpc.Status carrying google.rpc.RetryInfo in the
//   `grpc-status-details-bin` trailer (RESOURCE_EXHAUSTED without RetryInfo
//   means "do not retry").
// - HTTP: 400 malformed, 413 too large, 429/503 retryable with Retry-After,
//   the body a google.rpc.Status in the request's encoding.
// - Success: ExportLogsServiceResponse, with partial_success when records were rejected.
import { status as GrpcStatus } from '@grpc/grpc-js';
import Long from 'long';
import type { Refusal, RefusalCode } from '../../pipeline/errors.js';
import { ExportLogsServiceResponse, RETRY_INFO_TYPE_URL, RetryInfo, RpcStatus } from '../../otlp/schema.js';

export type Encoding = 'protobuf' | 'json';

export const CONTENT_TYPES: Record<Encoding, string> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};

/** What an Export call achieved: records that went into the pipeline and those rejected one by one. */
export interface ExportResult {
  accepted: number;
  rejected: number;
  errorMessage?: string;
}

export function grpcCodeOf(code: RefusalCode): GrpcStatus {
  switch (code) {
    case 'INVALID_ARGUMENT':
      return GrpcStatus.INVALID_ARGUMENT;
    case 'UNAVAILABLE':
      return GrpcStatus.UNAVAILABLE;
    case 'RESOURCE_EXHAUSTED':
      return GrpcStatus.RESOURCE_EXHAUSTED;
    case 'UNAUTHENTICATED':
      return GrpcStatus.UNAUTHENTICATED;
    case 'INTERNAL':
      return GrpcStatus.INTERNAL;
  }
}

/** The HTTP status for a refusal (OTLP/HTTP: only 429, 502, 503 and 504 are retried by clients). */
export function httpStatusOf(refusal: Refusal): number {
  switch (refusal.code) {
    case 'INVALID_ARGUMENT':
      return 400;
    case 'UNAVAILABLE':
      return 503;
    case 'RESOURCE_EXHAUSTED':
      return refusal.retryable ? 429 : 413;
    case 'UNAUTHENTICATED':
      return 401;
    case 'INTERNAL':
      return 500;
  }
}

/** The delay to advertise (RetryInfo / Retry-After), only for refusals a retry can cure. */
export function retryDelayOf(refusal: Refusal): number | undefined {
  if (!refusal.retryable) return undefined;
  return refusal.retryAfterMs ?? 1000;
}

/** Retry-After is in whole seconds; round up so the client never comes back early. */
export function retryAfterHeader(delayMs: number): string {
  return String(Math.max(0, Math.ceil(delayMs / 1000)));
}

/** A google.rpc.Status, with a RetryInfo detail when a retry delay is given. */
export function encodeRpcStatus(code: number, message: string, retryDelayMs?: number): Uint8Array {
  // protobufjs resolves google.protobuf.Any to its built-in definition, whose field
  // keeps the snake_case name type_url; give both spellings so either naming encodes.
  const details =
    retryDelayMs === undefined
      ? []
      : [{ type_url: RETRY_INFO_TYPE_URL, typeUrl: RETRY_INFO_TYPE_URL, value: RetryInfo.encode({ retryDelay: durationOf(retryDelayMs) }).finish() }];
  return RpcStatus.encode({ code, message, details }).finish();
}

/** The same Status in the protobuf JSON mapping (Any as `@type` + fields, Duration as "1.5s"). */
export function rpcStatusJson(code: number, message: string, retryDelayMs?: number): string {
  const status: Record<string, unknown> = { code, message };
  if (retryDelayMs !== undefined) {
    status.details = [{ '@type': RETRY_INFO_TYPE_URL, retryDelay: `${(retryDelayMs / 1000).toFixed(3).replace(/\.?0+$/, '')}s` }];
  }
  return JSON.stringify(status);
}

export function encodeRpcStatusAs(encoding: Encoding, code: number, message: string, retryDelayMs?: number): Uint8Array | string {
  return encoding === 'json' ? rpcStatusJson(code, message, retryDelayMs) : encodeRpcStatus(code, message, retryDelayMs);
}

function durationOf(ms: number): { seconds: Long; nanos: number } {
  const whole = Math.floor(ms / 1000);
  return { seconds: Long.fromNumber(whole), nanos: Math.round((ms - whole * 1000) * 1e6) };
}

function partialSuccess(result: ExportResult): { rejectedLogRecords: Long; errorMessage: string } | undefined {
  if (result.rejected === 0) return undefined;
  return { rejectedLogRecords: Long.fromNumber(result.rejected), errorMessage: result.errorMessage ?? '' };
}

export function encodeExportResponse(result: ExportResult): Uint8Array {
  const ps = partialSuccess(result);
  return ExportLogsServiceResponse.encode(ps ? { partialSuccess: ps } : {}).finish();
}

/** OTLP/JSON: int64 as a decimal string, lowerCamelCase names. */
export function exportResponseJson(result: ExportResult): string {
  const ps = partialSuccess(result);
  if (!ps) return '{}';
  return JSON.stringify({ partialSuccess: { rejectedLogRecords: ps.rejectedLogRecords.toString(), errorMessage: ps.errorMessage } });
}

export function encodeExportResponseAs(encoding: Encoding, result: ExportResult): Uint8Array | string {
  return encoding === 'json' ? exportResponseJson(result) : encodeExportResponse(result);
}
