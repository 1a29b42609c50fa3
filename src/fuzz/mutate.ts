// Mutations of valid encoded requests, the way corrupted or hostile input looks
// on the wire: bit flips, truncation, spliced bytes, corrupted length fields,
// wrong wire types, giant and malformed varints, unknown or invalid field
// numbers. A mutation is plain data (chosen by fast-check, so a failing case
// shrinks and replays from its seed); applying it is a pure function.
import { encodeVarint, scanFields, WireType, type FieldSpan } from './wire.js';

export type LengthCorruption = 'plus_one' | 'minus_one' | 'zero' | 'max_int32' | 'max_uint32' | 'max_uint64' | 'negative' | 'padded';
export type VarintKind = 'max_uint64' | 'overlong' | 'unterminated' | 'padded' | 'giant_tag' | 'giant_len';

export type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'truncate'; at: number }
  | { op: 'set'; at: number; byte: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; len: number }
  | { op: 'duplicate'; at: number; len: number }
  | { op: 'length'; field: number; to: LengthCorruption }
  | { op: 'wire_type'; field: number; wireType: number }
  | { op: 'varint'; field: number; kind: VarintKind; fieldNo: number }
  | { op: 'field_number'; field: number; fieldNo: number };

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function splice(b: Uint8Array, from: number, to: number, insert: Uint8Array): Uint8Array {
  return concat(b.subarray(0, from), insert, b.subarray(to));
}

function tag(fieldNo: number, wireType: number): Uint8Array {
  return encodeVarint(BigInt(fieldNo) * 8n + BigInt(wireType));
}

const MAX_UINT64 = (1n << 64n) - 1n;

function lengthBytes(span: FieldSpan, to: LengthCorruption): Uint8Array {
  const len = span.end - span.valueStart;
  switch (to) {
    case 'plus_one':
      return encodeVarint(len + 1);
    case 'minus_one':
      return encodeVarint(Math.max(0, len - 1));
    case 'zero':
      return encodeVarint(0);
    case 'max_int32':
      return encodeVarint(0x7fffffff);
    case 'max_uint32':
      return encodeVarint(0xffffffff);
    case 'max_uint64':
      return encodeVarint(MAX_UINT64);
    case 'negative':
      return encodeVarint(-1n); // an int32 -1 as protobuf writes it: ten bytes
    case 'padded':
      // The same length in a non-minimal (but legal) encoding: five bytes.
      return Uint8Array.from([(len & 0x7f) | 0x80, ((len >> 7) & 0x7f) | 0x80, ((len >> 14) & 0x7f) | 0x80, ((len >> 21) & 0x7f) | 0x80, (len >> 28) & 0x0f]);
  }
}

function varintField(kind: VarintKind, fieldNo: number): Uint8Array {
  switch (kind) {
    case 'max_uint64':
      return concat(tag(fieldNo, WireType.VARINT), encodeVarint(MAX_UINT64));
    case 'overlong':
      // Eleven continuation bytes: longer than any valid varint.
      return concat(tag(fieldNo, WireType.VARINT), new Uint8Array(11).fill(0xff), Uint8Array.of(0x01));
    case 'unterminated':
      return concat(tag(fieldNo, WireType.VARINT), new Uint8Array(9).fill(0x80));
    case 'padded':
      return concat(tag(fieldNo, WireType.VARINT), Uint8Array.of(0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00));
    case 'giant_tag':
      // The largest legal field number (2^29 − 1): an unknown field to skip.
      return concat(tag(0x1fffffff, WireType.VARINT), encodeVarint(1));
    case 'giant_len':
      return concat(tag(fieldNo, WireType.LEN), encodeVarint(MAX_UINT64), Uint8Array.of(1, 2, 3));
  }
}

const pick = <T>(xs: readonly T[], i: number): T | undefined => (xs.length === 0 ? undefined : xs[i % xs.length]);

/** Applies one mutation. Mutations that need a field fall back to a byte flip when none can be found. */
export function applyMutation(b: Uint8Array, m: Mutation): Uint8Array {
  const n = b.length;
  switch (m.op) {
    case 'flip': {
      if (n === 0) return b;
      const out = Uint8Array.from(b);
      out[m.at % n] ^= 1 << (m.bit & 7);
      return out;
    }
    case 'truncate':
      return n === 0 ? b : b.slice(0, m.at % n);
    case 'set': {
      if (n === 0) return Uint8Array.of(m.byte & 0xff);
      const out = Uint8Array.from(b);
      out[m.at % n] = m.byte & 0xff;
      return out;
    }
    case 'insert':
      return splice(b, m.at % (n + 1), m.at % (n + 1), m.bytes);
    case 'delete': {
      const at = m.at % (n + 1);
      return splice(b, at, Math.min(n, at + m.len), new Uint8Array(0));
    }
    case 'duplicate': {
      const at = m.at % (n + 1);
      const chunk = b.slice(at, Math.min(n, at + m.len));
      return splice(b, at, at, chunk);
    }
    case 'length': {
      const span = pick(scanFields(b).filter((s) => s.wireType === WireType.LEN), m.field);
      if (!span) return applyMutation(b, { op: 'flip', at: m.field, bit: m.field >> 3 });
      return splice(b, span.tagEnd, span.valueStart, lengthBytes(span, m.to));
    }
    case 'wire_type': {
      const span = pick(scanFields(b), m.field);
      if (!span) return applyMutation(b, { op: 'flip', at: m.field, bit: m.wireType });
      return splice(b, span.start, span.tagEnd, tag(span.fieldNo, m.wireType & 7));
    }
    case 'varint': {
      const spans = scanFields(b);
      const at = spans.length === 0 ? n : spans[m.field % spans.length].start;
      return splice(b, at, at, varintField(m.kind, Math.max(1, m.fieldNo)));
    }
    case 'field_number': {
      const span = pick(scanFields(b), m.field);
      if (!span) return applyMutation(b, { op: 'flip', at: m.field, bit: m.fieldNo });
      // Field number 0 is invalid; others are known elsewhere or unknown here.
      return splice(b, span.start, span.tagEnd, tag(m.fieldNo, span.wireType));
    }
  }
}

export function applyMutations(b: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  return ms.reduce(applyMutation, b);
}
