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
import type { AnyValue, InstrumentationScope, KeyValue, LogRecord, Resource, ResourceContext, ScopeContext, VigilRecord } from '../../pipeline/record.js';
import { anyValueKind, int64Text } from '../../pipeline/record.js';

const resourceCanon = new WeakMap<ResourceContext, string>();
const scopeCanon = new WeakMap<ScopeContext, string>();

function s(v: string | undefined | null): string {
  const t = v ?? '';
  return `${t.length}:${t}`;
}

function n(v: number | undefined | null): string {
  return v ? String(v) : '0';
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lower-case hex, as Buffer#toString('hex') writes it; by table for trace and span ids (no Buffer per call). */
function bytes(b: Uint8Array | undefined | null): string {
  if (!b || b.length === 0) return '';
  if (b.length > 32) return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
  let out = '';
  for (let i = 0; i < b.length; i++) out += HEX[b[i]];
  return out;
}

function anyValue(v: AnyValue | null | undefined): string {
  // Most values are strings: read them without asking anyValueKind (the same answer: an own, non-null stringValue).
  if (v != null && typeof v.stringValue === 'string' && Object.hasOwn(v, 'stringValue')) return `s${s(v.stringValue)}`;
  switch (anyValueKind(v)) {
    case 'string':
      return `s${s(v!.stringValue)}`;
    case 'bool':
      return v!.boolValue ? 'b1' : 'b0';
    case 'int':
      return `i${int64Text(v!.intValue, false)};`;
    case 'double':
      return `d${String(v!.doubleValue)};`;
    case 'array': {
      const values = v!.arrayValue!.values ?? [];
      let out = `a${values.length}[`;
      for (const e of values) out += anyValue(e);
      return `${out}]`;
    }
    case 'kvlist':
      return `k${keyValues(v!.kvlistValue!.values ?? [])}`;
    case 'bytes':
      return `y${s(bytes(v!.bytesValue))}`;
    default:
      return '_';
  }
}

function keyValues(kvs: readonly KeyValue[]): string {
  let out = `${kvs.length}{`;
  for (const kv of kvs) out += s(kv?.key) + anyValue(kv?.value);
  return `${out}}`;
}

function canonResource(r: Resource, schemaUrl: string): string {
  let entities = '';
  for (const e of r.entityRefs ?? []) {
    entities += s(e.schemaUrl) + s(e.type) + s((e.idKeys ?? []).join('\u0000')) + s((e.descriptionKeys ?? []).join('\u0000'));
  }
  return `R${keyValues(r.attributes ?? [])}${n(r.droppedAttributesCount)};${entities};${s(schemaUrl)}`;
}

function canonScope(sc: InstrumentationScope, schemaUrl: string): string {
  return `S${s(sc.name)}${s(sc.version)}${keyValues(sc.attributes ?? [])}${n(sc.droppedAttributesCount)};${s(schemaUrl)}`;
}

export function canonLog(l: LogRecord): string {
  return (
    `L${int64Text(l.timeUnixNano, true)};${int64Text(l.observedTimeUnixNano, true)};${n(l.severityNumber)};${s(l.severityText)}` +
    `${anyValue(l.body)}${keyValues(l.attributes ?? [])}${n(l.droppedAttributesCount)};${n(l.flags)};` +
    `${bytes(l.traceId)};${bytes(l.spanId)};${s(l.eventName)}`
  );
}

/** The canonical text of a whole record (resource and scope memoised per shared object). */
export function canonicalRecord(rec: VigilRecord): string {
  let r = resourceCanon.get(rec.resource);
  if (r === undefined) {
    r = hash('sha256', canonResource(rec.resource.resource, rec.resource.schemaUrl), 'hex');
    resourceCanon.set(rec.resource, r);
  }
  let sc = scopeCanon.get(rec.scope);
  if (sc === undefined) {
    sc = hash('sha256', canonScope(rec.scope.scope, rec.scope.schemaUrl), 'hex');
    scopeCanon.set(rec.scope, sc);
  }
  return r + sc + canonLog(rec.log);
}

/** 128-bit hex id of a canonical text and its occurrence number in the batch. */
export function recordIdOf(canonical: string, occurrence: number): string {
  return hash('sha256', occurrence === 0 ? canonical : `${canonical}#${occurrence}`, 'hex').slice(0, 32);
}

/**
 * Ids for a batch, in order. Identical records get occurrence numbers 0, 1, 2…
 * in the order they appear, so the ids stay distinct and stable on resend.
 */
export function recordIds(batch: readonly VigilRecord[]): string[] {
  const ids = new Array<string>(batch.length);
  const seen = new Set<string>();
  let repeats: Map<string, number> | undefined; // occurrences so far of the ids seen more than once
  for (let i = 0; i < batch.length; i++) {
    const canon = canonicalRecord(batch[i]);
    const id = recordIdOf(canon, 0);
    const size = seen.size;
    seen.add(id); // one lookup for the usual first occurrence
    if (seen.size !== size) {
      ids[i] = id;
      continue;
    }
    repeats ??= new Map();
    const before = repeats.get(id) ?? 1;
    repeats.set(id, before + 1);
    ids[i] = recordIdOf(canon, before);
  }
  return ids;
}
