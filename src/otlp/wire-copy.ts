// Copy-on-write copies of records decoded from protobuf, for a consumer that
// mutates beside others (src/pipeline/fan-out.ts, clone.ts). A record that is
// still its original bytes plus appended attributes (wire-frame.ts
// spliceableAttributes) is copied as a record over the same bytes (immutable
// while records live) with a frame of its own, so the copy is spliced on encode
// as the original is, plus copies of its appends:
//   - a record nobody has read, or a copy for a consumer that does not read
//     every record: a fresh LogRecord decoded again from the bytes, its
//     attributes and body undecoded until first read (or decoded at once for a
//     consumer that reads every record); the original stays undecoded;
//   - a record already read (its objects exist): its objects copied, which is
//     cheaper than decoding them again (strings are shared, not rebuilt).
// Either way the copy shares no mutable object with the original. Any other
// record is copied object by object without a frame, by the caller.
import type { KeyValue, LogRecord, ResourceContext, ScopeContext, VigilRecord } from '../pipeline/record.js';
import { appendAttribute, attributesUndecoded, undecodedParts } from '../pipeline/record.js';
import { FramedRecord, recordFrame, spliceableAttributes, type Spliceable } from './wire-frame.js';
import { redecodeLogRecord } from './wire-record.js';

/** A LogRecord's nesting depth in a request, as wire-decode.ts reads it: request (0) → ResourceLogs → ScopeLogs → LogRecord. */
const LOG_RECORD_DEPTH = 3;

/** A deep copy that keeps prototypes and shares what cannot change (clone.ts). */
export type CopyValue = <T>(value: T) => T;

/**
 * The copy of `rec` over its bytes, under the given (already copied) resource
 * and scope, or undefined when `rec` must be copied object by object (no
 * frame, rewritten, or changed since decode). `eager`: the consumer reads
 * every record (true), does not (false), or unknown (undefined: as the
 * original is).
 */
export function copyOverBytes(rec: VigilRecord, resource: ResourceContext, scope: ScopeContext, eager: boolean | undefined, copyValue: CopyValue): VigilRecord | undefined {
  const s = spliceableAttributes(rec);
  if (s === undefined) return undefined;
  if (!attributesUndecoded(rec.log) && eager !== false) return copyObjects(rec.log, s, resource, scope, copyValue);
  return redecode(rec.log, s, resource, scope, eager === true, copyValue);
}

/** A fresh record decoded again from the bytes, with copies of the appends. */
function redecode(log: LogRecord, s: Spliceable, resource: ResourceContext, scope: ScopeContext, eager: boolean, copyValue: CopyValue): VigilRecord | undefined {
  const { frame, list, from } = s;
  const copy = redecodeLogRecord(frame.buf, frame.start, frame.end, undecodedParts(log)?.depth ?? LOG_RECORD_DEPTH, eager);
  // An own key a decode does not make (a `body: null` assigned where none came): the object copy keeps it where it is.
  if (Object.keys(copy).length !== Object.keys(log).length) return undefined;
  // Byte fields are views into the request: a change in place to the copy's must reach neither the request nor the original.
  if (Object.hasOwn(copy, 'traceId')) copy.traceId = copyValue(copy.traceId);
  if (Object.hasOwn(copy, 'spanId')) copy.spanId = copyValue(copy.spanId);
  // The frame first: an eagerly decoded copy's frame takes its attributes as they are now for the originals.
  const out = new FramedRecord(resource, scope, copy, recordFrame(frame.buf, frame.start, frame.end, copy, false));
  for (let i = from; i < list.length; i++) appendAttribute(copy, copyValue(list[i] as KeyValue));
  return out;
}

/** The record's objects copied, with a frame over the original's bytes that takes the copies of the original attributes as the originals. */
function copyObjects(log: LogRecord, s: Spliceable, resource: ResourceContext, scope: ScopeContext, copyValue: CopyValue): VigilRecord {
  const { frame, from } = s;
  const copy = copyValue(log);
  const appended = copy.attributes.splice(from);
  const out = new FramedRecord(resource, scope, copy, recordFrame(frame.buf, frame.start, frame.end, copy, false));
  for (const kv of appended) copy.attributes.push(kv);
  return out;
}
