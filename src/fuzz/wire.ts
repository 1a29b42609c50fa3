// A tolerant reader of the protobuf wire format, for the mutation fuzzer: it
// finds every field of a (valid or nearly valid) message, nested messages
// included, so that mutations can hit lengths, tags and varints where a decoder
// is most likely to trip, instead of random bytes only. It never throws: on
// anything it cannot read it stops and returns what it found.

export const WireType = { VARINT: 0, I64: 1, LEN: 2, SGROUP: 3, EGROUP: 4, I32: 5 } as const;

export interface FieldSpan {
  /** Offset of the tag varint. */
  start: number;
  /** Offset just after the tag varint (for LEN fields, where the length varint starts). */
  tagEnd: number;
  fieldNo: number;
  wireType: number;
  /** Offset of the value (after the length varint for LEN fields). */
  valueStart: number;
  /** Offset just after the field. */
  end: number;
  /** Nesting depth: 0 for fields of the outermost message. */
  depth: number;
}

/** A varint at `pos`: its value (as a double; precise enough for offsets) and where it ends, or undefined. */
export function readVarint(b: Uint8Array, pos: number, limit = b.length): { value: number; end: number } | undefined {
  let value = 0;
  let mult = 1;
  for (let i = 0; i < 10; i++) {
    if (pos + i >= limit) return undefined;
    const byte = b[pos + i];
    value += (byte & 0x7f) * mult;
    mult *= 128;
    if ((byte & 0x80) === 0) return { value, end: pos + i + 1 };
  }
  return undefined;
}

export function encodeVarint(n: number | bigint): Uint8Array {
  let v = BigInt(n);
  if (v < 0n) v = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Uint8Array.from(out);
}

/** The fields of the message in b[start, end), or undefined when those bytes are not a well-formed message. */
function scanMessage(b: Uint8Array, start: number, end: number, depth: number, out: FieldSpan[], maxSpans: number): boolean {
  let pos = start;
  const mark = out.length;
  while (pos < end) {
    if (out.length >= maxSpans) return true;
    const tag = readVarint(b, pos, end);
    if (!tag || tag.value === 0) return rollback(out, mark);
    const fieldNo = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    let valueStart = tag.end;
    let fieldEnd: number;
    switch (wireType) {
      case WireType.VARINT: {
        const v = readVarint(b, tag.end, end);
        if (!v) return rollback(out, mark);
        fieldEnd = v.end;
        break;
      }
      case WireType.I64:
        fieldEnd = tag.end + 8;
        break;
      case WireType.I32:
        fieldEnd = tag.end + 4;
        break;
      case WireType.LEN: {
        const len = readVarint(b, tag.end, end);
        if (!len) return rollback(out, mark);
        valueStart = len.end;
        fieldEnd = len.end + len.value;
        break;
      }
      default:
        return rollback(out, mark); // groups are not used by OTLP
    }
    if (fieldEnd > end) return rollback(out, mark);
    out.push({ start: pos, tagEnd: tag.end, fieldNo, wireType, valueStart, end: fieldEnd, depth });
    // A LEN field may be a nested message or a string/bytes: keep its inner fields only if it reads as a message.
    if (wireType === WireType.LEN && fieldEnd > valueStart && depth < 64) scanMessage(b, valueStart, fieldEnd, depth + 1, out, maxSpans);
    pos = fieldEnd;
  }
  return true;
}

function rollback(out: FieldSpan[], mark: number): false {
  out.length = mark;
  return false;
}

/** Every field found in `b`, outermost first then depth-first, in byte order; at most `maxSpans`. */
export function scanFields(b: Uint8Array, maxSpans = 100_000): FieldSpan[] {
  const out: FieldSpan[] = [];
  scanMessage(b, 0, b.length, 0, out, maxSpans);
  return out;
}
