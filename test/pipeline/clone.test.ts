// cloneBatch: a copy a mutating consumer can change freely, equal to the
// original in every field, order and sharing, and faster than the protobuf round
// trip it replaced (speed itself is measured in bench/, not asserted here).
import fc from 'fast-check';
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { mutatedProtobuf, validRequest } from '../../src/fuzz/arbitraries.js';
import { officialRequest } from '../../src/fuzz/otel-arbitraries.js';
import { firstDifference } from '../../src/fuzz/wire-differential.js';
import { batchToRequest, decodeProtobufRequest, encodeBatchProtobuf, encodeProtobufRequest, requestToBatch } from '../../src/otlp/convert.js';
import { decodeJsonRequest, encodeJsonRequest } from '../../src/otlp/json.js';
import { decodeProtobufBatch } from '../../src/otlp/wire-decode.js';
import { assertSameMeaning, setSpliceCheck } from '../../src/otlp/wire-encode.js';
import { spliceableAttributes } from '../../src/otlp/wire-frame.js';
import { cloneBatch } from '../../src/pipeline/clone.js';
import {
  appendAttribute,
  attributesUndecoded,
  dropAttribute,
  markRewritten,
  replaceAttribute,
  sharedAttribute,
  undecodedParts,
  type LogBatch,
} from '../../src/pipeline/record.js';
import { kv, makeBatch } from '../helpers/records.js';
import { fullRequest } from '../receivers/otlp/clients.js';

/** A batch as the receiver gives it: decoded from protobuf, so protobufjs objects with defaults on their prototypes. */
function decoded(): LogBatch {
  return requestToBatch(decodeProtobufRequest(encodeBatchProtobuf(requestToBatch(fullRequest()).records))).records;
}

const SEED = 20261204;

describe('cloneBatch', () => {
  it('copies every field, keeping order, sharing of resources and scopes, and prototypes', () => {
    for (const batch of [decoded(), requestToBatch(decodeJsonRequest(encodeJsonRequest(fullRequest())).request).records]) {
      const copy = cloneBatch(batch);
      expect(Buffer.from(encodeBatchProtobuf(copy))).toEqual(Buffer.from(encodeBatchProtobuf(batch)));
      expect(encodeJsonRequest(batchToRequest(copy))).toBe(encodeJsonRequest(batchToRequest(batch)));
      expect(copy.map((r) => r.log.body)).toEqual(batch.map((r) => r.log.body));
      for (let i = 0; i < batch.length; i++) {
        expect(copy[i].log).not.toBe(batch[i].log);
        expect(Object.getPrototypeOf(copy[i].log)).toBe(Object.getPrototypeOf(batch[i].log));
        // Defaults on the prototype read the same (severityText '' where the sender set none).
        expect(copy[i].log.severityText).toBe(batch[i].log.severityText);
        for (let j = 0; j < batch.length; j++) {
          expect(copy[i].resource === copy[j].resource).toBe(batch[i].resource === batch[j].resource);
          expect(copy[i].scope === copy[j].scope).toBe(batch[i].scope === batch[j].scope);
        }
      }
    }
  });

  it('gives a copy whose changes never reach the original', () => {
    const batch = decoded();
    const before = Buffer.from(encodeBatchProtobuf(batch));
    const copy = cloneBatch(batch);
    for (const r of copy) {
      r.log.attributes.push(kv('added', 1));
      r.log.body = { stringValue: 'changed' };
      r.resource.resource.attributes.push(kv('res', 'x'));
      if (r.log.traceId && r.log.traceId.length > 0) r.log.traceId[0] ^= 0xff;
      const v = r.log.attributes.find((a) => a.key === 'array')?.value;
      if (v?.arrayValue) v.arrayValue.values.push({ boolValue: true });
    }
    copy.push(copy[0]);
    expect(Buffer.from(encodeBatchProtobuf(batch))).toEqual(before);
  });

  it('shares what cannot change: frozen shared attributes and 64-bit values', () => {
    const batch = makeBatch(2);
    const shared = sharedAttribute('audit.outcome', 'success');
    for (const r of batch) r.log.attributes.push(shared, { key: 'n', value: { intValue: Long.fromNumber(7) } });
    const copy = cloneBatch(batch);
    expect(copy[0].log.attributes[0]).toBe(shared);
    expect(copy[1].log.attributes[0]).toBe(shared);
    expect(copy[0].log.attributes[1]).not.toBe(batch[0].log.attributes[1]);
    expect(copy[0].log.attributes[1].value!.intValue).toBe(batch[0].log.attributes[1].value!.intValue);
  });
});

