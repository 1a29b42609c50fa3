// Counting the log records of an ExportLogsServiceRequest without decoding it:
// a walk over the protobuf wire format (or the JSON text) that allocates
// nothing per record, so a receiver can refuse a request that would cause too
// much work before any of that work is done. Both stop as soon as the count
// passes `stopAbove`. Malformed input is not judged here: the count is of what
// could be read, and the decoder reports the error.

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_FIXED32 = 5;
/** protobufjs refuses nesting deeper than this (util.recursionLimit, as protoc's). */
const RECURSION_LIMIT = 100;

/**
 * A cursor over protobuf bytes that reads exactly as protobufjs's Reader does
 * (tags and lengths as uint32 varints of at most 10 bytes, varint values of any
 * length, groups skipped to their end tag), so the count cannot differ from
 * the decoder's; `ok` turns false where the decoder would throw.
 */
class Wire {
  ok = true;
  constructor(
    private readonly buf: Uint8Array,
    public pos: number,
    readonly end: number,
  ) {}

  private fail(): number {
    this.ok = false;
    return 0;
  }

  /** Reader.uint32 / tag / size: low 32 bits; at most 4 bytes when fewer than 5 remain. */
  uint32(): number {
    const b = this.buf;
    if (this.end - this.pos < 5) {
      if (this.pos >= this.end) return this.fail();
      if (b[this.pos] >= 128) {
        let value = 0;
        for (let i = 0; i < 4; i++) {
          if (this.pos >= this.end) return this.fail();
          const byte = b[this.pos++];
          value = (value | ((byte & 127) << (i * 7))) >>> 0;
          if (byte < 128) return value;
        }
        return this.fail();
      }
    }
    let value = 0;
    for (let i = 0; i < 5; i++) {
      const byte = b[this.pos++];
      value = (value | ((byte & 127) << (i * 7))) >>> 0;
      if (byte < 128) return value;
    }
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) return this.fail();
      if (b[this.pos++] < 128) return value;
    }
    return this.fail();
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) this.fail();
    else this.pos += n;
  }

  /** Reader.skipType: skips one value; for length-delimited ones returns its [start, end). */
  skip(wireType: number, depth: number, fieldNumber: number): [number, number] | undefined {
    if (depth > RECURSION_LIMIT || fieldNumber === 0) return void this.fail();
    switch (wireType) {
      case WIRE_VARINT:
        do {
          if (this.pos >= this.end) return void this.fail();
        } while (this.buf[this.pos++] & 128);
        return undefined;
      case WIRE_FIXED64:
        this.advance(8);
        return undefined;
      case WIRE_LEN: {
        const len = this.uint32();
        if (!this.ok) return undefined;
        const start = this.pos;
        this.advance(len);
        return this.ok ? [start, this.pos] : undefined;
      }
      case WIRE_START_GROUP:
        for (;;) {
          const tag = this.uint32();
          if (!this.ok) return undefined;
          const nested = tag >>> 3;
          if (nested === 0) return void this.fail();
          if ((tag & 7) === WIRE_END_GROUP) return nested === fieldNumber ? undefined : void this.fail();
          this.skip(tag & 7, depth + 1, nested);
          if (!this.ok) return undefined;
        }
      case WIRE_FIXED32:
        this.advance(4);
        return undefined;
      default:
        return void this.fail();
    }
  }
}

/** Calls `onField(start, end)` for each length-delimited occurrence of field `field` in buf[start, end), a message at nesting `depth`. */
function eachField(buf: Uint8Array, start: number, end: number, depth: number, field: number, onField: (s: number, e: number) => boolean): void {
  const w = new Wire(buf, start, end);
  while (w.ok && w.pos < end) {
    const tag = w.uint32();
    if (!w.ok) return;
    const range = w.skip(tag & 7, depth, tag >>> 3);
    if (!w.ok) return;
    if (range && tag >>> 3 === field && !onField(range[0], range[1])) return;
  }
}

/**
 * Log records in a protobuf ExportLogsServiceRequest:
 * resource_logs (1) → scope_logs (2) → log_records (2).
 */
export function countProtobufLogRecords(buf: Uint8Array, stopAbove = Number.MAX_SAFE_INTEGER): number {
  let n = 0;
  eachField(buf, 0, buf.length, 0, 1, (rs, re) => {
    eachField(buf, rs, re, 1, 2, (ss, se) => {
      eachField(buf, ss, se, 2, 2, () => ++n <= stopAbove);
      return n <= stopAbove;
    });
    return n <= stopAbove;
  });
  return n;
}

/** A short key's text, escapes resolved as JSON.parse resolves them (`"log\u0052ecords"` is logRecords); long keys cannot matter. */
function keyText(text: string, start: number, end: number): string {
  if (end - start > 128) return '';
  const raw = text.slice(start, end);
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return '';
  }
}

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isDelimiter = (c: number) => c === 0x2c || c === 0x5d || c === 0x7d || isSpace(c);

/** Values inside every `logRecords` / `log_records` array of an OTLP/JSON request. */
export function countJsonLogRecords(text: string, stopAbove = Number.MAX_SAFE_INTEGER): number {
  // Per open container: is it an array of log records, and is it an object expecting a key.
  const records: boolean[] = [];
  const isObject: boolean[] = [];
  let expectKey = false;
  let key = '';
  let n = 0;
  const len = text.length;
  for (let i = 0; i < len && n <= stopAbove; i++) {
    const c = text.charCodeAt(i);
    if (isSpace(c) || c === 0x3a) continue;
    const top = records.length - 1;
    const inRecords = top >= 0 && records[top];
    if (c === 0x22) {
      let j = i + 1;
      while (j < len && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      if (expectKey) {
        key = keyText(text, i + 1, j);
        expectKey = false;
      } else if (inRecords) n++;
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      if (inRecords) n++;
      const obj = c === 0x7b;
      records.push(!obj && top >= 0 && isObject[top] && (key === 'logRecords' || key === 'log_records'));
      isObject.push(obj);
      expectKey = obj;
    } else if (c === 0x7d || c === 0x5d) {
      records.pop();
      isObject.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      expectKey = top >= 0 && isObject[top];
    } else {
      // A bare scalar (number, true, false, null): one value.
      if (inRecords) n++;
      while (i + 1 < len && !isDelimiter(text.charCodeAt(i + 1))) i++;
    }
  }
  return n;
}
