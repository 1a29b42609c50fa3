// Differential checks of the wire path against the object path (issue 12, item 6):
// the same request decoded by the wire decoder (src/otlp/wire-decode.ts) and by
// protobufjs (decodeProtobufRequest + requestToBatch) must give the same records
// field by field, with the same prototypes, the same sharing of resources and
// scopes, and the same refusals; and a batch encoded by splicing (wire-encode.ts)
// must read back exactly as the same batch encoded from its objects.
// Used by test/otlp/wire-*.test.ts and by the `wire.*` fuzz targets.
import protobuf from 'protobufjs';
import { decodeProtobufRequest, encodeBatchProtobuf, encodeProtobufRequest, encodeRecordRequest, batchToRequest, requestToBatch, type DecodedBatch } from '../otlp/convert.js';
import { ExportLogsServiceRequest, root } from '../otlp/schema.js';
import { decodeProtobufBatch } from '../otlp/wire-decode.js';
import { encodeBatchSpliced, encodeRecordsSpliced } from '../otlp/wire-encode.js';
import { FramedRecord, spliceableAttributes } from '../otlp/wire-frame.js';
import { cloneBatch } from '../pipeline/clone.js';
import { Refusal } from '../pipeline/errors.js';
import { appendAttribute, attributesUndecoded, dropAttribute, type KeyValue, type LogBatch, Long, markRewritten, type ReadonlyBatch, replaceAttribute } from '../pipeline/record.js';
import { describeError, Violation, type Outcome } from './contracts.js';

/** The first difference between two decoded values (prototypes, own keys, Longs, bytes), as a path; undefined when they are the same. */
export function firstDifference(a: unknown, b: unknown, path = '$'): string | undefined {
  if (Object.is(a, b)) return undefined;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return `${path}: ${show(a)} ≠ ${show(b)}`;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${path}: different classes (${a.constructor?.name} ≠ ${b.constructor?.name})`;
  if (Long.isLong(a)) {
    const x = a as Long;
    const y = b as Long;
    return x.low === y.low && x.high === y.high && x.unsigned === y.unsigned ? undefined : `${path}: ${x.toString()} ≠ ${y.toString()}`;
  }
  if (a instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b as Uint8Array)) ? undefined : `${path}: bytes differ`;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.join('\0') !== kb.join('\0')) return `${path}: own keys [${ka}] ≠ [${kb}]`;
  for (const k of ka) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    if (d !== undefined) return d;
  }
  return undefined;
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v).slice(0, 80) : String(v);
}

function decodeBoth(bytes: Uint8Array): { wire?: DecodedBatch; object?: DecodedBatch; wireError?: unknown; objectError?: unknown } {
  const out: { wire?: DecodedBatch; object?: DecodedBatch; wireError?: unknown; objectError?: unknown } = {};
  try {
    out.wire = decodeProtobufBatch(bytes);
  } catch (err) {
    out.wireError = err;
  }
  try {
    out.object = requestToBatch(decodeProtobufRequest(bytes));
  } catch (err) {
    out.objectError = err;
  }
  return out;
}

const LogRecordType = root.lookupType('opentelemetry.proto.logs.v1.LogRecord');

/**
 * The wire decoder and the object decoder agree on `bytes`: both refuse it with
 * INVALID_ARGUMENT, or both accept the same records (field by field, prototypes
 * included; the wire decoder's both as left undecoded and as decoded eagerly),
 * reject the same number for the same first reason, and group them under
 * resources and scopes the same way; and each record's frame holds bytes that
 * decode to that record.
 */
export function checkWireDecode(bytes: Uint8Array): Outcome {
  const { wire, object, wireError, objectError } = decodeBoth(bytes);
  if (wireError !== undefined || objectError !== undefined) {
    if (wireError !== undefined) {
      let eagerRefused = false;
      try {
        decodeProtobufBatch(bytes, true);
      } catch {
        eagerRefused = true;
      }
      if (!eagerRefused) throw new Violation(`the wire decoder accepted eagerly what it refused lazily (${describeError(wireError)})`);
    }
    if (wireError === undefined) throw new Violation(`the wire decoder accepted what protobufjs refused (${describeError(objectError)})`);
    if (objectError === undefined) throw new Violation(`the wire decoder refused what protobufjs accepted: ${describeError(wireError)}`);
    if (!(wireError instanceof Refusal) || wireError.code !== 'INVALID_ARGUMENT') throw new Violation(`the wire decoder failed other than with INVALID_ARGUMENT: ${describeError(wireError)}`);
    return 'refused';
  }
  const w = wire!;
  const o = object!;
  if (w.rejected !== o.rejected || w.rejectReason !== o.rejectReason) {
    throw new Violation(`partial success differs: wire rejected ${w.rejected} (${w.rejectReason}), protobufjs ${o.rejected} (${o.rejectReason})`);
  }
  if (w.records.length !== o.records.length) throw new Violation(`wire decoded ${w.records.length} records, protobufjs ${o.records.length}`);
  let eager: DecodedBatch | undefined;
  try {
    eager = decodeProtobufBatch(bytes, true);
  } catch (err) {
    throw new Violation(`the wire decoder refused eagerly what it accepted lazily: ${describeError(err)}`);
  }
  if (eager.records.length !== w.records.length || eager.rejected !== w.rejected) throw new Violation('the eager and the lazy wire decodes accept different records');
  for (let i = 0; i < w.records.length; i++) {
    const a = w.records[i];
    const b = o.records[i];
    const d = firstDifference(a.log, b.log, `records[${i}].log`) ?? firstDifference(a.resource, b.resource, `records[${i}].resource`) ?? firstDifference(a.scope, b.scope, `records[${i}].scope`);
    if (d !== undefined) throw new Violation(`decoded records differ at ${d}`);
    if (i > 0 && (a.resource === w.records[i - 1].resource) !== (b.resource === o.records[i - 1].resource)) throw new Violation(`records ${i - 1} and ${i} share a resource in one decoding only`);
    if (i > 0 && (a.scope === w.records[i - 1].scope) !== (b.scope === o.records[i - 1].scope)) throw new Violation(`records ${i - 1} and ${i} share a scope in one decoding only`);
    const frame = FramedRecord.frameOf(a);
    if (frame === undefined) throw new Violation(`record ${i} has no frame`);
    const e = eager!.records[i];
    if (attributesUndecoded(e.log)) throw new Violation(`record ${i} decoded eagerly has its attributes undecoded`);
    const ed = firstDifference(e.log, b.log, `records[${i}].log (eager)`);
    if (ed !== undefined) throw new Violation(`eagerly decoded records differ at ${ed}`);
    const again = LogRecordType.decode(protobuf.Reader.create(frame.buf.subarray(frame.start, frame.end)));
    const fd = firstDifference(again, a.log, `records[${i}] frame`);
    if (fd !== undefined) throw new Violation(`a record's frame does not hold its bytes: ${fd}`);
  }
  return w.rejected > 0 ? 'partial' : 'accepted';
}

