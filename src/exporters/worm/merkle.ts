// Merkle trees as in certificate transparency (RFC 6962 section 2.1, RFC 9162
// section 2.1): leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right),
// the empty tree hashes to SHA-256(""). An archive entry's hash is already the
// leaf hash of its bytes, so a segment's tree is built over the entry hashes as
// they are, and a single record is proven part of a signed segment with log2(n)
// hashes (an inclusion proof / audit path).
import { hash as oneShotHash } from 'node:crypto';

// Not entry.ts's twin by accident: importing it would load the record codecs into every verify worker.
function sha256(data: Uint8Array): Buffer {
  return oneShotHash('sha256', data, 'buffer');
}

const leafScratch = Buffer.alloc(33);
const nodeScratch = Buffer.alloc(65);

export function leafHash(data: Uint8Array): Buffer {
  if (data.length === 32) {
    leafScratch[0] = 0;
    leafScratch.set(data, 1);
    return sha256(leafScratch);
  }
  return sha256(Buffer.concat([Buffer.of(0), data]));
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  nodeScratch[0] = 1;
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 33);
  return sha256(nodeScratch);
}

/** MTH over leaf hashes already computed (pairwise, an odd node promoted unchanged: equal to RFC 6962's split at the largest power of two). */
export function rootFromLeafHashes(leafHashes: readonly Buffer[]): Buffer {
  if (leafHashes.length === 0) return sha256(Buffer.alloc(0));
  let level = leafHashes.slice();
  while (level.length > 1) {
    const next: Buffer[] = new Array(Math.ceil(level.length / 2));
    for (let i = 0, j = 0; i < level.length; i += 2, j++) next[j] = i + 1 < level.length ? nodeHash(level[i], level[i + 1]) : level[i];
    level = next;
  }
  return level[0];
}

/** The Merkle tree hash of data leaves (each hashed as a leaf first). */
export function merkleRoot(leaves: readonly Uint8Array[]): Buffer {
  return rootFromLeafHashes(leaves.map(leafHash));
}

/**
 * Builds the root incrementally as entry hashes arrive (the open segment), keeping
 * only log2(n) subtree roots in memory, like a CT log's compact range.
 */
export class IncrementalMerkle {
  /** Roots of perfect subtrees, largest first; stack[i] covers 2^heights[i] leaves. */
  private readonly stack: Buffer[] = [];
  private readonly heights: number[] = [];
  size = 0;

  /** Appends a leaf given by its leaf hash (an entry hash). */
  push(leafHashValue: Buffer): void {
    let node = leafHashValue;
    let h = 0;
    while (this.heights.length > 0 && this.heights[this.heights.length - 1] === h) {
      node = nodeHash(this.stack.pop()!, node);
      this.heights.pop();
      h++;
    }
    this.stack.push(node);
    this.heights.push(h);
    this.size++;
  }

  /** The RFC 6962 root of everything pushed so far. */
  root(): Buffer {
    if (this.stack.length === 0) return sha256(Buffer.alloc(0));
    let node = this.stack[this.stack.length - 1];
    for (let i = this.stack.length - 2; i >= 0; i--) node = nodeHash(this.stack[i], node);
    return node;
  }

  clone(): IncrementalMerkle {
    const c = new IncrementalMerkle();
    c.stack.push(...this.stack);
    c.heights.push(...this.heights);
    c.size = this.size;
    return c;
  }
}

/**
 * IncrementalMerkle for checking a whole segment fast: leaves are read where
 * they lie (a stored entry hash already checked), the compact range lives in
 * one preallocated buffer and node hashes come back as latin1 strings, because
 * allocating a Buffer for each hash costs more than hashing its 65 bytes.
 */
export class MerkleRootBuilder {
  private readonly stack = Buffer.alloc(64 * 32);
  private readonly heights = new Uint8Array(64);
  private depth = 0;
  /** 0x01 ‖ left ‖ right: the carried node is kept in the right half. */
  private readonly node = Buffer.alloc(65);
  size = 0;

  /** Appends the leaf hash at buf[at…at+32). */
  push(buf: Uint8Array, at: number): void {
    const node = this.node;
    const stack = this.stack;
    for (let i = 0; i < 32; i++) node[33 + i] = buf[at + i];
    let h = 0;
    while (this.depth > 0 && this.heights[this.depth - 1] === h) {
      this.depth--;
      this.combineInto(this.depth);
      h++;
    }
    const top = this.depth * 32;
    for (let i = 0; i < 32; i++) stack[top + i] = node[33 + i];
    this.heights[this.depth++] = h;
    this.size++;
  }

  /** The RFC 6962 root of the leaves pushed (as IncrementalMerkle.root()). */
  root(): Buffer {
    if (this.depth === 0) return sha256(Buffer.alloc(0));
    const node = this.node;
    const top = (this.depth - 1) * 32;
    for (let i = 0; i < 32; i++) node[33 + i] = this.stack[top + i];
    for (let d = this.depth - 2; d >= 0; d--) this.combineInto(d);
    return Buffer.from(node.subarray(33));
  }

  /** node's right half = H(0x01 ‖ stack[d] ‖ right half). */
  private combineInto(d: number): void {
    const node = this.node;
    const stack = this.stack;
    node[0] = 1;
    const left = d * 32;
    for (let i = 0; i < 32; i++) node[1 + i] = stack[left + i];
    const h = oneShotHash('sha256', node, 'latin1');
    for (let i = 0; i < 32; i++) node[33 + i] = h.charCodeAt(i);
  }
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** RFC 6962 PATH(m, D[n]): the audit path for leaf m, over leaf hashes. */
export function inclusionPath(m: number, leafHashes: readonly Buffer[]): Buffer[] {
  if (!(m >= 0 && m < leafHashes.length)) throw new RangeError(`leaf ${m} is outside a tree of ${leafHashes.length}`);
  const path: Buffer[] = [];
  const walk = (idx: number, lo: number, hi: number): void => {
    const n = hi - lo;
    if (n <= 1) return;
    const k = largestPowerOfTwoBelow(n);
    if (idx < k) {
      walk(idx, lo, lo + k);
      path.push(rootFromLeafHashes(leafHashes.slice(lo + k, hi)));
    } else {
      walk(idx - k, lo + k, hi);
      path.push(rootFromLeafHashes(leafHashes.slice(lo, lo + k)));
    }
  };
  walk(m, 0, leafHashes.length);
  return path;
}

/** RFC 9162 section 2.1.3.2: does `path` prove leaf `index` (of `size`) under `root`? */
export function verifyInclusion(index: number, size: number, leaf: Uint8Array, path: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of path) {
    if (p.length !== 32) return false;
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && Buffer.compare(r, Buffer.from(root)) === 0;
}
