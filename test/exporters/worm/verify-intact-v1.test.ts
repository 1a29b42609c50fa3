// The fast check of v1 content (JSON lines) that verify tries before the full
// classification: intact lines pass with their records and notes; any changed
// byte, cut or manifest mismatch makes it give up.
import { describe, expect, it } from 'vitest';
import { encodeEntry, notePayload, recordPayload } from '../../../src/exporters/worm/entry.js';
import type { Manifest } from '../../../src/exporters/worm/manifest.js';
import { rootFromLeafHashes } from '../../../src/exporters/worm/merkle.js';
import { checkIntactEntries } from '../../../src/exporters/worm/verify-segment.js';

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

describe('checkIntactEntries (v1)', () => {
  it('intact lines: their records and notes, the content left as it was', () => {
    const { content, m } = segment(9);
    const copy = Buffer.from(content);
    expect(checkIntactEntries(content, m)).toEqual({ validRecords: 8, notes: [{ index: 2, seq: 5, note: NOTE }] });
    expect(content.equals(copy)).toBe(true);
    expect(checkIntactEntries(Buffer.alloc(0), segment(0).m)).toEqual({ validRecords: 0, notes: [] });
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
