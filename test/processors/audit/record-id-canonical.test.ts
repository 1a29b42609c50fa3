// The record id is computed over canonical text written as UTF-8 into a reused
// buffer, piece by piece. This property test holds it to the definition: the
// canonical text built as one string (the reference below, written from the
// format in src/processors/audit/record-id.ts) and hashed as UTF-8. Random
// records cover every AnyValue kind, astral and ill-formed strings (lone
// surrogates, which UTF-8 cannot hold), 64-bit extremes, entity refs and
// repeated records in one batch.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anyValue as anyValueArb, illFormedText, logRecord, validRequest } from '../../../src/fuzz/arbitraries.js';
import type { AnyValue, InstrumentationScope, KeyValue, LogRecord, Resource, VigilRecord } from '../../../src/pipeline/record.js';
import { anyValueKind, int64Text } from '../../../src/pipeline/record.js';
import { canonicalRecord, recordIds } from '../../../src/processors/audit/record-id.js';

const sha256 = (t: string) => createHash('sha256').update(t, 'utf8').digest('hex');

// ---- the reference: the canonical text as one string ----
const str = (v: string | undefined | null) => `${(v ?? '').length}:${v ?? ''}`;
const num = (v: number | undefined | null) => (v ? String(v) : '0');
const hex = (b: Uint8Array | undefined | null) => (b ? Buffer.from(b).toString('hex') : '');

function value(v: AnyValue | null | undefined): string {
  switch (anyValueKind(v)) {
    case 'string':
      return `s${str(v!.stringValue)}`;
    case 'bool':
      return v!.boolValue ? 'b1' : 'b0';
    case 'int':
      return `i${int64Text(v!.intValue, false)};`;
    case 'double':
      return `d${String(v!.doubleValue)};`;
    case 'array':
      return `a${(v!.arrayValue!.values ?? []).length}[${(v!.arrayValue!.values ?? []).map(value).join('')}]`;
    case 'kvlist':
      return `k${kvs(v!.kvlistValue!.values ?? [])}`;
    case 'bytes':
      return `y${str(hex(v!.bytesValue))}`;
    default:
      return '_';
  }
}
const kvs = (list: readonly KeyValue[]) => `${list.length}{${list.map((kv) => str(kv.key) + value(kv.value)).join('')}}`;
const resourceText = (r: Resource, url: string) =>
  `R${kvs(r.attributes ?? [])}${num(r.droppedAttributesCount)};${(r.entityRefs ?? [])
    .map((e) => str(e.schemaUrl) + str(e.type) + str((e.idKeys ?? []).join('\u0000')) + str((e.descriptionKeys ?? []).join('\u0000')))
    .join('')};${str(url)}`;
const scopeText = (sc: InstrumentationScope, url: string) => `S${str(sc.name)}${str(sc.version)}${kvs(sc.attributes ?? [])}${num(sc.droppedAttributesCount)};${str(url)}`;
const logText = (l: LogRecord) =>
  `L${int64Text(l.timeUnixNano, true)};${int64Text(l.observedTimeUnixNano, true)};${num(l.severityNumber)};${str(l.severityText)}` +
  `${value(l.body)}${kvs(l.attributes ?? [])}${num(l.droppedAttributesCount)};${num(l.flags)};${hex(l.traceId)};${hex(l.spanId)};${str(l.eventName)}`;
const reference = (r: VigilRecord) => sha256(resourceText(r.resource.resource, r.resource.schemaUrl)) + sha256(scopeText(r.scope.scope, r.scope.schemaUrl)) + logText(r.log);

function referenceIds(batch: VigilRecord[]): string[] {
  const counts = new Map<string, number>();
  return batch.map((r) => {
    const canon = reference(r);
    const k = counts.get(canon) ?? 0;
    counts.set(canon, k + 1);
    return sha256(k === 0 ? canon : `${canon}#${k}`).slice(0, 32);
  });
}

/** Records of a request as the pipeline holds them (resource and scope shared by their records). */
function recordsOf(req: fc.Arbitrary<ReturnType<typeof validRequest> extends fc.Arbitrary<infer T> ? T : never>) {
  return req.map((r) =>
    (r.resourceLogs ?? []).flatMap((rl) => {
      const resource = { resource: rl.resource ?? {}, schemaUrl: rl.schemaUrl ?? '' };
      return (rl.scopeLogs ?? []).flatMap((sl) => {
        const scope = { scope: sl.scope ?? {}, schemaUrl: sl.schemaUrl ?? '' };
        return (sl.logRecords ?? []).map((log) => ({ resource, scope, log }) as VigilRecord);
      });
    }),
  );
}

const illFormedRecord = fc
  .tuple(logRecord, illFormedText, illFormedText, anyValueArb)
  .map(([log, a, b, v]): VigilRecord => ({
    resource: { resource: { attributes: [{ key: a, value: { stringValue: b } }] }, schemaUrl: b },
    scope: { scope: { name: a }, schemaUrl: '' },
    log: { ...log, body: { stringValue: `${a}\u{1F600}${b}` }, attributes: [...(log.attributes ?? []), { key: b, value: v }, { key: 'x', value: { stringValue: a } }] },
  }));

describe('audit.record_id written into a buffer = the canonical text hashed as one string', () => {
  it('random requests, including repeated records', () => {
    fc.assert(
      fc.property(recordsOf(validRequest()), (batch) => {
        const doubled = [...batch, ...batch.slice(0, 2)];
        expect(recordIds(doubled)).toEqual(referenceIds(doubled));
      }),
      { numRuns: 300 },
    );
  });

  it('ill-formed strings (lone surrogates) hash as their UTF-8 replacement, as the text did', () => {
    fc.assert(
      fc.property(fc.array(illFormedRecord, { minLength: 1, maxLength: 4 }), (batch) => {
        expect(recordIds(batch)).toEqual(referenceIds(batch));
      }),
      { numRuns: 300 },
    );
  });

  it('keys past the key cache (every record with keys of its own, keys too long to cache) hash as the text did', () => {
    const resource = { resource: { attributes: [] }, schemaUrl: '' };
    const scope = { scope: {}, schemaUrl: '' };
    const batch: VigilRecord[] = Array.from({ length: 5000 }, (_, i) => ({
      resource,
      scope,
      log: { attributes: [{ key: `k-${i}-é`, value: { stringValue: 'v' } }, { key: 'common', value: { intValue: i } }, { key: `${'long-'.repeat(30)}${i % 3}`, value: { boolValue: true } }] },
    }));
    expect(recordIds(batch)).toEqual(referenceIds(batch));
  });

  it('canonicalRecord gives the reference text for well-formed records', () => {
    fc.assert(
      fc.property(recordsOf(validRequest({ nonEmpty: true })), (batch) => {
        for (const r of batch) expect(canonicalRecord(r)).toBe(reference(r));
      }),
      { numRuns: 100 },
    );
  });
});
