// Why a batch was not accepted. Receivers map these to OTLP status codes:
// the client's retry decision depends on it, so every refusal says whether
// retrying can help and, when throttling, after how long.

export type RefusalCode =
  | 'INVALID_ARGUMENT' // malformed input: never retried
  | 'UNAVAILABLE' // cannot take data now (queue full, disk full, shutting down): retry
  | 'RESOURCE_EXHAUSTED' // too large (not retryable) or throttled with a retry hint
  | 'UNAUTHENTICATED'
  | 'INTERNAL';

export class Refusal extends Error {
  readonly code: RefusalCode;
  /** A retry hint (RetryInfo / Retry-After); only meaningful for retryable refusals. */
  readonly retryAfterMs: number | undefined;

  constructor(code: RefusalCode, message: string, retryAfterMs?: number) {
    super(message);
    this.name = 'Refusal';
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }

  get retryable(): boolean {
    return this.code === 'UNAVAILABLE' || (this.code === 'RESOURCE_EXHAUSTED' && this.retryAfterMs !== undefined);
  }

  static unavailable(message: string, retryAfterMs = 1000): Refusal {
    return new Refusal('UNAVAILABLE', message, retryAfterMs);
  }

  static invalid(message: string): Refusal {
    return new Refusal('INVALID_ARGUMENT', message);
  }
}

/** Node's errors for a buffer or string past its maximum size: the same request fails the same way every time. */
const TOO_LARGE_CODES = new Set(['ERR_BUFFER_TOO_LARGE', 'ERR_STRING_TOO_LONG']);

/**
 * Any thrown value as a Refusal: unknown failures are retryable, since the data
 * was not stored; except a request too large to be held at all (a buffer or
 * string past Node's maximum), which no retry can cure.
 */
export function asRefusal(err: unknown): Refusal {
  if (err instanceof Refusal) return err;
  const e = err as NodeJS.ErrnoException | undefined;
  if (e?.code === 'ENOSPC' || e?.code === 'EDQUOT') return Refusal.unavailable('local storage is full', 5000);
  if ((e?.code !== undefined && TOO_LARGE_CODES.has(e.code)) || (err instanceof RangeError && /Invalid (string|array|typed array) length/.test(err.message))) {
    return new Refusal('RESOURCE_EXHAUSTED', `request too large to process (${e?.message ?? String(err)}): send fewer records per request`);
  }
  return Refusal.unavailable(`internal error: ${e?.message ?? String(err)}`);
}
