// Where a decoded record's bytes are in the request it arrived in, and what it
// looked like then: what the splice encoder (wire-encode.ts) needs to emit the
// record from its original bytes, and to tell whether it still may.
//
// A frame is attached at decode (wire-decode.ts) and never changes. A record
// may be spliced only if, since decode, it was not marked rewritten (record.ts
// `markRewritten`, set by replaceAttribute / dropAttribute and by processors
// that change a record by hand) and a cheap check of the record against its
// frame finds nothing changed: the same LogRecord object, every scalar field
// and the body the same values or objects, the original attributes the same
// KeyValue objects in the same places. Anything else takes the slow path. A
// record whose attributes and body were never read (record.ts UndecodedParts)
// is checked without decoding them: its appends are the delta kept beside its
// bytes, and the accessors that would have changed them decode them first.
import type { Immutable, KeyValue, LogRecord, ResourceContext, ScopeContext, VigilRecord } from '../pipeline/record.js';
import { isRewritten, undecodedParts } from '../pipeline/record.js';

/** A LogRecord's bytes in the request, and its fields as decoded. */
export class RecordFrame {
  readonly time: unknown;
  readonly observed: unknown;
  readonly severityNumber: unknown;
  readonly severityText: unknown;
  readonly dropped: unknown;
  readonly flags: unknown;
  readonly traceId: unknown;
  readonly spanId: unknown;
  readonly eventName: unknown;
  /** An eagerly decoded record's attribute list and body as they came (a lazily decoded one keeps them in its UndecodedParts). */
  readonly #attrs: readonly KeyValue[] | undefined;
  readonly #body: unknown;

  /**
   * `buf` is the request the record arrived in; the LogRecord message is
   * buf[start, end) (without tag and length). `lenient`: the bytes hold an
   * encoding protobufjs reads leniently (wire-record.ts), so they are never
   * spliced, as other decoders would read them otherwise.
   */
  constructor(
    readonly buf: Uint8Array,
    readonly start: number,
    readonly end: number,
    readonly log: LogRecord,
    readonly lenient = false,
  ) {
    const lazy = undecodedParts(log) !== undefined;
    this.#attrs = lazy ? undefined : log.attributes.slice();
    this.#body = lazy ? undefined : log.body;
    this.time = log.timeUnixNano;
    this.observed = log.observedTimeUnixNano;
    this.severityNumber = log.severityNumber;
    this.severityText = log.severityText;
    this.dropped = log.droppedAttributesCount;
    this.flags = log.flags;
    this.traceId = log.traceId;
    this.spanId = log.spanId;
    this.eventName = log.eventName;
  }

  /** The decoded attribute list, as it came (decoding a lazy record's attributes if nothing has yet). */
  get attrs(): readonly KeyValue[] {
    const p = undecodedParts(this.log);
    if (p === undefined) return this.#attrs!;
    if (p.attributes === undefined) void this.log.attributes;
    return p.original;
  }

  /** An eagerly decoded record's body as it came. */
  get eagerBody(): unknown {
    return this.#body;
  }
}

export function recordFrame(buf: Uint8Array, start: number, end: number, log: LogRecord, lenient = false): RecordFrame {
  return new RecordFrame(buf, start, end, log, lenient);
}

/** A record as the wire decoder builds it: a VigilRecord that knows its frame (invisible to everything else). */
export class FramedRecord implements VigilRecord {
  readonly #frame: RecordFrame;

  constructor(
    public resource: ResourceContext,
    public scope: ScopeContext,
    public log: LogRecord,
    frame: RecordFrame,
  ) {
    this.#frame = frame;
  }

  /** The record's frame, when it was decoded from protobuf (copies, JSON input and new records have none). */
  static frameOf(rec: Immutable<VigilRecord>): RecordFrame | undefined {
    return #frame in rec ? (rec as FramedRecord).#frame : undefined;
  }
}

/** A spliceable record's appended attributes: `list[from…]`, in order. */
export interface Spliceable {
  frame: RecordFrame;
  list: readonly Immutable<KeyValue>[];
  from: number;
}

const NONE: readonly KeyValue[] = Object.freeze([]);

/**
 * The record's frame and its appended attributes when the record may be
 * spliced (its original bytes + the appended attributes); undefined when it
 * must be encoded from its objects. A record whose attributes and body were
 * never read is answered without decoding them: its appends are the delta kept
 * beside its bytes.
 */
