// audit.record_id: the same for a record however often a client resends it,
// different for different records. It is derived from the record as received,
// before Vigil changes anything:
//
//   id = first 128 bits, hex, of SHA-256( canonical(resource) ‖ canonical(scope) ‖ canonical(log record) [‖ "#" k] )
//
// The canonical form is a length-prefixed text serialisation of every field in
// protobuf field order, with unset and default values (0, "", empty) written
// the same way, and 64-bit integers as decimal: so a record decoded from
// protobuf, from OTLP/JSON, or rebuilt by `vigil replay` hashes the same.
// Attributes keep their order (a resend does not reorder them).
// k counts earlier byte-identical records in the same batch: two identical lines
// in one request stay two records, and a resend of the request gives the same ids.
import { hash } from 'node:crypto';
import type { AnyValue, KeyValue, LogRecord, ResourceContext, ScopeContext, VigilRecord } from '../../pipeline/record.js';
import { anyValueKind, int64Text, type Long } from '../../pipeline/record.js';
import { JsonWriter } from '../../otlp/json-writer.js';

// The canonical text is written as UTF-8 straight into one reused buffer and
// hashed there: no string per record for V8 to build, flatten and encode
// (it was a third of the bytes the running pipeline allocated). Strings are
// written piece by piece; each piece's UTF-8 is that of the same piece inside
// the whole text, since every string is preceded by ':' and followed by a
// letter, digit or punctuation (a lone surrogate stays U+FFFD either way).
const out = new JsonWriter();

const resourceCanon = new WeakMap<ResourceContext, string>();
const scopeCanon = new WeakMap<ScopeContext, string>();

/** A length-prefixed string: its length in UTF-16 units, ':', the string. */
function s(w: JsonWriter, v: string | undefined | null): void {
  const t = v ?? '';
  w.uint(t.length);
  w.ascii(':');
  w.text(t);
}

function n(w: JsonWriter, v: number | undefined | null): void {
  w.ascii(v ? String(v) : '0');
}

/** A 64-bit integer field as int64Text writes it; a Long (as decoded) without building the string. */
function int64(w: JsonWriter, v: Long | number | string | null | undefined, unsigned: boolean): void {
  if (v != null && typeof v === 'object') w.int64(v.low, v.high, unsigned); // a Long, from whichever copy of long.js
  else w.text(int64Text(v, unsigned));
}

/** Lower-case hex, as Buffer#toString('hex') writes it. */
function bytes(w: JsonWriter, b: Uint8Array | undefined | null): void {
  if (b) w.hex(b);
}

// Attribute keys repeat from record to record: each one's length-prefixed text
// is encoded once. Bounded in count and in key length (the id is computed before
// the limits cut anything), since a sender may make every key unique or huge.
const KEY_CACHE_LIMIT = 4096;
const MAX_CACHED_KEY = 128;
const keyTexts = new Map<string, Uint8Array>();

/** An attribute key, length-prefixed as `s` writes it. */
function key(w: JsonWriter, k: string | undefined | null): void {
  if (typeof k !== 'string' || k.length > MAX_CACHED_KEY) return s(w, k);
  let b = keyTexts.get(k);
  if (b === undefined) {
    if (keyTexts.size >= KEY_CACHE_LIMIT) return s(w, k);
    b = Buffer.from(`${k.length}:${k}`, 'utf8');
    keyTexts.set(k, b);
  }
  w.bytes(b);
}

function anyValue(w: JsonWriter, v: AnyValue | null | undefined): void {
  // Most values are strings: read them without asking anyValueKind (the same answer: an own, non-null stringValue).
  if (v != null && typeof v.stringValue === 'string' && Object.hasOwn(v, 'stringValue')) {
    w.ascii('s');
    s(w, v.stringValue);
    return;
  }
  switch (anyValueKind(v)) {
    case 'string':
      w.ascii('s');
      s(w, v!.stringValue);
      return;
    case 'bool':
      w.ascii(v!.boolValue ? 'b1' : 'b0');
      return;
    case 'int':
      w.ascii('i');
      int64(w, v!.intValue, false);
      w.ascii(';');
      return;
    case 'double':
      w.ascii('d');
      w.ascii(String(v!.doubleValue));
      w.ascii(';');
      return;
    case 'array': {
      const values = v!.arrayValue!.values ?? [];
      w.ascii('a');
      w.uint(values.length);
      w.ascii('[');
      for (const e of values) anyValue(w, e);
      w.ascii(']');
      return;
    }
    case 'kvlist':
      w.ascii('k');
      keyValues(w, v!.kvlistValue!.values ?? []);
      return;
    case 'bytes': {
      const b = v!.bytesValue;
      w.ascii('y');
      w.uint(b ? 2 * b.length : 0);
      w.ascii(':');
      bytes(w, b);
      return;
    }
    default:
      w.ascii('_');
  }
}

