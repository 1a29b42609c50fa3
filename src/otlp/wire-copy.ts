// Copy-on-write copies of records decoded from protobuf, for a consumer that
// mutates beside others (src/pipeline/fan-out.ts, clone.ts). A record that is
// still its original bytes plus appended attributes (wire-frame.ts
// spliceableAttributes) is copied as those bytes plus a copy of its appends: a
// fresh LogRecord decoded again from the same bytes (immutable while records
// live), which decodes nothing of the original, gets a frame of its own (so it
// is spliced on encode) and shares no mutable object with the original. Any
// other record is copied object by object, by the caller.
import type { KeyValue, ResourceContext, ScopeContext, VigilRecord } from '../pipeline/record.js';
import { appendAttribute, undecodedParts } from '../pipeline/record.js';
import { FramedRecord, recordFrame, spliceableAttributes } from './wire-frame.js';
import { redecodeLogRecord } from './wire-record.js';

/** A LogRecord's nesting depth in a request, as wire-decode.ts reads it: request (0) → ResourceLogs → ScopeLogs → LogRecord. */
const LOG_RECORD_DEPTH = 3;

/**
 * The copy of `rec` as bytes + delta, under the given (already copied)
 * resource and scope, or undefined when `rec` must be copied object by object
 * (no frame, rewritten, changed since decode, or holding an own property a
 * decode does not make). The copy's attributes and body are decoded at once
 * when `eager`, else on first read. `copyKeyValue` copies each appended
 * attribute (sharing what cannot change), as the object copy would.
 */
export function copyAsBytes(
  rec: VigilRecord,
  resource: ResourceContext,
  scope: ScopeContext,
  eager: boolean,
  copyKeyValue: (kv: KeyValue) => KeyValue,
): VigilRecord | undefined {
  const s = spliceableAttributes(rec);
  if (s === undefined) return undefined;
  const { frame, list, from } = s;
  const log = rec.log;
  const copy = redecodeLogRecord(frame.buf, frame.start, frame.end, undecodedParts(log)?.depth ?? LOG_RECORD_DEPTH, eager);
  if (Object.keys(copy).length !== Object.keys(log).length) return undefined;
  // Byte fields are views into the request: a change in place to the copy's must reach neither the request nor the original.
  if (Object.hasOwn(copy, 'traceId')) copy.traceId = copyBytes(copy.traceId!);
  if (Object.hasOwn(copy, 'spanId')) copy.spanId = copyBytes(copy.spanId!);
  // The frame first: an eagerly decoded copy's frame takes its attributes as they are now for the originals.
  const out = new FramedRecord(resource, scope, copy, recordFrame(frame.buf, frame.start, frame.end, copy, false));
  for (let i = from; i < list.length; i++) appendAttribute(copy, copyKeyValue(list[i] as KeyValue));
  return out;
}

/** A copy of a byte field, of the same class (protobufjs reads bytes of a Buffer as Buffers). */
function copyBytes(b: Uint8Array): Uint8Array {
  return Buffer.isBuffer(b) ? Buffer.from(b) : new Uint8Array(b);
}