export function spliceableAttributes(rec: Immutable<VigilRecord>): Spliceable | undefined {
  const f = FramedRecord.frameOf(rec);
  if (f === undefined || f.lenient) return undefined;
  const log = rec.log;
  if (log !== f.log || isRewritten(log)) return undefined;
  if (
    log.timeUnixNano !== f.time ||
    log.observedTimeUnixNano !== f.observed ||
    log.severityNumber !== f.severityNumber ||
    log.severityText !== f.severityText ||
    log.droppedAttributesCount !== f.dropped ||
    log.flags !== f.flags ||
    log.traceId !== f.traceId ||
    log.spanId !== f.spanId ||
    log.eventName !== f.eventName
  ) {
    return undefined;
  }
  const p = undecodedParts(log);
  if (p === undefined) return log.body === f.eagerBody ? appendedAfter(f, log.attributes, f.attrs) : undefined;
  // Without a body field the record has no body accessor: an assigned body is an own data property.
  if (!p.bodyField && log.body !== null) return undefined;
  if (p.attributes === undefined) return { frame: f, list: p.appended ?? NONE, from: 0 };
  return p.body === p.originalBody ? appendedAfter(f, p.attributes, p.original) : undefined;
}

/** The appended attributes when `attrs` starts with the original KeyValues, in their places. */
function appendedAfter(f: RecordFrame, attrs: readonly Immutable<KeyValue>[], orig: readonly KeyValue[]): Spliceable | undefined {
  if (!Array.isArray(attrs) || attrs.length < orig.length) return undefined;
  for (let i = 0; i < orig.length; i++) if (attrs[i] !== orig[i]) return undefined;
  return { frame: f, list: attrs, from: orig.length };
}

/** A resource's or scope's message bytes in the request (when it came as one field), and its fields as decoded. */
interface ContextFrame {
  /** The Resource / InstrumentationScope message, without tag and length. */
  readonly bytes: Uint8Array;
  readonly message: object;
  readonly attrs: readonly KeyValue[];
  /** Resource: droppedAttributesCount, entityRefs, -; scope: droppedAttributesCount, name, version. */
  readonly f1: unknown;
  readonly f2: unknown;
  readonly f3: unknown;
}

const contextFrames = new WeakMap<ResourceContext | ScopeContext, ContextFrame>();

export function setResourceFrame(ctx: ResourceContext, bytes: Uint8Array): void {
  const r = ctx.resource;
  contextFrames.set(ctx, { bytes, message: r, attrs: (r.attributes ?? []).slice(), f1: r.droppedAttributesCount, f2: r.entityRefs, f3: undefined });
}

export function setScopeFrame(ctx: ScopeContext, bytes: Uint8Array): void {
  const s = ctx.scope;
  contextFrames.set(ctx, { bytes, message: s, attrs: (s.attributes ?? []).slice(), f1: s.droppedAttributesCount, f2: s.name, f3: s.version });
}

function sameAttributes(f: ContextFrame, attrs: readonly Immutable<KeyValue>[] | undefined): boolean {
  if (attrs === undefined || attrs.length !== f.attrs.length) return false;
  for (let i = 0; i < attrs.length; i++) if (attrs[i] !== f.attrs[i]) return false;
  return true;
}

/** The resource's original bytes, when it came as one field and is unchanged since. */
export function originalResourceBytes(ctx: Immutable<ResourceContext>): Uint8Array | undefined {
  const f = contextFrames.get(ctx as ResourceContext);
  if (f === undefined) return undefined;
  const r = ctx.resource;
  return r === f.message && r.droppedAttributesCount === f.f1 && r.entityRefs === f.f2 && sameAttributes(f, r.attributes) ? f.bytes : undefined;
}

/** The scope's original bytes, when it came as one field and is unchanged since. */
export function originalScopeBytes(ctx: Immutable<ScopeContext>): Uint8Array | undefined {
  const f = contextFrames.get(ctx as ScopeContext);
  if (f === undefined) return undefined;
  const s = ctx.scope;
  return s === f.message && s.droppedAttributesCount === f.f1 && s.name === f.f2 && s.version === f.f3 && sameAttributes(f, s.attributes) ? f.bytes : undefined;
}

/**
 * Gives `copy` (a deep copy of `ctx`) the frame of `ctx` when `ctx` is still
 * its original bytes, so the copy is spliced from them too; the copy's frame
 * checks the copy's own objects from then on.
 */
export function copyContextFrame(ctx: Immutable<ResourceContext> | Immutable<ScopeContext>, copy: ResourceContext | ScopeContext): void {
  const f = contextFrames.get(ctx as ResourceContext);
  if (f === undefined) return;
  if ('resource' in copy) {
    const bytes = originalResourceBytes(ctx as Immutable<ResourceContext>);
    if (bytes !== undefined) setResourceFrame(copy, bytes);
  } else {
    const bytes = originalScopeBytes(ctx as Immutable<ScopeContext>);
    if (bytes !== undefined) setScopeFrame(copy, bytes);
  }
}
