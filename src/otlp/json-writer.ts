// A growable byte buffer that JSON text is written into as UTF-8 directly. The
// OTLP/JSON encoder used to build one long concatenated string per request;
// turning that into bytes cost V8 more (flattening thousands of string pieces)
// than building it (issue #12). Writing bytes as we go skips both the pieces
// and the conversion.

const INITIAL_BYTES = 64 * 1024;
/** A writer that grew past this for one large request gives the memory back when emptied. */
const KEEP_BYTES = 8 * 1024 * 1024;

export class JsonWriter {
  private buf = Buffer.allocUnsafe(INITIAL_BYTES);
  private pos = 0;

  get length(): number {
    return this.pos;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Text known to be ASCII (punctuation, field names, numbers, hex, base64). */
  ascii(s: string): void {
    const n = s.length;
    this.reserve(n);
    const buf = this.buf;
    let p = this.pos;
    if (n > 64) p += buf.write(s, p, 'latin1');
    else for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** Bytes already encoded (cached texts). */
  bytes(b: Uint8Array): void {
    const n = b.length;
    this.reserve(n);
    const buf = this.buf;
    let p = this.pos;
    if (n > 32) buf.set(b, p);
    else for (let i = 0; i < n; i++) buf[p + i] = b[i];
    this.pos = p + n;
  }

  /** Bytes as lower-case hex, as Buffer#toString('hex') writes them, without the string. */
  hex(b: Uint8Array): void {
    const n = b.length;
    this.reserve(2 * n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const hi = b[i] >> 4;
      const lo = b[i] & 15;
      buf[p++] = hi < 10 ? 0x30 + hi : 0x57 + hi;
      buf[p++] = lo < 10 ? 0x30 + lo : 0x57 + lo;
    }
    this.pos = p;
  }

  /** Any text, as UTF-8 (text that is already JSON, such as JSON.stringify's output). */
  text(s: string): void {
    const n = s.length;
    this.reserve(n * 3);
    const buf = this.buf;
    let p = this.pos;
    // Short ASCII (most attribute keys and values) is copied by hand: cheaper than a call into Buffer#write.
    if (n <= 64) {
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        buf[p + i] = c;
      }
      if (i === n) {
        this.pos = p + n;
        return;
      }
    }
    this.pos = p + buf.write(s, p, 'utf8');
  }

  /** A non-negative integer below 2^53 in decimal (lengths, counts), without a string. */
  uint(v: number): void {
    if (v < 10) {
      this.reserve(1);
      this.buf[this.pos++] = 0x30 + v;
      return;
    }
    this.ascii(String(v));
  }

  /**
   * A 64-bit integer given as its two 32-bit halves, in decimal: the text of
   * record.ts `int64Decimal` (and long.js), written without a string or a
   * BigInt (a nanosecond timestamp is wider than 53 bits; its BigInts were a
   * quarter of what the record id allocated). The value is split into three
   * parts below 10^7, exact in doubles: 2^32 = 4294·10^6 + 967296.
   */
  int64(low: number, high: number, unsigned: boolean): void {
    let lo = low >>> 0;
    let hi = unsigned ? high >>> 0 : high | 0;
    if (hi < 0) {
      // The magnitude's halves (two's complement); -2^63's high half is 2^31, still exact.
      this.ascii('-');
      if (lo === 0) hi = -hi;
      else {
        hi = -hi - 1;
        lo = 4294967296 - lo;
      }
    }
    if (hi < 0x200000) return this.uint(hi * 4294967296 + lo);
    const rest = hi * 967296 + lo; // < 2^53
    const units = rest % 1e6;
    const millions = hi * 4294 + (rest - units) / 1e6; // < 1.85·10^13, > 0 here
    const mid = millions % 1e7;
    const top = (millions - mid) / 1e7;
    this.reserve(20);
    if (top > 0) {
      this.digits(top, 0);
      this.digits(mid, 7);
    } else this.digits(mid, 0);
    this.digits(units, 6);
  }

  /** A non-negative integer below 10^7 in decimal, zero-padded to `width` digits (0: as many as it has). */
  private digits(v: number, width: number): void {
    let n = 1;
    for (let t = v; t >= 10; t = Math.floor(t / 10)) n++;
    if (n < width) n = width;
    const buf = this.buf;
    const end = this.pos + n;
    for (let p = end - 1; p >= this.pos; p--) {
      buf[p] = 0x30 + (v % 10);
      v = Math.floor(v / 10);
    }
    this.pos = end;
  }

  /**
   * `s` as a JSON string literal, byte for byte what JSON.stringify(s) writes
   * as UTF-8. Printable ASCII without `"` or `\` (most of what logs hold) is
   * copied as it is; anything else is left to JSON.stringify, which escapes
   * control characters and lone surrogates.
   */
  string(s: string): void {
    const n = s.length;
    this.reserve(n + 2);
    const buf = this.buf;
    const start = this.pos;
    let p = start;
    buf[p++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7f) {
        this.pos = start;
        this.text(JSON.stringify(s));
        return;
      }
      buf[p++] = c;
    }
    buf[p++] = 0x22;
    this.pos = p;
  }

  /** A copy of the bytes written since `start` (a length read before), which stay written. */
  copySince(start: number): Buffer {
    return Buffer.from(this.buf.subarray(start, this.pos));
  }

  /** The bytes written so far, not copied: valid until the writer is next written to or reset (to hash or write them in place). */
  written(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** The bytes written so far, as a Buffer of their own; the writer starts again empty. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.reset();
    return out;
  }

  /** The text written so far; the writer starts again empty. */
  takeText(): string {
    const s = this.buf.toString('utf8', 0, this.pos);
    this.reset();
    return s;
  }

  /** Drops whatever was written (after an encoding that threw part-way, say). */
  reset(): void {
    this.pos = 0;
    if (this.buf.length > KEEP_BYTES) this.buf = Buffer.allocUnsafe(INITIAL_BYTES);
  }
}
