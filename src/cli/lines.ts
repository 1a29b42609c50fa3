// Lines of a byte stream, with bounded memory: a line longer than the cap is
// cut (and said so) instead of being buffered whole. LF and CRLF line ends;
// invalid UTF-8 decodes to U+FFFD. The lines of each chunk read come as one
// array, and a line whole in its chunk is decoded in place: an async
// generator's step and a Buffer view per line cost `vigil replay` ~0.25 µs a
// line (200,000 Combined lines: 92 ms of CPU against 40 ms, best of 6).

export interface Line {
  text: string;
  /** 1-based line number in its input. */
  number: number;
  /** Bytes of the line beyond the cap were dropped. */
  truncated: boolean;
}

const LF = 0x0a;
const CR = 0x0d;

/** The lines of `input`, in order, as one array per chunk read (empty arrays are skipped). */
export async function* readLineBatches(
  input: AsyncIterable<Buffer | string>,
  maxLineBytes: number,
  onBytes: (n: number) => void = () => {},
): AsyncGenerator<Line[]> {
  let parts: Buffer[] = [];
  let partBytes = 0;
  let truncated = false;
  let number = 0;
  const emit = (last: Buffer): Line => {
    let buf = parts.length === 0 ? last : Buffer.concat([...parts, last]);
    if (buf.length > 0 && buf[buf.length - 1] === CR) buf = buf.subarray(0, buf.length - 1);
    const line: Line = { text: buf.toString('utf8'), number: ++number, truncated };
    parts = [];
    partBytes = 0;
    truncated = false;
    return line;
  };
  const keep = (piece: Buffer) => {
    const room = maxLineBytes - partBytes;
    if (piece.length > room) {
      truncated = true;
      piece = piece.subarray(0, Math.max(0, room));
    }
    if (piece.length > 0) {
      // Copy: the chunk's memory is reused by the stream.
      parts.push(Buffer.from(piece));
      partBytes += piece.length;
    }
  };
  for await (const raw of input) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    onBytes(chunk.length);
    const lines: Line[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(LF, start);
      if (nl < 0) break;
      if (parts.length === 0 && !truncated && nl - start <= maxLineBytes) {
        // The usual line, whole in this chunk: decoded in place, without a Buffer view of it.
        const end = nl > start && chunk[nl - 1] === CR ? nl - 1 : nl;
        lines.push({ text: chunk.toString('utf8', start, end), number: ++number, truncated: false });
        start = nl + 1;
        continue;
      }
      let piece = chunk.subarray(start, nl);
      if (partBytes + piece.length > maxLineBytes) {
        keep(piece);
        piece = Buffer.alloc(0);
      }
      lines.push(emit(piece));
      start = nl + 1;
    }
    if (start < chunk.length) keep(chunk.subarray(start));
    if (lines.length > 0) yield lines;
  }
  if (partBytes > 0 || truncated) yield [emit(Buffer.alloc(0))];
}
