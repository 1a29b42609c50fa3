// What a failure tells the client: an error that can never succeed (a buffer or
// string past Node's maximum, as a Buffer.concat of a huge request's archive
// lines) must not be retryable, or a client that obeys retries it forever.
import { describe, expect, it } from 'vitest';
import { constants } from 'node:buffer';
import { Refusal, asRefusal } from '../../src/pipeline/errors.js';

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('asRefusal', () => {
  it('makes errors no retry can cure non-retryable', () => {
    const tooLong = thrown(() => 'x'.repeat(constants.MAX_STRING_LENGTH + 1));
    const r = asRefusal(tooLong);
    expect(r.code).toBe('RESOURCE_EXHAUSTED');
    expect(r.retryable).toBe(false);
    expect(r.message).toMatch(/send fewer records per request/);
    const big = Object.assign(new RangeError('Cannot create a Buffer larger than 4294967296 bytes'), { code: 'ERR_BUFFER_TOO_LARGE' });
    expect(asRefusal(big).retryable).toBe(false);
  });

  it('keeps other unknown failures retryable (the data was not stored) and full disks retryable with a delay', () => {
    expect(asRefusal(new Error('EIO')).retryable).toBe(true);
    expect(asRefusal(Object.assign(new Error('no space'), { code: 'ENOSPC' }))).toMatchObject({ code: 'UNAVAILABLE', retryAfterMs: 5000 });
    const r = Refusal.invalid('bad');
    expect(asRefusal(r)).toBe(r);
  });
});
