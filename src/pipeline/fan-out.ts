// Handing one batch to several consumers (pipelines of a receiver, exporters of
// a pipeline), as the Collector's fan-out consumer does: consumers that only read
// share the batch; each consumer that mutates gets a copy of its own, and every
// copy is made before any consumer runs, so what one consumer does can never
// reach another (a processor running synchronously before a later copy was
// taken is how a raw pipeline once received audit.* attributes).
import { cloneBatch } from './clone.js';
import type { Consumer } from './component.js';
import { Refusal, asRefusal } from './errors.js';
import type { LogBatch } from './record.js';
import { batchToRequest, encodeProtobufRequest } from '../otlp/convert.js';

// The object encoding, not the splice one: a reader's change inside a value would not show in spliced bytes.
const encodeObjects = (batch: LogBatch): Uint8Array => encodeProtobufRequest(batchToRequest(batch));

/** A consumer and what it declared: whether it changes the records it is given. */
export interface Target {
  id: string;
  consumer: Consumer;
  mutatesData: boolean;
  /** Whether it reads every record (Consumer.readsRecords): its copy, if it gets one, is decoded at once. Unset: as the original is. */
  readsRecords?: boolean;
}

/**
 * The batch each target gets: readers share the original; each mutating target
 * gets a copy, except that when every target mutates the last one takes the
 * original (one copy fewer). All copies exist before this returns.
 */
export function batchesFor(targets: readonly Target[], batch: LogBatch): LogBatch[] {
  return targets.map((t, i) => (takesOriginal(targets, i) ? batch : cloneBatch(batch, t.readsRecords)));
}

/** Whether target i is given the original batch rather than a copy (see batchesFor). */
export function takesOriginal(targets: readonly Target[], i: number): boolean {
  if (!targets[i].mutatesData) return true;
  return i === targets.length - 1 && targets.every((t) => t.mutatesData);
}

/**
 * Gives the batch to every target (copying for mutating ones); succeeds only if
 * all of them durably took it. On a partial failure the client retries the
 * whole batch: targets that had already taken it see it twice (at-least-once,
 * deduplicated downstream by audit.record_id). With `checkReadOnly`, a target
 * that declared `mutatesData: false` but changed the shared batch is refused
 * (INTERNAL), naming it: the test-time guard behind the read-only types.
 */
export function fanOutTo(targets: readonly Target[], batch: LogBatch, checkReadOnly = false): Promise<void> {
  // Not async, and every consumer is started here so that only their promises are awaited: nothing
  // holds the batch while they wait for their writes (a batch alive at a young-generation collection
  // is promoted to the old space, which is most of what the steady pipeline promoted).
  try {
    const batches = targets.length === 1 && !targets[0].mutatesData ? [batch] : batchesFor(targets, batch);
    const readers = checkReadOnly ? targets.filter((t, i) => batches[i] === batch && !t.mutatesData) : [];
    if (readers.length > 0) return checkedFanOut(targets, batches, batch, readers);
    return settle(targets.map((t, i) => attempt(t.consumer, batches[i])));
  } catch (err) {
    return Promise.reject(err);
  }
}

/** fanOutTo with the read-only check: the shared batch encoded before and after the consumers ran. */
async function checkedFanOut(targets: readonly Target[], batches: LogBatch[], batch: LogBatch, readers: Target[]): Promise<void> {
  const before = encodeObjects(batch);
  // A consumer's own failure comes first: a read-only breach further down has already been named there.
  await settle(targets.map((t, i) => attempt(t.consumer, batches[i])));
  if (!Buffer.from(before).equals(encodeObjects(batch))) {
    throw new Refusal(
      'INTERNAL',
      `${readers.map((t) => t.id).join(', ')} declared mutatesData: false but changed the records it was given; declare mutatesData: true on its factory, or stop changing them`,
    );
  }
}

/** Gives the same batch to every consumer; succeeds only if all of them took it. */
export function fanOut(consumers: readonly Consumer[], batch: LogBatch): Promise<void> {
  return settle(consumers.map((c) => attempt(c, batch)));
}

/**
 * Waits for every call (all already started) and succeeds only if all
 * succeed. A non-retryable refusal wins, since retrying will not help;
 * otherwise the longest retry hint.
 */
async function settle(calls: readonly Promise<void>[]): Promise<void> {
  if (calls.length === 1) return calls[0];
  const results = await Promise.allSettled(calls);
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => asRefusal(r.reason));
  if (failures.length === 0) return;
  const permanent = failures.find((f) => !f.retryable);
  if (permanent) throw permanent;
  throw failures.reduce((a, b) => ((b.retryAfterMs ?? 0) > (a.retryAfterMs ?? 0) ? b : a));
}

/** A consumer's outcome as a promise, a synchronous throw included. */
function attempt(consumer: Consumer, batch: LogBatch): Promise<void> {
  try {
    return consumer.consume(batch);
  } catch (err) {
    return Promise.reject(err);
  }
}
