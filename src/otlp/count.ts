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
/** protobufjs refuses groups nested deeper than this (Reader.recursionLimit). */
const MAX_GROUP_DEPTH = 100;

/** A cursor over protobuf bytes; `ok` turns false at the first malformed field. */
class Wire {
  ok = true;
  constructor(
    private readonly buf: Uint8Array,
    public pos: number,
    readonly end: number,
  ) {}

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) break;
      const b = this.buf[this.pos++];
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return value;
      scale *= 128;
    }
    this.ok = false;
    return 0;
  }

  /** Skips a field's value; for length-delimited fields returns its [start, end). */
  skip(wireType: number): [number, number] | undefined {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint();
        return undefined;
      case WIRE_FIXED64:
        this.pos += 8;
        break;
      case WIRE_FIXED32:
        this.pos += 4;
        break;
      case WIRE_LEN: {
        const len = this.varint();
        const start = this.pos;
        this.pos += len;
        if (this.pos > this.end) this.ok = false;
        return this.ok ? [start, this.pos] : undefined;
      }
      case WIRE_START_GROUP:
        this.skipGroup();
        return undefined;
      default:
        this.ok = false;
        return undefined;
    }
    if (this.pos > this.end) this.ok = false;
    return undefined;
  }

  /** Skips a (deprecated, unknown) group up to its end tag, as protobufjs does, nested groups included. */
  private skipGroup(): void {
    let depth = 1;
    while (this.ok && depth > 0) {
      if (this.pos >= this.end || depth > MAX_GROUP_DEPTH) {
        this.ok = false;
        return;
      }
      const wireType = this.varint() % 8;
      if (!this.ok) return;
      if (wireType === WIRE_START_GROUP) depth++;
      else if (wireType === WIRE_END_GROUP) depth--;
      else this.skip(wireType);
    }
  }
}

/** Calls `onField(start, end)` for each length-delimited occurrence of field `field` in buf[start, end). */
function eachField(buf: Uint8Array, start: number, end: number, field: number, onField: (s: number, e: number) => boolean): void {
  const w = new Wire(buf, start, end);
  while (w.ok && w.pos < end) {
    const tag = w.varint();
    if (!w.ok) return;
    const range = w.skip(tag % 8);
    if (!w.ok) return;
    if (range && Math.floor(tag / 8) === field && !onField(range[0], range[1])) return;
  }
}

/**
 * Log records in a protobuf ExportLogsServiceRequest:
 * resource_logs (1) → scope_logs (2) → log_records (2).
 */
export function countProtobufLogRecords(buf: Uint8Array, stopAbove = Number.MAX_SAFE_INTEGER): number {
  let n = 0;
  eachField(buf, 0, buf.length, 1, (rs, re) => {
    eachField(buf, rs, re, 2, (ss, se) => {
      eachField(buf, ss, se, 2, () => ++n <= stopAbove);
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
