import { describe, expect, it } from 'vitest';
import { retryOnFailureSchema } from '../../../src/exporters/otlp/config.js';
import { Backoff, deliverWithRetry, parseRetryAfter } from '../../../src/exporters/otlp/retry.js';
import type { SendOutcome } from '../../../src/exporters/otlp/sender.js';
import { classifyGrpcStatus, classifyHttpAnswer } from '../../../src/exporters/otlp/status.js';

const policy = (p: Record<string, unknown> = {}) => retryOnFailureSchema.parse(p);

describe('backoff', () => {
  it('grows by the multiplier up to max_interval, jittered within ±randomization_factor', () => {
    const b = new Backoff(policy({ randomization_factor: 0 }));
    expect(Array.from({ length: 8 }, () => b.next())).toEqual([5000, 7500, 11250, 16875, 25313, 30000, 30000, 30000]);
    const low = new Backoff(policy(), () => 0);
    const high = new Backoff(policy(), () => 0.999999);
    expect(low.next()).toBe(2500);
    expect(high.next()).toBe(7500);
  });

  it('parses Retry-After seconds and HTTP dates', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);
    expect(parseRetryAfter('30', now)).toBe(30_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 2026 12:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('what an answer means (OTLP spec)', () => {
  it('gRPC: retryable codes, RESOURCE_EXHAUSTED only with RetryInfo (without it: too large, to be split)', () => {
    for (const code of [1, 4, 10, 11, 14, 15]) expect(classifyGrpcStatus(code, '').kind).toBe('retryable');
    for (const code of [2, 3, 5, 6, 7, 9, 12, 13, 16]) expect(classifyGrpcStatus(code, '').kind).toBe('permanent');
    expect(classifyGrpcStatus(8, 'Received message larger than max (5 vs. 4)')).toEqual({ kind: 'too_large', reason: 'gRPC RESOURCE_EXHAUSTED: Received message larger than max (5 vs. 4)' });
    expect(classifyGrpcStatus(3, 'bad')).toEqual({ kind: 'permanent', reason: 'gRPC INVALID_ARGUMENT: bad' });
  });

  it('HTTP: 429, 502, 503, 504 retryable; 413 too large; other failures permanent; 2xx ok', () => {
    const a = (status: number) => classifyHttpAnswer({ status, headers: {}, body: Buffer.alloc(0) });
    for (const s of [429, 502, 503, 504]) expect(a(s).kind).toBe('retryable');
    expect(a(413).kind).toBe('too_large');
    for (const s of [400, 401, 403, 404, 415, 500, 501]) expect(a(s).kind).toBe('permanent');
    for (const s of [200, 202, 204]) expect(a(s)).toEqual({ kind: 'ok', rejected: 0 });
    expect(classifyHttpAnswer({ status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('not json') })).toEqual({ kind: 'ok', rejected: 0 });
  });
});

describe('deliverWithRetry', () => {
  /** Answers from a script, recording when each attempt came. */
  function scripted(outcomes: SendOutcome[]) {
    const calls: number[] = [];
    return {
      calls,
      send: async () => {
        calls.push(calls.length);
        return outcomes.shift() ?? { kind: 'ok', rejected: 0 };
      },
    };
  }
  const signals = () => ({ retrySignal: new AbortController().signal, sendSignal: new AbortController().signal });
  const retryable: SendOutcome = { kind: 'retryable', reason: 'UNAVAILABLE' };

  it('waits the longer of its backoff and the server hint', async () => {
    const waits: number[] = [];
    const s = scripted([{ ...retryable, retryAfterMs: 30 }, { ...retryable, retryAfterMs: 1 }]);
    const r = await deliverWithRetry(s.send, {
      policy: policy({ initial_interval: '10ms', max_interval: '10ms', randomization_factor: 0 }),
      ...signals(),
      onRetry: ({ waitMs }) => waits.push(waitMs),
    });
    expect(r).toEqual({ kind: 'sent', attempts: 3, rejected: 0 });
    expect(waits).toEqual([30, 10]);
  });

  it('gives up when the next wait would pass max_elapsed_time, and at once when retries are disabled', async () => {
    let t = 0;
    const s = scripted([retryable, retryable, retryable, retryable]);
    const r = await deliverWithRetry(s.send, {
      policy: policy({ initial_interval: '1ms', max_interval: '1ms', max_elapsed_time: '100ms', randomization_factor: 0 }),
      ...signals(),
      now: () => (t += 40),
    });
    expect(r.kind).toBe('failed');
    // The clock reads 40, 80, 120, 160 ms: elapsed 40 and 80 leave room for a 1 ms wait, 120 does not.
    expect(r).toMatchObject({ permanent: false, attempts: 3 });
    const off = await deliverWithRetry(scripted([retryable]).send, { policy: policy({ enabled: false }), ...signals() });
    expect(off).toMatchObject({ kind: 'failed', attempts: 1, permanent: false });
  });

  it('stops between attempts when the retry signal is aborted', async () => {
    const retry = new AbortController();
    const s = scripted([retryable]);
    const pending = deliverWithRetry(s.send, {
      policy: policy({ initial_interval: '1h', max_interval: '1h', max_elapsed_time: 0 }),
      retrySignal: retry.signal,
      sendSignal: new AbortController().signal,
      onRetry: () => retry.abort(),
    });
    expect(await pending).toEqual({ kind: 'aborted', attempts: 1 });
  });
});
