// RFC 6962 / 9162 Merkle trees: the root against the recursive definition,
// inclusion proofs for every leaf of every small tree, and forged paths failing.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IncrementalMerkle, MerkleRootBuilder, inclusionPath, leafHash, merkleRoot, nodeHash, rootFromLeafHashes, verifyInclusion } from '../../../src/exporters/worm/merkle.js';

const h = (b: Buffer) => createHash('sha256').update(b).digest();

/** MTH exactly as RFC 6962 section 2.1 writes it. */
function mth(d: Buffer[]): Buffer {
  if (d.length === 0) return h(Buffer.alloc(0));
  if (d.length === 1) return h(Buffer.concat([Buffer.of(0), d[0]]));
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return h(Buffer.concat([Buffer.of(1), mth(d.slice(0, k)), mth(d.slice(k))]));
}

const leaves = (n: number) => Array.from({ length: n }, (_, i) => h(Buffer.from(`entry ${i}`)));

describe('merkle', () => {
  it('the empty tree is SHA-256 of nothing, a single leaf is H(0x00 || leaf)', () => {
    expect(merkleRoot([]).toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const one = leaves(1);
    expect(merkleRoot(one).equals(h(Buffer.concat([Buffer.of(0), one[0]])))).toBe(true);
  });

  it('matches the recursive RFC 6962 definition, also built incrementally', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 70 }), (n) => {
        const d = leaves(n);
        const inc = new IncrementalMerkle();
        for (const x of d) inc.push(leafHash(x));
        // The builder reads each leaf hash where it lies in a larger buffer.
        const packed = Buffer.concat([Buffer.of(7), ...d.map(leafHash)]);
        const builder = new MerkleRootBuilder();
        for (let i = 0; i < n; i++) builder.push(packed, 1 + 32 * i);
        const expected = mth(d);
        return merkleRoot(d).equals(expected) && inc.root().equals(expected) && builder.root().equals(expected) && builder.size === n;
      }),
      { numRuns: 71 },
    );
  });

  it('proves every leaf of every tree up to 40 leaves, and nothing else', () => {
    for (let n = 1; n <= 40; n++) {
      const d = leaves(n);
      const lh = d.map(leafHash);
      const root = rootFromLeafHashes(lh);
      for (let m = 0; m < n; m++) {
        const path = inclusionPath(m, lh);
        expect(verifyInclusion(m, n, lh[m], path, root)).toBe(true);
        // another leaf, another index, a flipped path hash, a shorter path: all fail
        expect(verifyInclusion(m, n, lh[(m + 1) % n], path, root)).toBe(n === 1);
        if (n > 1) expect(verifyInclusion((m + 1) % n, n, lh[m], path, root)).toBe(false);
        if (path.length > 0) {
          const bad = path.map((p) => Buffer.from(p));
          bad[0][0] ^= 1;
          expect(verifyInclusion(m, n, lh[m], bad, root)).toBe(false);
          expect(verifyInclusion(m, n, lh[m], path.slice(1), root)).toBe(false);
        }
      }
    }
  });

  it('uses the domain-separated node hash', () => {
    const [a, b] = leaves(2).map(leafHash);
    expect(nodeHash(a, b).equals(h(Buffer.concat([Buffer.of(1), a, b])))).toBe(true);
  });
});