// ---- copies as bytes + delta -------------------------------------------------------
//
// A record decoded from protobuf that is still its bytes plus appended attributes
// is copied as a fresh record over the same bytes with copies of its appends
// (src/otlp/wire-copy.ts). Whatever a batch went through (decoded lazily or at
// once, read or not, appended to, rewritten, from JSON), its copy must read as a
// plain deep copy of it, field by field, share no mutable object with it, encode
// to what the deep copy encodes to, and never see a change made to the other side.

/** The reference: an object walk reading every field (through the lazy accessors), as cloneBatch once was. */
function plainDeepCopy(batch: LogBatch): LogBatch {
  const contexts = new Map<object, object>();
  const ctx = <T extends object>(c: T): T => {
    if (!contexts.has(c)) contexts.set(c, walkCopy(c));
    return contexts.get(c) as T;
  };
  return batch.map((r) => ({ resource: ctx(r.resource), scope: ctx(r.scope), log: walkCopy(r.log) }));
}

function walkCopy<T>(v: T): T {
  if (v === null || typeof v !== 'object' || Object.isFrozen(v) || Long.isLong(v)) return v;
  if (v instanceof Uint8Array) return (Buffer.isBuffer(v) ? Buffer.from(v) : new Uint8Array(v)) as T;
  if (Array.isArray(v)) return v.map(walkCopy) as T;
  const out = Object.create(Object.getPrototypeOf(v) as object) as Record<string, unknown>;
  for (const k of Object.keys(v)) out[k] = walkCopy((v as Record<string, unknown>)[k]);
  return out as T;
}

/** Field by field (prototypes, own keys in order, Longs and bytes by value): the wire path's differential helper. */
function expectSame(actual: unknown, expected: unknown, path: string): void {
  expect(firstDifference(actual, expected, path)).toBeUndefined();
}

/** Every object reachable from a batch that a change in place could alter (frozen values and Longs cannot be). */
function mutableObjects(batch: LogBatch): Set<object> {
  const seen = new Set<object>();
  const visit = (v: unknown): void => {
    if (v === null || typeof v !== 'object' || Object.isFrozen(v) || Long.isLong(v) || seen.has(v)) return;
    seen.add(v);
    if (v instanceof Uint8Array) return;
    for (const k of Object.keys(v)) visit((v as Record<string, unknown>)[k]);
  };
  for (const r of batch) visit(r);
  return seen;
}

/** Checks cloneBatch(batch, eager) against a plain deep copy of `batch`. */
function checkCopy(batch: LogBatch, eager: boolean | undefined, label: string): LogBatch {
  const unread = batch.map((r) => attributesUndecoded(r.log));
  // Copied as bytes: a record still its bytes + appends, unless it holds an own key no decode makes (a `body: null`
  // assigned) and is to be decoded again (unread, or copied for a consumer that reads nothing) rather than copied as objects.
  const asBytes = batch.map(
    (r) => spliceableAttributes(r) !== undefined && !(assignedNullBody(r.log) && (attributesUndecoded(r.log) || eager === false)),
  );
  const copy = cloneBatch(batch, eager);
  for (let i = 0; i < batch.length; i++) {
    expect(spliceableAttributes(copy[i]) !== undefined, `${label} [${i}] copied as bytes`).toBe(asBytes[i]);
    // Copying as bytes decoded nothing of the original, and the copy is as lazy as asked (a deep copy reads the original).
    if (asBytes[i]) {
      expect(attributesUndecoded(batch[i].log), `${label} [${i}] original`).toBe(unread[i]);
      expect(attributesUndecoded(copy[i].log), `${label} [${i}] copy`).toBe(!(eager ?? !unread[i]));
    }
  }
  const ref = plainDeepCopy(batch);
  expect(copy.length).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) {
    expectSame(copy[i].log, ref[i].log, `${label} [${i}].log`);
    expectSame(copy[i].resource, ref[i].resource, `${label} [${i}].resource`);
    expectSame(copy[i].scope, ref[i].scope, `${label} [${i}].scope`);
    for (let j = 0; j < ref.length; j++) {
      expect(copy[i].resource === copy[j].resource).toBe(batch[i].resource === batch[j].resource);
      expect(copy[i].scope === copy[j].scope).toBe(batch[i].scope === batch[j].scope);
    }
  }
  const shared = mutableObjects(batch);
  for (const o of mutableObjects(copy)) expect(shared.has(o), `${label}: the copy shares a mutable object with the original`).toBe(false);
  // Encodings: the copy's (spliced where it may be, each checked against its objects' encoding) means the deep copy's.
  setSpliceCheck(true);
  try {
    assertSameMeaning(encodeBatchProtobuf(copy), encodeBatchProtobuf(ref));
    assertSameMeaning(encodeBatchProtobuf(copy), encodeBatchProtobuf(batch));
    expect(encodeJsonRequest(batchToRequest(copy))).toBe(encodeJsonRequest(batchToRequest(ref)));
  } finally {
    setSpliceCheck(false);
  }
  return copy;
}