function keyValues(w: JsonWriter, kvs: readonly KeyValue[]): void {
  w.uint(kvs.length);
  w.ascii('{');
  for (const kv of kvs) {
    key(w, kv?.key);
    anyValue(w, kv?.value);
  }
  w.ascii('}');
}

function canonResource(w: JsonWriter, ctx: ResourceContext): void {
  const r = ctx.resource;
  w.ascii('R');
  keyValues(w, r.attributes ?? []);
  n(w, r.droppedAttributesCount);
  w.ascii(';');
  for (const e of r.entityRefs ?? []) {
    s(w, e.schemaUrl);
    s(w, e.type);
    s(w, (e.idKeys ?? []).join('\u0000'));
    s(w, (e.descriptionKeys ?? []).join('\u0000'));
  }
  w.ascii(';');
  s(w, ctx.schemaUrl);
}

function canonScope(w: JsonWriter, ctx: ScopeContext): void {
  const sc = ctx.scope;
  w.ascii('S');
  s(w, sc.name);
  s(w, sc.version);
  keyValues(w, sc.attributes ?? []);
  n(w, sc.droppedAttributesCount);
  w.ascii(';');
  s(w, ctx.schemaUrl);
}

function canonLog(w: JsonWriter, l: LogRecord): void {
  w.ascii('L');
  int64(w, l.timeUnixNano, true);
  w.ascii(';');
  int64(w, l.observedTimeUnixNano, true);
  w.ascii(';');
  n(w, l.severityNumber);
  w.ascii(';');
  s(w, l.severityText);
  anyValue(w, l.body);
  keyValues(w, l.attributes ?? []);
  n(w, l.droppedAttributesCount);
  w.ascii(';');
  n(w, l.flags);
  w.ascii(';');
  bytes(w, l.traceId);
  w.ascii(';');
  bytes(w, l.spanId);
  w.ascii(';');
  s(w, l.eventName);
}

const sha256Hex = (w: JsonWriter): string => hash('sha256', w.written(), 'hex');

/** The hash of a shared resource or scope's canonical text, computed once per object (`w` is overwritten when it is not known yet). */
function memoisedHash<K extends object>(w: JsonWriter, cache: WeakMap<K, string>, key: K, canon: (w: JsonWriter, key: K) => void): string {
  let h = cache.get(key);
  if (h === undefined) {
    w.reset();
    canon(w, key);
    h = sha256Hex(w);
    cache.set(key, h);
  }
  return h;
}

/** Writes the canonical text of a whole record into `w` (resource and scope memoised per shared object, as their hashes). */
function writeCanonical(w: JsonWriter, rec: VigilRecord): void {
  const r = memoisedHash(w, resourceCanon, rec.resource, canonResource);
  const sc = memoisedHash(w, scopeCanon, rec.scope, canonScope);
  w.reset();
  w.ascii(r);
  w.ascii(sc);
  canonLog(w, rec.log);
}

/** The canonical text of a whole record, as text (what the id hashes, as UTF-8). */
export function canonicalRecord(rec: VigilRecord): string {
  writeCanonical(out, rec);
  return out.takeText();
}

/** 128-bit hex id of the canonical text in `w` and its occurrence number in the batch (appended as "#k", so `w` holds it after). */
function recordIdOf(w: JsonWriter, occurrence: number): string {
  if (occurrence > 0) {
    w.ascii('#');
    w.ascii(String(occurrence));
  }
  return sha256Hex(w).slice(0, 32);
}

/**
 * Ids for a batch, in order. Identical records get occurrence numbers 0, 1, 2…
 * in the order they appear, so the ids stay distinct and stable on resend.
 */
export function recordIds(batch: readonly VigilRecord[]): string[] {
  const ids = new Array<string>(batch.length);
  const seen = new Set<string>();
  let repeats: Map<string, number> | undefined; // occurrences so far of the ids seen more than once
  try {
    for (let i = 0; i < batch.length; i++) {
      writeCanonical(out, batch[i]);
      const id = recordIdOf(out, 0);
      const size = seen.size;
      seen.add(id); // one lookup for the usual first occurrence
      if (seen.size !== size) {
        ids[i] = id;
        continue;
      }
      repeats ??= new Map();
      const before = repeats.get(id) ?? 1;
      repeats.set(id, before + 1);
      ids[i] = recordIdOf(out, before);
    }
  } finally {
    out.reset();
  }
  return ids;
}
