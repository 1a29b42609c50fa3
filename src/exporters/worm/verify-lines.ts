// The fast check of v1 content (JSON lines, entry.ts), fed piece by piece as it
// is decompressed: every line exactly as the writer produces it, each hash
// right, each link and seq in order, then the count, last hash and Merkle root
// as signed. No allocation per entry beyond its hash, taken as a latin1 string
// (a Buffer per hash costs more than hashing). At the first deviation it stops;
// verify then classifies the segment in full (checkEntries).
import { hash as oneShotHash } from 'node:crypto';
import { ENTRY_OFFSET, type Note, parseEntry } from './entry.js';
import type { Manifest } from './manifest.js';
import { IntactChainCheck, type IntactResult } from './verify-intact.js';

const NEWLINE = 0x0a;
const LINE_HEAD = Buffer.from('{"hash":"');
const ENTRY_HEAD = Buffer.from('","entry":');
const SEQ_HEAD = Buffer.from('{"seq":');
const AT_HEAD = Buffer.from(',"at":"');
const PREV_HEAD = Buffer.from('","prev":"');
const ISO_LENGTH = 24; // 2026-03-01T09:00:00.000Z
const HEX_DIGITS = Buffer.from('0123456789abcdef');
const SHORTEST_LINE = ENTRY_OFFSET + SEQ_HEAD.length + 2 + AT_HEAD.length + ISO_LENGTH + PREV_HEAD.length + 64 + 4;

/** buf[at…] holds `literal` (a short JS loop beats a native call per field). */
function bytesAt(buf: Buffer, at: number, literal: Buffer): boolean {
  for (let i = 0; i < literal.length; i++) if (buf[at + i] !== literal[i]) return false;
  return true;
}

/** buf[at…at+64] is the lowercase hex of the 32 bytes `raw`. */
function hexAt(buf: Buffer, at: number, raw: Buffer): boolean {
  for (let i = 0; i < 32; i++) {
    const b = raw[i];
    if (buf[at + 2 * i] !== HEX_DIGITS[b >> 4] || buf[at + 2 * i + 1] !== HEX_DIGITS[b & 15]) return false;
  }
  return true;
}

/** hexAt for 32 bytes held as a latin1 string. */
function hexAtLatin1(buf: Buffer, at: number, raw: string): boolean {
  for (let i = 0; i < 32; i++) {
    const b = raw.charCodeAt(i);
    if (buf[at + 2 * i] !== HEX_DIGITS[b >> 4] || buf[at + 2 * i + 1] !== HEX_DIGITS[b & 15]) return false;
  }
  return true;
}

export class IntactLinesCheck extends IntactChainCheck {
  constructor(m: Manifest) {
    super(m, 16 * 1024);
  }

  /** Checks the next piece of content; false once the content deviates (feed no more). */
  feed(piece: Buffer): boolean {
    if (this.failed) return false;
    this.bytes += piece.length;
    let pos = 0;
    if (this.pendingLength > 0) {
      const nl = piece.indexOf(NEWLINE);
      if (nl < 0) {
        this.hold(piece, 0, piece.length);
        return true;
      }
      this.hold(piece, 0, nl + 1);
      if (!this.line(this.pending, 0, this.pendingLength - 1)) return this.fail();
      this.pendingLength = 0;
      pos = nl + 1;
    }
    while (pos < piece.length) {
      const nl = piece.indexOf(NEWLINE, pos);
      if (nl < 0) {
        this.hold(piece, pos, piece.length);
        break;
      }
      if (!this.line(piece, pos, nl)) return this.fail();
      pos = nl + 1;
    }
    return true;
  }

  /** One line at buf[pos…nl), nl its newline. */
  private line(buf: Buffer, pos: number, nl: number): boolean {
    if (nl - pos < SHORTEST_LINE) return false;
    const es = pos + ENTRY_OFFSET;
    const ee = nl - 1; // the line's closing brace
    if (buf[ee] !== 0x7d || !bytesAt(buf, pos, LINE_HEAD) || !bytesAt(buf, es - ENTRY_HEAD.length, ENTRY_HEAD) || !bytesAt(buf, es, SEQ_HEAD)) return false;
    let i = es + SEQ_HEAD.length;
    let seq = 0;
    const digits = i;
    while (i < ee && buf[i] >= 0x30 && buf[i] <= 0x39 && i - digits < 16) seq = seq * 10 + (buf[i++] - 0x30);
    if (seq !== this.expectSeq || i === digits) return false;
    const prevAt = i + AT_HEAD.length + ISO_LENGTH;
    if (!bytesAt(buf, i, AT_HEAD) || !bytesAt(buf, prevAt, PREV_HEAD)) return false;
    const prevStart = prevAt + PREV_HEAD.length;
    if (!hexAt(buf, prevStart, this.prev)) return false;
    // The leaf input is 0x00 ‖ entry: the byte before the entry (the `:` of `"entry":`) is 0x00 for the one call.
    const saved = buf[es - 1];
    buf[es - 1] = 0;
    const h = oneShotHash('sha256', buf.subarray(es - 1, ee), 'latin1');
    buf[es - 1] = saved;
    if (!hexAtLatin1(buf, pos + LINE_HEAD.length, h)) return false;
    const kindByte = buf[prevStart + 64 + 3]; // after `","`: r(ecord) or n(ote)
    if (kindByte === 0x72) this.records++;
    else if (kindByte === 0x6e) {
      try {
        const e = parseEntry(buf.subarray(es, ee));
        if (e.note) this.notes.push({ index: this.expectSeq - this.m.first_seq, seq, note: e.note });
      } catch {
        return false;
      }
    } else return false;
    for (let k = 0; k < 32; k++) this.prev[k] = h.charCodeAt(k);
    this.merkle.push(this.prev, 0);
    this.expectSeq++;
    return true;
  }
}

/** The fast check over v1 content held whole. */
export function checkIntactEntries(content: Buffer, m: Manifest): IntactResult | undefined {
  const check = new IntactLinesCheck(m);
  check.feed(content);
  return check.finish();
}