/**
 * A protobuf request as protobufjs would write what it means: decoded and
 * encoded again (unknown fields dropped, repeated message fields merged, fields
 * in number order). Two encodings mean the same when their canonical forms are equal.
 */
export function canonicalProtobuf(bytes: Uint8Array): Buffer {
  return Buffer.from(ExportLogsServiceRequest.encode(ExportLogsServiceRequest.decode(bytes)).finish());
}

/** What encoding `batch` from its objects (the slow path) writes, canonically. */
export function objectEncoding(batch: ReadonlyBatch): Buffer {
  return canonicalProtobuf(encodeProtobufRequest(batchToRequest(batch)));
}

/** What to do to a decoded batch before encoding it: attributes to append, and one change that must force the slow path. */
export interface SplicePlan {
  appends: KeyValue[][];
  rewrite: 'none' | 'replace' | 'drop' | 'body' | 'time' | 'by-hand' | 'marked';
}

function applyPlan(batch: LogBatch, plan: SplicePlan): void {
  batch.forEach((rec, i) => {
    const attrs = rec.log.attributes;
    for (const kv of plan.appends[i % Math.max(1, plan.appends.length)] ?? []) appendAttribute(attrs, kv);
    if (i % 2 === 1 || attrs.length === 0) return;
    switch (plan.rewrite) {
      case 'replace':
        replaceAttribute(attrs, { key: attrs[0].key, value: { stringValue: 'replaced' } });
        break;
      case 'drop':
        dropAttribute(attrs, attrs[0].key);
        break;
      case 'body':
        rec.log.body = { stringValue: 'rewritten body' };
        break;
      case 'time':
        rec.log.timeUnixNano = Long.fromNumber(1, true);
        break;
      case 'by-hand':
        attrs[0] = { key: 'by-hand', value: { boolValue: true } };
        break;
      case 'marked':
        // A change inside a KeyValue (a shared one is frozen: replace that one), which only the mark announces.
        if (Object.isFrozen(attrs[0])) attrs[0] = { key: attrs[0].key, value: { stringValue: 'changed in place' } };
        else attrs[0].value = { stringValue: 'changed in place' };
        markRewritten(rec.log);
        break;
      default:
    }
  });
}

