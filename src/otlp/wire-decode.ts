// Protobuf ExportLogsServiceRequest → LogBatch, remembering where each record's
// bytes are (wire-frame.ts) so that an unchanged record can be emitted again
// from them (wire-encode.ts).
//
// The walk over the request's outer levels (request → ResourceLogs → ScopeLogs)
// is written here, each LogRecord is decoded by wire-record.ts, and each
// Resource and InstrumentationScope by protobufjs's generated decoder, all on
// one protobufjs Reader at protobufjs's nesting depths. The result is exactly
// protobufjs's: the same classes and prototype defaults, strict UTF-8 (invalid
// UTF-8 in a string field refuses the request), the recursion limit, unknown
// fields skipped, wire-type mismatches treated as unknown fields, a message
// field sent twice merged, the same refusals. test/otlp/wire-decode.test.ts and
// the wire.decode fuzz target compare the two on valid, SDK-written, mutated,
// random and hostile input.
import protobuf from 'protobufjs';
import type { LogRecord, Resource, InstrumentationScope, ResourceContext, ScopeContext, VigilRecord } from '../pipeline/record.js';
import { Refusal } from '../pipeline/errors.js';
import { recordProblem, type DecodedBatch } from './convert.js';
import { root } from './schema.js';
import { FramedRecord, recordFrame, setResourceFrame, setScopeFrame } from './wire-frame.js';
import { decodeLogRecord as decodeLogRecordEager, decodeLogRecordLazy, takeLenient, walkContext } from './wire-record.js';

type Reader = protobuf.Reader;
/** A generated decoder: (reader, length, end-group tag, depth, message to merge into). */
type Decode<T> = (r: Reader, length: number, endGroup: undefined, depth: number, into?: T) => T;

function generatedDecoder<T>(name: string): Decode<T> {
  const type = root.lookupType(name);
  type.setup(); // replaces the lazy decode_setup (which drops the depth argument) with the generated decoder
  return type.decode.bind(type) as unknown as Decode<T>;
}

const decodeResource = generatedDecoder<Resource>('opentelemetry.proto.resource.v1.Resource');
const decodeScope = generatedDecoder<InstrumentationScope>('opentelemetry.proto.common.v1.InstrumentationScope');
const generatedLogRecord = generatedDecoder<LogRecord>('opentelemetry.proto.logs.v1.LogRecord');

/**
 * The hand-written LogRecord decoders (wire-record.ts): with its attributes and
 * body validated now and decoded when first read, or (`eager`) decoded now;
 * protobufjs's generated one when unknown fields are to be kept
 * (Reader.discardUnknown = false, never set by Vigil).
 */
function decodeLogRecord(r: Reader, length: number, depth: number, eager: boolean): LogRecord {
  if (!r.discardUnknown) return generatedLogRecord(r, length, undefined, depth);
  return eager ? decodeLogRecordEager(r, length, depth) : decodeLogRecordLazy(r, length, depth);
}

const LEN = 2;

class Batch {
  readonly records: VigilRecord[] = [];
  rejected = 0;
  rejectReason: string | undefined;

  constructor(
    readonly buf: Uint8Array,
    readonly eager: boolean,
  ) {}
}

/** Enters a length-delimited message of `length` bytes, as protobufjs does; returns the reader's previous limit. */
function enter(r: Reader, length: number): number {
  const end = r.pos + length;
  if (end > r.len) throw RangeError('index out of range');
  const saved = r.len;
  r.len = end;
  return saved;
}

function leave(r: Reader, saved: number): void {
  if (r.pos !== r.len) throw RangeError('index out of range');
  r.len = saved;
}

function checkDepth(depth: number): void {
  if (depth > protobuf.Reader.recursionLimit) throw Error('max depth exceeded');
}

/**
 * Whether a Resource's or scope's bytes may be spliced as they came: they hold
 * no encoding protobufjs reads leniently (wire-record.ts walkContext).
 */
function strictContext(bytes: Uint8Array, attributesField: number, stringsField: number, depth: number): boolean {
  takeLenient();
  try {
    walkContext(bytes, attributesField, stringsField, depth);
  } catch {
    takeLenient();
    return false; // protobufjs read it; if this walk cannot, the objects are what to trust
  }
  return !takeLenient();
}

