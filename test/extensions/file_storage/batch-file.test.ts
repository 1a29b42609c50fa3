import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HEADER_SIZE, batchFileName, decodeBatchFile, encodeBatchHeader, parseBatchFileName } from '../../../src/extensions/file_storage/batch-file.js';

const file = (payload: Uint8Array, records: number) => Buffer.concat([encodeBatchHeader(payload, records), payload]);
const arbBatch = fc.record({ payload: fc.uint8Array({ maxLength: 2048 }), records: fc.nat({ max: 0xffff_ffff }) });
// Fixed seed: the properties are exhaustive in spirit, the run is reproducible.
const params = { seed: 20260101, numRuns: 200 };

describe('queue batch file format', () => {
  it('round-trips payload and record count', () => {
    fc.assert(
      fc.property(arbBatch, ({ payload, records }) => {
        const d = decodeBatchFile(file(payload, records));
        expect(d.ok).toBe(true);
        if (d.ok) {
          expect(d.records).toBe(records);
          expect(Buffer.from(d.payload).equals(Buffer.from(payload))).toBe(true);
        }
      }),
      params,
    );
  });

  it('rejects every truncation (a torn write)', () => {
    fc.assert(
      fc.property(arbBatch, fc.nat(), ({ payload, records }, cut) => {
        const f = file(payload, records);
        const torn = f.subarray(0, cut % f.length);
        expect(decodeBatchFile(torn).ok).toBe(false);
      }),
      params,
    );
  });

  it('rejects any single flipped bit and a zero-filled tail', () => {
    fc.assert(
      fc.property(arbBatch, fc.nat(), fc.nat({ max: 7 }), ({ payload, records }, at, bit) => {
        const f = file(payload, records);
        f[at % f.length] ^= 1 << bit;
        expect(decodeBatchFile(f).ok).toBe(false);
      }),
      params,
    );
    const payload = Buffer.alloc(4096, 0xab);
    const f = file(payload, 9);
    f.fill(0, HEADER_SIZE + 1024);
    expect(decodeBatchFile(f)).toEqual({ ok: false, problem: 'torn or corrupt: checksum mismatch' });
  });

  it('names files so that they sort in queue order', () => {
    expect(batchFileName(42)).toBe('0000000000000042.batch');
    expect(parseBatchFileName('0000000000000042.batch')).toBe(42);
    expect(parseBatchFileName('0000000000000042.batch.tmp')).toBeUndefined();
    expect(parseBatchFileName('.lock')).toBeUndefined();
    const names = [10, 9, 100, 2].map(batchFileName).sort();
    expect(names.map(parseBatchFileName)).toEqual([2, 9, 10, 100]);
  });
});
