// The fast check of v2 content fed piece by piece (as verify decompresses it):
// wherever the pieces are cut, it gives the whole-content answer; any changed,
// missing or added byte makes it give up (verify then classifies in full).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KIND_NOTE, KIND_RECORD, V2_HEADER, encodeFrame } from '../../../src/exporters/worm/frame.js';
import type { Manifest } from '../../../src/exporters/worm/manifest.js';
import { rootFromLeafHashes } from '../../../src/exporters/worm/merkle.js';
import { IntactFramesCheck, checkIntactFrames } from '../../../src/exporters/worm/verify-frames.js';

const AT = Date.parse('2026-03-01T09:00:00.000Z');

/** A segment's content of `n` entries from seq `first` (a note at index 1) and the manifest fields the check reads. */
function segment(n: number, first = 5, payloadBytes = (i: number) => 20 + ((i * 37) % 300)): { content: Buffer; m: Manifest } {
  const chainPrev = Buffer.alloc(32, 0xab);
  let prev: Buffer = chainPrev;
  const frames: Buffer[] = [];
  const leaves: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const note = i === 1;
    const payload = note ? Buffer.from(JSON.stringify({ kind: 'recovery', truncated_bytes: 0, open_segment_found: true })) : Buffer.alloc(payloadBytes(i), i & 0xff);
    const f = encodeFrame(note ? KIND_NOTE : KIND_RECORD, first + i, AT + i, prev, payload);
    frames.push(f.frame);
    leaves.push(f.raw);
    prev = f.raw;
  }
  const content = n === 0 ? Buffer.alloc(0) : Buffer.concat([V2_HEADER, ...frames]);
  const m = {
    first_seq: first,
    entries: n,
    chain_prev: chainPrev.toString('hex'),
    last_hash: n === 0 ? null : prev.toString('hex'),
    merkle_root: rootFromLeafHashes(leaves).toString('hex'),
  } as unknown as Manifest;
  return { content, m };
}

/** Feeds `content` cut at `cuts` (copies, as a decompressor hands out fresh pieces). */
function fedInPieces(content: Buffer, m: Manifest, cuts: number[]) {
  const check = new IntactFramesCheck(m);
  let from = 0;
  for (const at of [...new Set(cuts)].sort((a, b) => a - b).concat(content.length)) {
    if (at <= from) continue;
    if (!check.feed(Buffer.from(content.subarray(from, at)))) break;
    from = at;
  }
  return { result: check.finish(), bytes: check.bytes };
}

describe('IntactFramesCheck', () => {
  it('an intact segment: its records and notes, whole or cut into any pieces (cuts inside lengths, hashes and bodies)', () => {
    const { content, m } = segment(12);
    const whole = checkIntactFrames(content, m);
    expect(whole).toBeDefined();
    expect(whole!.validRecords).toBe(11);
    expect(whole!.notes).toEqual([{ index: 1, seq: 6, note: { kind: 'recovery', truncated_bytes: 0, open_segment_found: true } }]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: content.length }), { maxLength: 40 }), (cuts) => {
        const r = fedInPieces(content, m, cuts);
        expect(r.result).toEqual(whole);
        expect(r.bytes).toBe(content.length);
      }),
      { numRuns: 300 },
    );
    // Every byte its own piece.
    expect(fedInPieces(content, m, Array.from({ length: content.length }, (_, i) => i)).result).toEqual(whole);
  });

  it('an empty segment (a heartbeat) is intact with no entries, and only then', () => {
    const { content, m } = segment(0);
    expect(checkIntactFrames(content, m)).toEqual({ validRecords: 0, notes: [] });
    expect(checkIntactFrames(V2_HEADER, m)).toEqual({ validRecords: 0, notes: [] });
    expect(checkIntactFrames(V2_HEADER.subarray(0, 5), m)).toBeUndefined();
    expect(checkIntactFrames(segment(1).content, m)).toBeUndefined();
  });

  it('any changed byte, cut or added bytes, or a manifest that does not match: not intact', () => {
    const { content, m } = segment(5);
    for (let i = 0; i < content.length; i++) {
      const bad = Buffer.from(content);
      bad[i] ^= 1 << (i % 8);
      expect(fedInPieces(bad, m, [i, i + 1, 300]).result, `byte ${i} flipped`).toBeUndefined();
      expect(checkIntactFrames(content.subarray(0, i), m), `cut at ${i}`).toBeUndefined();
    }
    expect(checkIntactFrames(Buffer.concat([content, Buffer.of(0)]), m)).toBeUndefined();
    expect(checkIntactFrames(Buffer.concat([content, segment(1, 10).content.subarray(V2_HEADER.length)]), m)).toBeUndefined();
    for (const edit of [{ first_seq: 6 }, { entries: 4 }, { chain_prev: '00'.repeat(32) }, { last_hash: '00'.repeat(32) }, { merkle_root: '00'.repeat(32) }]) {
      expect(checkIntactFrames(content, { ...m, ...edit }), JSON.stringify(edit)).toBeUndefined();
    }
    // The check restores the byte it zeroes while hashing: the content is left as it was.
    const copy = Buffer.from(content);
    checkIntactFrames(content, m);
    expect(content.equals(copy)).toBe(true);
  });

  it('an impossible frame length stops it without allocating for it', () => {
    const { content, m } = segment(3);
    const bad = Buffer.from(content);
    bad.writeUInt32BE(0xffffffff, V2_HEADER.length);
    expect(fedInPieces(bad, m, [V2_HEADER.length + 2]).result).toBeUndefined();
  });
});
