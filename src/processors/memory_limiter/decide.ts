// The memory limiter's decisions, as pure functions of measured values: easy to
// test, and the timer that feeds them stays a thin shell.
import type { Limits } from './config.js';

/** normal: accept; soft: refuse; hard: refuse and force a garbage collection. */
export type Pressure = 'normal' | 'soft' | 'hard';

export function pressureOf(usageBytes: number, limits: Limits): Pressure {
  if (usageBytes > limits.hardBytes) return 'hard';
  if (usageBytes > limits.softBytes) return 'soft';
  return 'normal';
}

export interface CheckOutcome {
  refusing: boolean;
  /** Set only when the state changed: what to log, once. */
  transition?: 'started_refusing' | 'recovered';
}

/**
 * Whether to force a collection before deciding: above the hard limit, and above
 * the soft limit once already refusing. While refusing almost nothing is
 * allocated, so V8 may never start a full collection by itself, and garbage
 * alone would keep the limiter refusing for good. The first crossing of the
 * soft limit refuses without one (the cheap case of a real spike).
 */
export function shouldCollect(wasRefusing: boolean, pressure: Pressure): boolean {
  return pressure === 'hard' || (pressure === 'soft' && wasRefusing);
}

/** The limiter's next state from the previous one and the (post-GC) pressure. */
export function nextState(wasRefusing: boolean, pressure: Pressure): CheckOutcome {
  const refusing = pressure !== 'normal';
  if (refusing === wasRefusing) return { refusing };
  return { refusing, transition: refusing ? 'started_refusing' : 'recovered' };
}

/** The retry hint given to refused clients: the state cannot change before the next check; at least a second. */
export function retryAfterMs(checkIntervalMs: number): number {
  return Math.max(1000, Math.ceil(checkIntervalMs / 1000) * 1000);
}

/** How many times its own size a request takes once decoded (the buffer itself, then the objects made from it). */
export const DECODED_BYTES_PER_WIRE_BYTE = 3;

/** Memory a request is expected to need while processed, from what is known before decoding it. */
export function requestEstimate(cost: { bytes: number; records: number }, bytesPerRecord: number): number {
  return cost.bytes * DECODED_BYTES_PER_WIRE_BYTE + cost.records * bytesPerRecord;
}

/**
 * Whether a request may come in: `never` when it alone needs more than the soft
 * limit (no retry can help), `later` when it would take usage past the hard
 * limit now (retry once memory is freed), else `now`.
 */
export function admission(estimateBytes: number, liveBytes: number, limits: Limits): 'now' | 'later' | 'never' {
  if (estimateBytes > limits.softBytes) return 'never';
  if (liveBytes + estimateBytes > limits.hardBytes) return 'later';
  return 'now';
}
