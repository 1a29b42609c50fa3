// The fast check of v1 content (JSON lines) that verify tries before the full
// classification, fed piece by piece as verify decompresses it: intact lines
// pass with their records and notes wherever the pieces are cut; any changed
// byte, cut or manifest mismatch makes it give up.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeEntry, notePayload, recordPayload } from '../../../src/exporters/worm/entry.js';
import type { Manifest } from '../../../src/exporters/worm/manifest.js';
import { rootFromLeafHashes } from '../../../src/exporters/worm/merkle.js';
import { IntactLinesCheck, checkIntactEntries } from '../../../src/exporters/worm/verify-lines.js';

const AT = Date.parse('2026-03-01T09:00:00.000Z');
const NOTE = { kind: 'recovery', truncated_bytes: 0, open_segment_found: true } as const;

function segment(n: number, first = 3): { content: Buffer; m: Manifest } {
  const chainPrev = 'cd'.repeat(32);
  let prev = chainPrev;
  const lines: Buffer[] = [];
  const leaves: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const payload = i === 2 ? notePayload(NOTE) : recordPayload(JSON.stringify({ resourceLogs: [{ n: i, pad: 'x'.repeat(i * 13) }] }));
    const e = encodeEntry(first + i, AT + i, prev, payload);
    lines.push(e.line);
    leaves.push(e.raw);
    prev = e.hash;
  }
  const m = { first_seq: first, entries: n, chain_prev: chainPrev, last_hash: n ? prev : null, merkle_root: rootFromLeafHashes(leaves).toString('hex') } as unknown as Manifest;
  return { content: Buffer.concat(lines), m };
}

describe('IntactLinesCheck (v1)', () => {
  it('intact lines: their records and notes, the content left as it was', () => {
    const { content, m } = segment(9);
    const copy = Buffer.from(content);
    expect(checkIntactEntries(content, m)).toEqual({ validRecords: 8, notes: [{ index: 2, seq: 5, note: NOTE }] });
    expect(content.equals(copy)).toBe(true);
    expect(checkIntactEntries(Buffer.alloc(0), segment(0).m)).toEqual({ validRecords: 0, notes: [] });
  });

  it('the same answer wherever the pieces are cut (inside hashes, entries, at newlines)', () => {
    const { content, m } = segment(9);
    const whole = checkIntactEntries(content, m);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: content.length }), { maxLength: 30 }), (cuts) => {
        const check = new IntactLinesCheck(m);
        let from = 0;
        for (const at of [...new Set(cuts)].sort((a, b) => a - b).concat(content.length)) {
          if (at <= from) continue;
          check.feed(Buffer.from(content.subarray(from, at)));
          from = at;
        }
        expect(check.finish()).toEqual(whole);
        expect(check.bytes).toBe(content.length);
      }),
      { numRuns: 300 },
    );
  });

  it('any changed byte, a cut, or a manifest that does not match: not intact', () => {
    const { content, m } = segment(4);
    for (let i = 0; i < content.length; i++) {
      const bad = Buffer.from(content);
      bad[i] ^= 1 << (i % 7);
      expect(checkIntactEntries(bad, m), `byte ${i} flipped`).toBeUndefined();
      expect(checkIntactEntries(content.subarray(0, i), m), `cut at ${i}`).toBeUndefined();
    }
    for (const edit of [{ first_seq: 4 }, { entries: 5 }, { chain_prev: '00'.repeat(32) }, { last_hash: '00'.repeat(32) }, { merkle_root: '00'.repeat(32) }]) {
      expect(checkIntactEntries(content, { ...m, ...edit }), JSON.stringify(edit)).toBeUndefined();
    }
  });
});