/** The wire decoder's reading of a request, or undefined when it refuses the request (the decoders' agreement on refusals is checkWireDecode's). */
function wireDecodedOrUndefined(bytes: Uint8Array): DecodedBatch | undefined {
  try {
    return decodeProtobufBatch(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Splicing is invisible: a request decoded by the wire decoder, appended to and
 * changed per `plan`, encodes (encodeBatchProtobuf, and each record alone with
 * encodeRecordRequest) to bytes that protobufjs reads back exactly as the object
 * encoding of the same records. Input the decoders refuse is 'refused' (their
 * agreement is checkWireDecode's).
 */
export function checkWireSplice(bytes: Uint8Array, plan: SplicePlan): Outcome {
  const decoded = wireDecodedOrUndefined(bytes);
  if (decoded === undefined) return 'refused';
  const batch = decoded.records;
  applyPlan(batch, plan);
  const expected = objectEncoding(batch);
  let got: Buffer;
  try {
    got = canonicalProtobuf(encodeBatchProtobuf(batch));
  } catch (err) {
    throw new Violation(`a spliced batch does not read back: ${describeError(err)}`);
  }
  if (!got.equals(expected)) throw new Violation(`the spliced batch means something else than its records: ${firstDifference(ExportLogsServiceRequest.decode(got), ExportLogsServiceRequest.decode(expected))}`);
  for (let i = 0; i < batch.length; i++) {
    if (!canonicalProtobuf(encodeRecordRequest(batch[i])).equals(objectEncoding([batch[i]]))) throw new Violation(`record ${i} alone (encodeRecordRequest) means something else than its objects`);
  }
  return decoded.rejected > 0 ? 'partial' : 'accepted';
}

/**
 * Lazy decoding is invisible (issue 12, item 1): the records of `bytes` as the
 * wire decoder leaves them (attributes and body undecoded, which is checked),
 * appended to through `appendAttribute(log, …)` without being read, encode by
 * splicing (as a batch and record by record) to the very bytes of the same
 * records read first (body first, or attributes first) and appended to; they
 * are still undecoded after being encoded (those that splice: one holding an
 * encoding protobufjs reads leniently is encoded from its objects); and once read they are, field by
 * field, the records protobufjs decodes eagerly with the same appends.
 * Input the decoders refuse is 'refused' (their agreement is checkWireDecode's).
 */
export function checkLazyDecode(bytes: Uint8Array, appends: readonly KeyValue[]): Outcome {
  let unread: DecodedBatch;
  try {
    unread = decodeProtobufBatch(bytes);
  } catch {
    return 'refused';
  }
  const bodyFirst = decodeProtobufBatch(bytes).records;
  const attributesFirst = decodeProtobufBatch(bytes).records;
  const eager = requestToBatch(decodeProtobufRequest(bytes)).records;
  unread.records.forEach((rec, i) => {
    if (!attributesUndecoded(rec.log)) throw new Violation(`record ${i} came out of the wire decoder with its attributes decoded`);
  });
  for (const rec of bodyFirst) void (rec.log.body, rec.log.attributes);
  for (const rec of attributesFirst) void (rec.log.attributes, rec.log.body);
  for (const batch of [unread.records, bodyFirst, attributesFirst, eager]) for (const rec of batch) for (const kv of appends) appendAttribute(rec.log, kv);
  // A record that may not be spliced (one holding an encoding protobufjs reads leniently) is encoded from its objects: read.
  const spliced = unread.records.map((rec) => spliceableAttributes(rec) !== undefined);
  const encodings = [unread.records, bodyFirst, attributesFirst].map((batch) => ({ batch: Buffer.from(encodeBatchSpliced(batch)), records: encodeRecordsSpliced(batch).bytes }));
  unread.records.forEach((rec, i) => {
    if (spliced[i] && !attributesUndecoded(rec.log)) throw new Violation(`encoding record ${i} (undecoded, with ${appends.length} appended attributes kept aside) decoded its attributes`);
  });
  for (const [k, name] of [
    [1, 'body first'],
    [2, 'attributes first'],
  ] as const) {
    if (!encodings[0].batch.equals(encodings[k].batch)) throw new Violation(`the undecoded batch spliced to other bytes than the same batch read ${name}`);
    if (!encodings[0].records.equals(encodings[k].records)) throw new Violation(`the undecoded records spliced one by one to other bytes than the same records read ${name}`);
  }
  if (!canonicalProtobuf(encodings[0].batch).equals(objectEncoding(eager))) throw new Violation('the undecoded batch spliced with its appends means something else than the eagerly decoded records with them');
  for (let i = 0; i < eager.length; i++) {
    const d = firstDifference(unread.records[i].log, eager[i].log, `records[${i}].log`);
    if (d !== undefined) throw new Violation(`a record read after its appends differs from the eagerly decoded one at ${d}`);
  }
  return unread.rejected > 0 ? 'partial' : 'accepted';
}

/** How a batch is copied in the wire.copy target: read first or not, and for which consumer. */
export interface CopyPlan {
  /** Attributes appended to every record before the copy (kept as the delta of records not yet read). */
  appends: KeyValue[];
  /** Read every record before the copy (its attributes and body decoded). */
  readFirst: boolean;
  /** cloneBatch's `eager`: the consumer reads every record, does not, or unknown. */
  eager: boolean | undefined;
}

/**
 * A fan-out's copy (cloneBatch) of a wire-decoded batch: copying leaves an
 * unread original unread, the copy reads field by field as the eagerly
 * decoded records with the same appends, is encoded (spliced where it is
 * still its bytes) to what they mean, and an append or rewrite on the copy
 * changes neither the original's objects nor its encoding.
 */
export function checkWireCopy(bytes: Uint8Array, plan: CopyPlan): Outcome {
  const decoded = wireDecodedOrUndefined(bytes);
  if (decoded === undefined) return 'refused';
  const batch = decoded.records;
  const eager = requestToBatch(decodeProtobufRequest(bytes)).records;
  for (const b of [batch, eager]) for (const rec of b) for (const kv of plan.appends) appendAttribute(rec.log, kv);
  if (plan.readFirst) for (const rec of batch) void rec.log.attributes;
  const copy = cloneBatch(batch, plan.eager);
  batch.forEach((rec, i) => {
    // A copy with a frame was made from the bytes; one without (a lenient encoding) is a deep copy, which reads the original.
    const asBytes = FramedRecord.frameOf(copy[i]) !== undefined;
    if (asBytes && !plan.readFirst && !attributesUndecoded(rec.log)) throw new Violation(`copying record ${i} decoded the original's attributes`);
  });
  const before = Buffer.from(encodeBatchSpliced(batch));
  for (let i = 0; i < eager.length; i++) {
    const d = firstDifference(copy[i].log, eager[i].log, `copy[${i}].log`) ?? firstDifference(copy[i].resource, eager[i].resource, `copy[${i}].resource`);
    if (d !== undefined) throw new Violation(`a copy differs from the eagerly decoded record at ${d}`);
  }
  if (!canonicalProtobuf(encodeBatchSpliced(copy)).equals(objectEncoding(eager))) throw new Violation('the copy encodes to something else than the eagerly decoded records');
  for (const rec of copy) {
    appendAttribute(rec.log, { key: 'copy.only', value: { boolValue: true } });
    if (rec.log.attributes.length > 1) dropAttribute(rec.log.attributes, rec.log.attributes[0].key);
    if (rec.log.traceId && rec.log.traceId.length > 0) rec.log.traceId[0] ^= 0xff;
  }
  if (!Buffer.from(encodeBatchSpliced(batch)).equals(before)) throw new Violation("a change to the copy reached the original's encoding");
  for (let i = 0; i < eager.length; i++) {
    const d = firstDifference(batch[i].log, eager[i].log, `records[${i}].log`);
    if (d !== undefined) throw new Violation(`a change to the copy reached the original at ${d}`);
  }
  return decoded.rejected > 0 ? 'partial' : 'accepted';
}
