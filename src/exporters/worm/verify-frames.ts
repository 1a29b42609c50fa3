// The fast check of v2 content (docs/archive-format.md), fed piece by piece as
// it is decompressed: every frame as the writer produces it, its hash, link and
// seq in order, then the count, last hash and Merkle root as signed. No copy of
// the content and no buffer per entry: hashes come back as latin1 strings and
// are compared byte by byte with the stored ones, which (once proven equal) are
// the Merkle leaves and the next entry's expected prev. At the first deviation
// it stops; verify then classifies the segment in full (checkEntries).
import { hash as oneShotHash } from 'node:crypto';
import type { Note } from './entry.js';
import { BODY_HEAD, FRAME_PREFIX, KIND_NOTE, KIND_RECORD, MAX_BODY, V2_HEADER, readU64 } from './frame.js';
import type { Manifest } from './manifest.js';
import { IntactChainCheck, type IntactResult } from './verify-intact.js';

export class IntactFramesCheck extends IntactChainCheck {
  private headerSeen = 0;
  /** The cut frame's size once its length is read (0 before). */
  private pendingSize = 0;

  constructor(m: Manifest) {
    super(m, 64 * 1024);
  }

  /** Checks the next piece of content; false once the content deviates (feed no more). */
  feed(piece: Buffer): boolean {
    if (this.failed) return false;
    this.bytes += piece.length;
    let pos = 0;
    while (this.headerSeen < V2_HEADER.length && pos < piece.length) {
      if (piece[pos++] !== V2_HEADER[this.headerSeen++]) return this.fail();
    }
    if (this.pendingLength > 0) {
      pos = this.fillPending(piece, pos);
      if (pos < 0) return this.fail();
      if (this.pendingSize === 0 || this.pendingLength < this.pendingSize) return true;
      if (!this.frame(this.pending, 0, this.pendingSize)) return this.fail();
      this.pendingLength = 0;
      this.pendingSize = 0;
    }
    const end = piece.length;
    while (pos < end) {
      if (end - pos < 4) return this.fillPending(piece, pos) >= 0 || this.fail();
      const length = piece.readUInt32BE(pos);
      if (length < BODY_HEAD || length > MAX_BODY) return this.fail();
      const fe = pos + FRAME_PREFIX + length;
      if (fe > end) return this.fillPending(piece, pos) >= 0 || this.fail();
      if (!this.frame(piece, pos, fe)) return this.fail();
      pos = fe;
    }
    return true;
  }

  override finish(): IntactResult | undefined {
    // Content that ended inside the format's header is not a v2 segment.
    if (this.bytes > 0 && this.headerSeen < V2_HEADER.length) return undefined;
    return super.finish();
  }

  /** Takes the cut frame's bytes from piece[pos…]; returns where it stopped, -1 on an impossible length. */
  private fillPending(piece: Buffer, pos: number): number {
    while (this.pendingSize === 0) {
      if (pos >= piece.length) return pos;
      this.pending[this.pendingLength++] = piece[pos++];
      if (this.pendingLength < 4) continue;
      const length = this.pending.readUInt32BE(0);
      if (length < BODY_HEAD || length > MAX_BODY) return -1;
      this.pendingSize = FRAME_PREFIX + length;
    }
    const take = Math.min(this.pendingSize - this.pendingLength, piece.length - pos);
    // Grown only as bytes arrive (hold): a corrupt length does not allocate up front.
    this.hold(piece, pos, pos + take);
    return pos + take;
  }

  /** One whole frame at buf[pos…fe). */
  private frame(buf: Buffer, pos: number, fe: number): boolean {
    const body = pos + FRAME_PREFIX;
    if (readU64(buf, body + 1) !== this.expectSeq) return false;
    const prev = this.prev;
    for (let i = 0; i < 32; i++) if (buf[body + 17 + i] !== prev[i]) return false;
    // The leaf input is 0x00 ‖ body: the byte before the body (the stored hash's last) is 0x00 for the one call.
    const saved = buf[body - 1];
    buf[body - 1] = 0;
    const h = oneShotHash('sha256', buf.subarray(body - 1, fe), 'latin1');
    buf[body - 1] = saved;
    const hashAt = pos + 4;
    for (let i = 0; i < 32; i++) if (buf[hashAt + i] !== h.charCodeAt(i)) return false;
    const kind = buf[body];
    if (kind === KIND_RECORD) this.records++;
    else if (kind === KIND_NOTE) {
      try {
        this.notes.push({ index: this.expectSeq - this.m.first_seq, seq: this.expectSeq, note: JSON.parse(buf.toString('utf8', body + BODY_HEAD, fe)) as Note });
      } catch {
        return false;
      }
    } else return false;
    this.merkle.push(buf, hashAt);
    for (let i = 0; i < 32; i++) prev[i] = buf[hashAt + i];
    this.expectSeq++;
    return true;
  }
}

/** The fast check over v2 content held whole. */
export function checkIntactFrames(content: Buffer, m: Manifest): IntactResult | undefined {
  const check = new IntactFramesCheck(m);
  check.feed(content);
  return check.finish();
}
