// What a downstream answer means, per the OTLP specification
// (protocol/exporter retry rules), as pure functions of what came back.
import { gunzipSync } from 'node:zlib';
import { ExportLogsServiceResponse, RETRY_INFO_TYPE_URL, RetryInfo, RpcStatus } from '../../otlp/schema.js';
import { toNumber, type Long } from '../../pipeline/record.js';
import { parseRetryAfter } from './retry.js';
import type { SendOutcome } from './sender.js';

/** gRPC status codes (grpc/grpc doc/statuscodes.md). */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const GRPC_NAMES = Object.fromEntries(Object.entries(GrpcCode).map(([k, v]) => [v, k])) as Record<number, string>;

/** Retryable whatever the details say; RESOURCE_EXHAUSTED only with RetryInfo (the server can recover). */
const GRPC_RETRYABLE = new Set<number>([
  GrpcCode.CANCELLED,
  GrpcCode.DEADLINE_EXCEEDED,
  GrpcCode.ABORTED,
  GrpcCode.OUT_OF_RANGE,
  GrpcCode.UNAVAILABLE,
  GrpcCode.DATA_LOSS,
]);

const MAX_REASON = 300;

function clip(s: string): string {
  return s.length > MAX_REASON ? `${s.slice(0, MAX_REASON)}…` : s;
}

interface DecodedStatus {
  code?: number;
  message?: string;
  // protobufjs names Any's field typeUrl when reflecting, type_url in pbjs static code.
  details?: { typeUrl?: string; type_url?: string; value?: Uint8Array }[];
}

interface DecodedDuration {
  seconds?: Long | number;
  nanos?: number;
}

/** The RetryInfo delay in a google.rpc.Status (the `grpc-status-details-bin` trailer), in ms, or undefined. */
export function retryDelayFromStatusDetails(bin: Uint8Array | undefined): number | undefined {
  if (!bin || bin.length === 0) return undefined;
  try {
    const status = RpcStatus.decode(bin) as unknown as DecodedStatus;
    for (const d of status.details ?? []) {
      if ((d.typeUrl ?? d.type_url) !== RETRY_INFO_TYPE_URL || !d.value) continue;
      const delay = (RetryInfo.decode(d.value) as unknown as { retryDelay?: DecodedDuration }).retryDelay;
      if (!delay) return 0;
      const ms = toNumber(delay.seconds ?? 0) * 1000 + (delay.nanos ?? 0) / 1e6;
      return Number.isFinite(ms) && ms > 0 ? Math.ceil(ms) : 0;
    }
  } catch {
    // An unreadable trailer carries no hint; the status code still decides.
  }
  return undefined;
}

export function classifyGrpcStatus(code: number, details: string, statusDetailsBin?: Uint8Array): SendOutcome {
  const name = GRPC_NAMES[code] ?? `code ${code}`;
  const reason = clip(details ? `gRPC ${name}: ${details}` : `gRPC ${name}`);
  const retryAfterMs = retryDelayFromStatusDetails(statusDetailsBin);
  const retryable = GRPC_RETRYABLE.has(code) || (code === GrpcCode.RESOURCE_EXHAUSTED && retryAfterMs !== undefined);
  // Without RetryInfo, RESOURCE_EXHAUSTED is how gRPC servers (grpc-go, grpc-js, the Collector) refuse a message over their size limit.
  if (code === GrpcCode.RESOURCE_EXHAUSTED && !retryable) return { kind: 'too_large', reason };
  if (!retryable) return { kind: 'permanent', reason };
  return retryAfterMs === undefined ? { kind: 'retryable', reason } : { kind: 'retryable', reason, retryAfterMs };
}

interface PartialSuccess {
  rejected: number;
  message?: string;
}