function assignedNullBody(log: object): boolean {
  const d = Object.getOwnPropertyDescriptor(log, 'body');
  return d !== undefined && 'value' in d && d.value === null;
}

/** Every change a mutating consumer might make, through record.ts and by hand (marked). */
function mutate(batch: LogBatch, tag: string): void {
  for (const r of batch) {
    appendAttribute(r.log, kv(`${tag}.appended`, true));
    appendAttribute(r.log, sharedAttribute(`${tag}.shared`, 'x'));
  }
  const [first, second, third] = batch;
  if (first !== undefined) {
    first.log.attributes.push(kv(`${tag}.pushed`, 1));
    const arr = first.log.attributes.find((a) => a.value?.arrayValue)?.value?.arrayValue;
    if (arr) {
      arr.values.push({ boolValue: true });
      markRewritten(first.log);
    }
    first.resource.resource.attributes.push(kv(`${tag}.resource`, 'r'));
    first.scope.scope.name = `${tag}-scope`;
  }
  if (second !== undefined) {
    second.log.body = { stringValue: `${tag} body` };
    markRewritten(second.log);
    if (second.log.traceId && second.log.traceId.length > 0) second.log.traceId[0] ^= 0xff;
  }
  if (third !== undefined) {
    if (third.log.attributes.length > 0) replaceAttribute(third.log.attributes, kv(third.log.attributes[0].key, `${tag} replaced`));
    third.log.severityText = `${tag}`;
  }
}

/** A change to either side reaches neither the other side's objects nor its encodings. */
function checkIsolation(make: () => LogBatch, eager: boolean | undefined, label: string): void {
  for (const side of ['copy', 'original'] as const) {
    const batch = make();
    const copy = cloneBatch(batch, eager);
    const [changed, other] = side === 'copy' ? [copy, batch] : [batch, copy];
    const before = plainDeepCopy(other);
    const bytes = Buffer.from(encodeBatchProtobuf(other));
    const json = encodeJsonRequest(batchToRequest(other));
    mutate(changed, side);
    expect(Buffer.from(encodeBatchProtobuf(other)).equals(bytes), `${label}: a change to the ${side} reached the other's encoding`).toBe(true);
    expect(encodeJsonRequest(batchToRequest(other))).toBe(json);
    for (let i = 0; i < other.length; i++) expectSame(other[i].log, before[i].log, `${label}: after changing the ${side}, [${i}]`);
  }
}

/** A request with every field, records under shared resources and scopes, arrays and maps in attributes and bodies. */
const fullBytes = (): Uint8Array => encodeBatchProtobuf(requestToBatch(fullRequest()).records);

