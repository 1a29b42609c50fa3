// Which parser reads a body: JSON text or a kvlist → JSON mapping; text with a
// CLF time → CLF; nginx/Apache error lines → their extractor; anything else is
// unparsed and left as it was.
import type { AnyValue } from '../../pipeline/record.js';
import { scalarOf } from '../../pipeline/record.js';
import type { BodyParse, DurationUnit } from './fields.js';
import { parseClf } from './clf.js';
import { parseErrorLog } from './error-log.js';
import { type JsonObject, mapJsonObject, parseJsonText } from './json-body.js';

export interface BodyOptions {
  /** Bodies longer than this (UTF-16 code units) are not parsed: hostile input must not cost unbounded CPU. */
  maxParseLength: number;
  durationUnit: DurationUnit;
}

/** How deep a kvlist body is read for field lookups (access-log fields are at most 4 levels down). */
const KVLIST_READ_DEPTH = 6;
const KVLIST_READ_ENTRIES = 256;

/** Parses a record body; undefined when there is no body to read. */
export function parseBody(body: AnyValue | null | undefined, opts: BodyOptions): BodyParse | undefined {
  if (body == null) return undefined;
  if (Object.hasOwn(body, 'stringValue') && typeof body.stringValue === 'string') return parseText(body.stringValue, opts);
  if (Object.hasOwn(body, 'kvlistValue') && body.kvlistValue != null) {
    return mapJsonObject(kvlistToObject(body.kvlistValue.values ?? [], KVLIST_READ_DEPTH), { durationUnit: opts.durationUnit });
  }
  if (Object.keys(body).length === 0) return undefined;
  return { status: 'unparsed', fields: {}, issue: 'body is neither text nor a map' };
}

export function parseText(text: string, opts: BodyOptions): BodyParse | undefined {
  if (text.length === 0) return undefined;
  if (text.length > opts.maxParseLength) return { status: 'unparsed', fields: {}, issue: `body longer than ${opts.maxParseLength} characters is not parsed` };
  let i = 0;
  while (i < text.length && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
  if (text.charCodeAt(i) === 123 /* { */) {
    const json = parseJsonText(text, { durationUnit: opts.durationUnit });
    if (json) return json;
  }
  return parseClf(text) ?? parseErrorLog(text) ?? { status: 'unparsed', fields: {}, issue: 'body is not a CLF/Combined, JSON or error-log line' };
}

/** A kvlist as a plain object for lookups (bounded depth and size; bytes left out). */
export function kvlistToObject(values: readonly { key: string; value?: AnyValue | null }[], depth: number): JsonObject {
  const o: JsonObject = Object.create(null) as JsonObject;
  const n = Math.min(values.length, KVLIST_READ_ENTRIES);
  for (let i = 0; i < n; i++) {
    const kv = values[i];
    if (kv == null || typeof kv.key !== 'string') continue;
    const v = toPlain(kv.value, depth - 1);
    if (v !== undefined) o[kv.key] = v;
  }
  return o;
}

function toPlain(v: AnyValue | null | undefined, depth: number): unknown {
  if (v == null) return undefined;
  const s = scalarOf(v);
  if (s !== undefined) return s;
  if (depth <= 0) return undefined;
  if (Object.hasOwn(v, 'kvlistValue') && v.kvlistValue != null) return kvlistToObject(v.kvlistValue.values ?? [], depth);
  if (Object.hasOwn(v, 'arrayValue') && v.arrayValue != null) {
    return (v.arrayValue.values ?? []).slice(0, KVLIST_READ_ENTRIES).map((e) => toPlain(e, depth - 1));
  }
  return undefined;
}
