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

/** Any thrown value as a Refusal: unknown failures are retryable, since the data was not stored. */
export function asRefusal(err: unknown): Refusal {
  if (err instanceof Refusal) return err;
  const e = err as NodeJS.ErrnoException | undefined;
  if (e?.code === 'ENOSPC' || e?.code === 'EDQUOT') return Refusal.unavailable('local storage is full', 5000);
  return Refusal.unavailable(`internal error: ${e?.message ?? String(err)}`);
}
