// retry_on_failure: exponential backoff with jitter (the Collector's
// exporterhelper semantics), honouring the server's own hint (gRPC RetryInfo,
// HTTP Retry-After) when it asks for a longer wait, and giving up once
// max_elapsed_time would be exceeded (0 = never give up).
import { setTimeout as sleep } from 'node:timers/promises';
import type { RetryOnFailureConfig } from './config.js';
import type { SendOutcome } from './sender.js';

/** Successive waits: initial_interval × multiplier^n, capped at max_interval, each randomised by ±randomization_factor. */
export class Backoff {
  private current: number;

  constructor(
    private readonly policy: RetryOnFailureConfig,
    private readonly random: () => number = Math.random,
  ) {
    this.current = policy.initial_interval;
  }

  next(): number {
    const delta = this.policy.randomization_factor * this.current;
    const wait = this.current - delta + this.random() * 2 * delta;
    this.current = Math.min(this.current * this.policy.multiplier, this.policy.max_interval);
    return Math.max(0, Math.round(wait));
  }
}

/** Milliseconds asked for by an HTTP Retry-After header (delay-seconds or an HTTP-date), or undefined. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export type DeliveryResult =
  | { kind: 'sent'; attempts: number; rejected: number; message?: string }
  | { kind: 'failed'; attempts: number; permanent: boolean; reason: string }
  /** The downstream refused the request for its size: the caller splits it (retrying it whole cannot help). */
  | { kind: 'too_large'; attempts: number; reason: string }
  | { kind: 'aborted'; attempts: number };

export interface DeliveryOptions {
  policy: RetryOnFailureConfig;
  /** Aborting stops further attempts (the caller keeps the batch); the attempt in flight may finish. */
  retrySignal: AbortSignal;
  /** Aborting cancels the attempt in flight. */
  sendSignal: AbortSignal;
  /** Told before each wait, for logging. */
  onRetry?: (info: { attempt: number; waitMs: number; reason: string }) => void;
  now?: () => number;
  random?: () => number;
}

/** Sends until delivered, permanently refused, out of retry time, or aborted. Never rejects. */
export async function deliverWithRetry(
  send: (signal: AbortSignal) => Promise<SendOutcome>,
  opts: DeliveryOptions,
): Promise<DeliveryResult> {
  const now = opts.now ?? Date.now;
  const started = now();
  const backoff = new Backoff(opts.policy, opts.random);
  const waitSignal = AbortSignal.any([opts.retrySignal, opts.sendSignal]);
  for (let attempt = 1; ; attempt++) {
    if (opts.sendSignal.aborted || opts.retrySignal.aborted) return { kind: 'aborted', attempts: attempt - 1 };
    const outcome = await send(opts.sendSignal);
    switch (outcome.kind) {
      case 'ok':
        return outcome.message === undefined
          ? { kind: 'sent', attempts: attempt, rejected: outcome.rejected }
          : { kind: 'sent', attempts: attempt, rejected: outcome.rejected, message: outcome.message };
      case 'permanent':
        return { kind: 'failed', attempts: attempt, permanent: true, reason: outcome.reason };
      case 'too_large':
        return { kind: 'too_large', attempts: attempt, reason: outcome.reason };
      case 'aborted':
        return { kind: 'aborted', attempts: attempt };
      case 'retryable': {
        if (!opts.policy.enabled) {
          return { kind: 'failed', attempts: attempt, permanent: false, reason: `${outcome.reason} (retry_on_failure is disabled)` };
        }
        const wait = Math.max(backoff.next(), outcome.retryAfterMs ?? 0);
        const elapsed = now() - started;
        const limit = opts.policy.max_elapsed_time;
        if (limit > 0 && elapsed + wait > limit) {
          return {
            kind: 'failed',
            attempts: attempt,
            permanent: false,
            reason: `${outcome.reason} (no more retries: ${attempt} attempts, max_elapsed_time ${limit / 1000}s)`,
          };
        }
        if (opts.retrySignal.aborted) return { kind: 'aborted', attempts: attempt };
        opts.onRetry?.({ attempt, waitMs: wait, reason: outcome.reason });
        try {
          await sleep(wait, undefined, { signal: waitSignal });
        } catch {
          return { kind: 'aborted', attempts: attempt };
        }
      }
    }
  }
}
