// What the fast checks of v1 lines (verify-lines.ts) and v2 frames
// (verify-frames.ts) share: the chain state carried from entry to entry, the
// bytes of an entry cut by the end of a decompressed piece, and the final
// comparison with the signed manifest. Each format walks its own entries.
import type { Note } from './entry.js';
import type { Manifest } from './manifest.js';
import { MerkleRootBuilder } from './merkle.js';

export interface IntactResult {
  validRecords: number;
  notes: { index: number; seq: number; note: Note }[];
}

export abstract class IntactChainCheck {
  protected readonly merkle = new MerkleRootBuilder();
  protected readonly notes: { index: number; seq: number; note: Note }[] = [];
  /** The previous entry's hash, proven: the manifest's chain_prev first. */
  protected readonly prev: Buffer;
  protected expectSeq: number;
  protected records = 0;
  /** An entry cut by the end of a piece: its bytes so far. */
  protected pending: Buffer;
  protected pendingLength = 0;
  protected failed = false;
  /** Content bytes fed. */
  bytes = 0;

  constructor(
    protected readonly m: Manifest,
    pendingCapacity: number,
  ) {
    this.pending = Buffer.allocUnsafeSlow(pendingCapacity);
    this.prev = Buffer.from(m.chain_prev, 'hex');
    this.expectSeq = m.first_seq;
    if (this.prev.length !== 32) this.failed = true;
  }

  /** Checks the next piece of content; false once the content deviates (feed no more). */
  abstract feed(piece: Buffer): boolean;

  /** The result when the whole content was intact and matches the manifest; undefined otherwise. */
  finish(): IntactResult | undefined {
    if (this.failed || this.pendingLength > 0) return undefined;
    const m = this.m;
    if (this.expectSeq - m.first_seq !== m.entries || this.prev.toString('hex') !== (m.last_hash ?? m.chain_prev)) return undefined;
    if (this.merkle.root().toString('hex') !== m.merkle_root) return undefined;
    return { validRecords: this.records, notes: this.notes };
  }

  protected fail(): false {
    this.failed = true;
    return false;
  }

  /** Appends piece[from…to) to the pending entry, growing its buffer when needed. */
  protected hold(piece: Buffer, from: number, to: number): void {
    const need = this.pendingLength + (to - from);
    if (need > this.pending.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(need, this.pending.length * 2));
      this.pending.copy(grown, 0, 0, this.pendingLength);
      this.pending = grown;
    }
    piece.copy(this.pending, this.pendingLength, from, to);
    this.pendingLength = need;
  }
}
