// A copy of a batch, for a consumer that mutates records while others read or
// mutate the same batch (see fan-out.ts). Records keep their order, records
// that shared a resource or scope share its copy, and every object keeps its
// prototype (protobufjs keeps field defaults there), so a processor sees a copy
// exactly as it sees the original.
//
// A record decoded from protobuf that is still its original bytes plus
// appended attributes is copied as bytes + delta (src/otlp/wire-copy.ts): a
// record over the same bytes with copies of its appended attributes, spliced on
// encode as the original is; copying an unread record decodes neither it nor
// (unless `eager`: the consumer reads every record) the copy. Every other
// record (rewritten, built in memory, decoded from JSON) is copied object by
// object. What cannot change is shared, not copied: strings and
// numbers, long.js values (immutable), frozen shared attributes
// (`sharedAttribute`) and a request's bytes. Byte arrays are copied.
import type { LogBatch, ResourceContext, ScopeContext, VigilRecord } from './record.js';
import { Long } from './record.js';
import { copyOverBytes } from '../otlp/wire-copy.js';
import { copyContextFrame } from '../otlp/wire-frame.js';

export function cloneBatch(batch: LogBatch, eager?: boolean): LogBatch {
  const resources = new Map<ResourceContext, ResourceContext>();
  const scopes = new Map<ScopeContext, ScopeContext>();
  const out: VigilRecord[] = new Array(batch.length);
  for (let i = 0; i < batch.length; i++) {
    const r = batch[i];
    let resource = resources.get(r.resource);
    if (resource === undefined) resources.set(r.resource, (resource = copyContext(r.resource)));
    let scope = scopes.get(r.scope);
    if (scope === undefined) scopes.set(r.scope, (scope = copyContext(r.scope)));
    out[i] = copyOverBytes(r, resource, scope, eager, deepCopy) ?? { resource, scope, log: deepCopy(r.log) };
  }
  return out;
}

/** A resource's or scope's copy, spliced from the original's bytes where the original still would be. */
function copyContext<C extends ResourceContext | ScopeContext>(ctx: C): C {
  const copy = deepCopy(ctx);
  copyContextFrame(ctx, copy);
  return copy;
}

function deepCopy<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Object.isFrozen(value) || Long.isLong(value)) return value;
  // Buffer's slice is a view, not a copy: copy explicitly, keeping the class (protobufjs decodes bytes to Buffers).
  if (value instanceof Uint8Array) return (Buffer.isBuffer(value) ? Buffer.from(value) : new Uint8Array(value)) as T;
  if (Array.isArray(value)) return value.map(deepCopy) as T;
  const copy = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>;
  for (const key of Object.keys(value)) copy[key] = deepCopy((value as Record<string, unknown>)[key]);
  return copy as T;
}