/** The states a batch may be in when it is copied, each from fresh bytes. */
const states: Record<string, (bytes: Uint8Array) => LogBatch> = {
  'lazy, unread': (b) => decodeProtobufBatch(b).records,
  'lazy, read': (b) => readAll(decodeProtobufBatch(b).records),
  'lazy, appended to unread (delta)': (b) => appendTo(decodeProtobufBatch(b).records),
  'lazy, appended to unread, then read': (b) => readAll(appendTo(decodeProtobufBatch(b).records)),
  'lazy, rewritten': (b) => rewrite(decodeProtobufBatch(b).records),
  eager: (b) => decodeProtobufBatch(b, true).records,
  'eager, appended to': (b) => appendTo(decodeProtobufBatch(b, true).records),
  'eager, rewritten': (b) => rewrite(decodeProtobufBatch(b, true).records),
  // An own `body: null` where none came changes no encoding (still spliced) but is an own key a decode does not make.
  'lazy, null body assigned': (b) => nullBodies(decodeProtobufBatch(b).records),
  'eager, null body assigned': (b) => nullBodies(decodeProtobufBatch(b, true).records),
  'object path (no frames)': (b) => requestToBatch(decodeProtobufRequest(b)).records,
  'from JSON': (b) => requestToBatch(decodeJsonRequest(encodeJsonRequest(decodeProtobufRequest(b))).request).records,
};

function readAll(batch: LogBatch): LogBatch {
  for (const r of batch) void r.log.attributes;
  return batch;
}

function appendTo(batch: LogBatch): LogBatch {
  batch.forEach((r, i) => {
    appendAttribute(r.log, kv('audit.sequence', i));
    appendAttribute(r.log, sharedAttribute('audit.outcome', 'success'));
    appendAttribute(r.log, { key: 'audit.nested', value: { arrayValue: { values: [{ stringValue: `n${i}` }, { intValue: Long.fromNumber(-i) }] } } });
  });
  return batch;
}

function nullBodies(batch: LogBatch): LogBatch {
  for (const r of batch) if (!Object.hasOwn(r.log, 'body')) r.log.body = null;
  return batch;
}

function rewrite(batch: LogBatch): LogBatch {
  batch.forEach((r, i) => {
    if (i % 2 === 0 && r.log.attributes.length > 0) dropAttribute(r.log.attributes, r.log.attributes[0].key);
    else {
      r.log.severityText = 'REWRITTEN';
      markRewritten(r.log);
    }
  });
  return batch;
}

describe('cloneBatch: records copied as bytes + delta', () => {
  for (const [state, make] of Object.entries(states)) {
    for (const eager of [undefined, false, true]) {
      it(`reads, encodes and keeps apart as a deep copy does (${state}; copy eager: ${eager ?? 'as the original'})`, () => {
        checkCopy(make(fullBytes()), eager, state);
        checkIsolation(() => make(fullBytes()), eager, state);
      });
    }
  }

  it('copies the copy of an unread record without decoding either, and each keeps its own appends', () => {
    const batch = decodeProtobufBatch(fullBytes()).records;
    // wire-copy.ts decodes a record read at once again at this depth (a lazy one keeps its own).
    expect(batch.map((r) => undecodedParts(r.log)?.depth)).toEqual(batch.map(() => 3));
    const copy = cloneBatch(batch);
    appendAttribute(copy[0].log, kv('copy.only', true));
    const copy2 = cloneBatch(copy);
    appendAttribute(copy2[0].log, kv('copy2.only', true));
    for (const b of [batch, copy, copy2]) for (const r of b) expect(attributesUndecoded(r.log)).toBe(true);
    const keys = (b: LogBatch) => b[0].log.attributes.map((a) => a.key).filter((k) => k.includes('.only'));
    expect(keys(batch)).toEqual([]);
    expect(keys(copy)).toEqual(['copy.only']);
    expect(keys(copy2)).toEqual(['copy.only', 'copy2.only']);
  });

  it('matches a plain deep copy on random, SDK-written and mutated requests, in every state', () => {
    const names = Object.keys(states);
    const check = (bytes: Uint8Array, which: number, eager: boolean | undefined): void => {
      let batch: LogBatch;
      try {
        batch = states[names[which]](bytes);
      } catch {
        return; // a mutated request refused as a whole: nothing to copy
      }
      checkCopy(batch, eager, names[which]);
    };
    const state = fc.nat(names.length - 1);
    const eager = fc.constantFrom(undefined, false, true);
    fc.assert(fc.property(validRequest(), state, eager, (req, which, e) => check(encodeProtobufRequest(req), which, e)), { numRuns: 150, seed: SEED });
    fc.assert(fc.property(officialRequest, state, eager, check), { numRuns: 100, seed: SEED });
    fc.assert(fc.property(mutatedProtobuf, state, eager, check), { numRuns: 150, seed: SEED });
  });
});