/** ScopeLogs at nesting depth 2: scope (1), log_records (2), schema_url (3). */
function scopeLogs(r: Reader, length: number, depth: number, resource: ResourceContext, out: Batch): void {
  checkDepth(depth);
  const saved = enter(r, length);
  let scope: InstrumentationScope | undefined;
  let scopeStart = -1;
  let scopeEnd = -1;
  let scopeFields = 0;
  let schemaUrl = '';
  // Records point at the context now; it is filled once the whole ScopeLogs is read (the scope may come last).
  const ctx: ScopeContext = { scope: undefined as unknown as InstrumentationScope, schemaUrl: '' };
  while (r.pos < r.len) {
    const t = r.tag();
    const wire = t & 7;
    const field = t >>> 3;
    if (wire === LEN) {
      if (field === 2) {
        const size = r.size();
        const start = r.pos;
        takeLenient();
        const log = decodeLogRecord(r, size, depth + 1, out.eager);
        const lenient = takeLenient();
        const problem = recordProblem(log);
        if (problem !== undefined) {
          out.rejected++;
          out.rejectReason ??= problem;
          continue;
        }
        out.records.push(new FramedRecord(resource, ctx, log, recordFrame(out.buf, start, r.pos, log, lenient)));
        continue;
      }
      if (field === 1) {
        const size = r.size();
        scopeStart = r.pos;
        scope = decodeScope(r, size, undefined, depth + 1, scope);
        scopeEnd = r.pos;
        scopeFields++;
        continue;
      }
      if (field === 3) {
        schemaUrl = r.stringVerify();
        continue;
      }
    }
    r.skipType(wire, depth, field);
  }
  leave(r, saved);
  ctx.scope = scope ?? {};
  ctx.schemaUrl = schemaUrl;
  if (scopeFields === 1 && strictContext(out.buf.subarray(scopeStart, scopeEnd), 3, -1, depth + 1)) setScopeFrame(ctx, out.buf.subarray(scopeStart, scopeEnd));
}

/** ResourceLogs at nesting depth 1: resource (1), scope_logs (2), schema_url (3). */
function resourceLogs(r: Reader, length: number, depth: number, out: Batch): void {
  checkDepth(depth);
  const saved = enter(r, length);
  let resource: Resource | undefined;
  let resourceStart = -1;
  let resourceEnd = -1;
  let resourceFields = 0;
  let schemaUrl = '';
  const ctx: ResourceContext = { resource: undefined as unknown as Resource, schemaUrl: '' };
  while (r.pos < r.len) {
    const t = r.tag();
    const wire = t & 7;
    const field = t >>> 3;
    if (wire === LEN) {
      if (field === 2) {
        scopeLogs(r, r.size(), depth + 1, ctx, out);
        continue;
      }
      if (field === 1) {
        const size = r.size();
        resourceStart = r.pos;
        resource = decodeResource(r, size, undefined, depth + 1, resource);
        resourceEnd = r.pos;
        resourceFields++;
        continue;
      }
      if (field === 3) {
        schemaUrl = r.stringVerify();
        continue;
      }
    }
    r.skipType(wire, depth, field);
  }
  leave(r, saved);
  ctx.resource = resource ?? { attributes: [] };
  if (!ctx.resource.attributes) ctx.resource.attributes = [];
  ctx.schemaUrl = schemaUrl;
  if (resourceFields === 1 && strictContext(out.buf.subarray(resourceStart, resourceEnd), 1, 3, depth + 1)) setResourceFrame(ctx, out.buf.subarray(resourceStart, resourceEnd));
}

/**
 * Decodes a protobuf ExportLogsServiceRequest into its records, each knowing its
 * bytes in `bytes` (which must not change while the records live); records
 * with an unusable trace or span id are counted out (partial success).
 * Malformed input is an INVALID_ARGUMENT refusal, as decodeProtobufRequest's.
 * Records' attributes and bodies are left as their bytes until first read,
 * unless `eager` (the consumer reads every record: decoding them at once costs
 * less than a walk now and a decode later).
 */
export function decodeProtobufBatch(bytes: Uint8Array, eager = false): DecodedBatch {
  const out = new Batch(bytes, eager);
  try {
    const r = protobuf.Reader.create(bytes);
    while (r.pos < r.len) {
      const t = r.tag();
      const wire = t & 7;
      const field = t >>> 3;
      if (field === 1 && wire === LEN) {
        resourceLogs(r, r.size(), 1, out);
        continue;
      }
      r.skipType(wire, 0, field);
    }
  } catch (err) {
    throw Refusal.invalid(`malformed protobuf ExportLogsServiceRequest: ${(err as Error).message}`);
  }
  const { records, rejected, rejectReason } = out;
  return rejectReason === undefined ? { records, rejected } : { records, rejected, rejectReason };
}
