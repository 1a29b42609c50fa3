// A record too large for one archive entry (docs/archive-format.md: a v2 body is
// at most 256 MiB) is refused before anything of its batch is written, with a
// non-retryable RESOURCE_EXHAUSTED naming the exporter and the fix; written, it
// would have been acknowledged and then refused by every reader as corrupt framing.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_RECORD_PAYLOAD } from '../../../src/exporters/worm/frame.js';
import { loadPublicKeys } from '../../../src/exporters/worm/keys.js';
import { LocalSource } from '../../../src/exporters/worm/source.js';
import { verifyArchive } from '../../../src/exporters/worm/verify.js';
import { Refusal } from '../../../src/pipeline/errors.js';
import { ENCODINGS, makeBatch, manualClock, newExporter, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('vigil-oversized-')));
afterEach(async () => cleanup());

describe.each(ENCODINGS)('worm encoding %s: a record larger than one entry', (encoding) => {
  it('is refused as a whole batch, not retryable; the archive holds only the other batches and verifies', async () => {
    const clock = manualClock();
    const w = newExporter(dir, { encoding }, { timers: false, clock: clock.now });
    await w.start();
    await w.consume(makeBatch(3));

    const oversized = makeBatch(2, { start: 3 });
    oversized[1].log.body = { stringValue: 'x'.repeat(MAX_RECORD_PAYLOAD) }; // the payload adds framing around it
    const err = await w.consume(oversized).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Refusal);
    const refusal = err as Refusal;
    expect(refusal.code).toBe('RESOURCE_EXHAUSTED');
    expect(refusal.retryable).toBe(false);
    expect(refusal.message).toMatch(/^exporters\.worm: record 1 of the request encodes to \d+ bytes, more than one archive entry holds/);
    expect(refusal.message).toContain('max_recv_msg_size_mib');

    await w.consume(makeBatch(2, { start: 5 }));
    await w.shutdown(new AbortController().signal);
    const r = await verifyArchive(new LocalSource(join(dir, 'archive')), { keys: await loadPublicKeys([join(dir, 'keys', 'archive.pub')]), now: clock.now() });
    expect(r.findings).toEqual([]);
    expect(r).toMatchObject({ ok: true, records: { checked: 5, valid: 5 } });
  });
});
