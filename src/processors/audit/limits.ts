// Caps on what a record may carry, so that hostile or broken senders cannot make
// downstream systems choke: attribute value length (truncated), attribute count
// (the excess dropped and counted in droppedAttributesCount, as OTel SDK limits
// do), nesting depth of array/map values, NUL bytes (replaced with U+FFFD) and
// strings that are not well-formed Unicode (lone surrogates, which would encode
// to invalid UTF-8). Every change is recorded as a mark for `audit.limits_applied`,
// and a record changed here is marked rewritten (record.ts `markRewritten`), so
// that encoders write it from its objects rather than from the bytes it came in.
import type { AnyValue, KeyValue, LogRecord } from '../../pipeline/record.js';
import { markRewritten } from '../../pipeline/record.js';

export interface Limits {
  maxValueLength: number;
  maxAttributes: number;
  maxDepth: number;
}

/** Limits on attribute keys themselves, not configurable. */
export const MAX_KEY_LENGTH = 256;
/** At most this many marks are listed on a record. */
export const MAX_MARKS = 16;

export type Marks = string[];

export function addMark(marks: Marks, mark: string): void {
  if (marks.length < MAX_MARKS && !marks.includes(mark)) marks.push(mark);
}

interface WellFormedString {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

const isWellFormed = (s: string): boolean => (s as unknown as WellFormedString).isWellFormed();
const toWellFormed = (s: string): string => (s as unknown as WellFormedString).toWellFormed();

/**
 * The string as it may be stored: well-formed, without NUL, at most `max` UTF-16
 * code units (never splitting a surrogate pair). Marks name the attribute.
 */
export function capString(s: string, max: number, marks: Marks, name: string): string {
  if (s.length <= max && s.indexOf('\0') < 0 && isWellFormed(s)) return s;
  let out = s;
  if (!isWellFormed(out)) {
    out = toWellFormed(out);
    addMark(marks, `invalid_utf8:${name}`);
  }
  if (out.indexOf('\0') >= 0) {
    out = out.replaceAll('\0', '\uFFFD');
    addMark(marks, `nul:${name}`);
  }
  if (out.length > max) {
    let end = max;
    const last = out.charCodeAt(end - 1);
    if (last >= 0xd800 && last <= 0xdbff) end--;
    out = out.slice(0, end);
    addMark(marks, `value_length:${name}`);
  }
  return out;
}

/** How many changes capping made (each replaced or truncated value or list), so the record can be marked rewritten. */
interface Tally {
  changes: number;
}

/** Caps one attribute value in place where possible; returns the value to store. */
function capValue(v: AnyValue | null | undefined, limits: Limits, depth: number, marks: Marks, name: string, tally: Tally): AnyValue | null | undefined {
  if (v == null) return v;
  if (Object.hasOwn(v, 'stringValue') && typeof v.stringValue === 'string') {
    const s = capString(v.stringValue, limits.maxValueLength, marks, name);
    return s === v.stringValue ? v : { stringValue: s };
  }
  if (Object.hasOwn(v, 'bytesValue') && v.bytesValue != null) {
    if (v.bytesValue.length <= limits.maxValueLength) return v;
    addMark(marks, `value_length:${name}`);
    return { bytesValue: v.bytesValue.subarray(0, limits.maxValueLength) };
  }
  const isArray = Object.hasOwn(v, 'arrayValue') && v.arrayValue != null;
  const isMap = !isArray && Object.hasOwn(v, 'kvlistValue') && v.kvlistValue != null;
  if (!isArray && !isMap) return v;
  if (depth >= limits.maxDepth) {
    addMark(marks, `depth:${name}`);
    return { stringValue: `[nested deeper than ${limits.maxDepth} levels: removed]` };
  }
  if (isArray) {
    const values = v.arrayValue!.values ?? [];
    if (values.length > limits.maxAttributes) {
      values.length = limits.maxAttributes;
      addMark(marks, `attribute_count:${name}`);
      tally.changes++;
    }
    for (let i = 0; i < values.length; i++) {
      const capped = capValue(values[i], limits, depth + 1, marks, name, tally) ?? {};
      if (capped !== values[i]) {
        values[i] = capped;
        tally.changes++;
      }
    }
    return v;
  }
  const kvs = v.kvlistValue!.values ?? [];
  if (kvs.length > limits.maxAttributes) {
    kvs.length = limits.maxAttributes;
    addMark(marks, `attribute_count:${name}`);
    tally.changes++;
  }
  capKeyValues(kvs, limits, depth + 1, marks, name, tally);
  return v;
}

function capKeyValues(kvs: KeyValue[], limits: Limits, depth: number, marks: Marks, parent: string | undefined, tally: Tally): void {
  for (let i = 0; i < kvs.length; i++) {
    const kv = kvs[i];
    const key = typeof kv?.key === 'string' ? capString(kv.key, MAX_KEY_LENGTH, marks, 'key') : '';
    const name = parent === undefined ? key : parent;
    const value = capValue(kv?.value, limits, depth, marks, name, tally);
    if (kv == null || key !== kv.key || value !== kv.value) {
      kvs[i] = { key, value: value ?? null };
      tally.changes++;
    }
  }
}

/**
 * Caps a record's own attributes (count, then each value) and makes its string
 * body well-formed. The body is otherwise left as sent: it is the original.
 */
export function capRecord(log: LogRecord, limits: Limits, marks: Marks): void {
  const tally: Tally = { changes: 0 };
  const attrs = log.attributes;
  if (attrs.length > limits.maxAttributes) {
    const dropped = attrs.length - limits.maxAttributes;
    attrs.length = limits.maxAttributes;
    log.droppedAttributesCount = (log.droppedAttributesCount ?? 0) + dropped;
    addMark(marks, 'attribute_count');
    tally.changes++;
  }
  capKeyValues(attrs, limits, 0, marks, undefined, tally);
  const body = log.body;
  if (body != null && Object.hasOwn(body, 'stringValue') && typeof body.stringValue === 'string' && !isWellFormed(body.stringValue)) {
    log.body = { stringValue: toWellFormed(body.stringValue) };
    addMark(marks, 'invalid_utf8:body');
    tally.changes++;
  }
  if (tally.changes > 0) markRewritten(log);
}