function partialFrom(rejected: unknown, message: unknown): PartialSuccess {
  const n = typeof rejected === 'string' ? Number(rejected) : typeof rejected === 'number' ? rejected : toNumber(rejected as Long | undefined);
  const out: PartialSuccess = { rejected: Number.isFinite(n) && n > 0 ? n : 0 };
  if (typeof message === 'string' && message !== '') out.message = clip(message);
  return out;
}

/** The partial success in a protobuf ExportLogsServiceResponse; an unreadable body counts as full success. */
export function partialSuccessFromProto(body: Uint8Array | undefined): PartialSuccess {
  if (!body || body.length === 0) return { rejected: 0 };
  try {
    const r = ExportLogsServiceResponse.decode(body) as unknown as { partialSuccess?: { rejectedLogRecords?: Long; errorMessage?: string } };
    return partialFrom(r.partialSuccess?.rejectedLogRecords, r.partialSuccess?.errorMessage);
  } catch {
    return { rejected: 0 };
  }
}

export function partialSuccessFromJson(body: Uint8Array | undefined): PartialSuccess {
  if (!body || body.length === 0) return { rejected: 0 };
  try {
    const r = JSON.parse(Buffer.from(body).toString('utf8')) as Record<string, Record<string, unknown> | undefined>;
    const p = r.partialSuccess ?? r.partial_success;
    if (!p || typeof p !== 'object') return { rejected: 0 };
    return partialFrom(p.rejectedLogRecords ?? p.rejected_log_records, p.errorMessage ?? p.error_message);
  } catch {
    return { rejected: 0 };
  }
}

export function okOutcome(p: PartialSuccess): SendOutcome {
  return p.message === undefined ? { kind: 'ok', rejected: p.rejected } : { kind: 'ok', rejected: p.rejected, message: p.message };
}

/** OTLP/HTTP: retry on 429, 502, 503, 504 (honouring Retry-After); 413 asks for smaller requests; any other failure is permanent. */
const HTTP_RETRYABLE = new Set([429, 502, 503, 504]);

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function header(h: HttpAnswer['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The body, gunzipped if the server compressed it (bounded, so a hostile answer cannot balloon). */
function plainBody(a: HttpAnswer): Buffer {
  if (header(a.headers, 'content-encoding')?.toLowerCase() !== 'gzip') return a.body;
  try {
    return gunzipSync(a.body, { maxOutputLength: 4 * 1024 * 1024 });
  } catch {
    return Buffer.alloc(0);
  }
}

/** The message of an error body: a google.rpc.Status (protobuf or JSON), or text. */
function errorMessage(body: Buffer, contentType: string): string {
  if (body.length === 0) return '';
  if (contentType.includes('protobuf')) {
    try {
      return (RpcStatus.decode(body) as unknown as DecodedStatus).message ?? '';
    } catch {
      return '';
    }
  }
  const text = body.subarray(0, 4096).toString('utf8');
  if (contentType.includes('json')) {
    try {
      const m = (JSON.parse(body.toString('utf8')) as { message?: unknown }).message;
      if (typeof m === 'string') return m;
    } catch {
      // fall through to the raw text
    }
  }
  return text.trim();
}

export function classifyHttpAnswer(a: HttpAnswer, now = Date.now()): SendOutcome {
  const contentType = (header(a.headers, 'content-type') ?? '').toLowerCase();
  const body = plainBody(a);
  if (a.status >= 200 && a.status < 300) {
    return okOutcome(contentType.includes('json') ? partialSuccessFromJson(body) : partialSuccessFromProto(body));
  }
  const msg = errorMessage(body, contentType);
  const reason = clip(msg ? `HTTP ${a.status}: ${msg}` : `HTTP ${a.status}`);
  if (a.status === 413) return { kind: 'too_large', reason };
  if (!HTTP_RETRYABLE.has(a.status)) return { kind: 'permanent', reason };
  const retryAfterMs = parseRetryAfter(header(a.headers, 'retry-after'), now);
  return retryAfterMs === undefined ? { kind: 'retryable', reason } : { kind: 'retryable', reason, retryAfterMs };
}
