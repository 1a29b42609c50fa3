// cloneBatch: a copy a mutating consumer can change freely, equal to the
// original in every field, order and sharing, and faster than the protobuf round
// trip it replaced (speed itself is measured in bench/, not asserted here).
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { batchToRequest, decodeProtobufRequest, encodeBatchProtobuf, requestToBatch } from '../../src/otlp/convert.js';
import { decodeJsonRequest, encodeJsonRequest } from '../../src/otlp/json.js';
import { cloneBatch } from '../../src/pipeline/clone.js';
import { sharedAttribute, type LogBatch } from '../../src/pipeline/record.js';
import { kv, makeBatch } from '../helpers/records.js';
import { fullRequest } from '../receivers/otlp/clients.js';

/** A batch as the receiver gives it: decoded from protobuf, so protobufjs objects with defaults on their prototypes. */
function decoded(): LogBatch {
  return requestToBatch(decodeProtobufRequest(encodeBatchProtobuf(requestToBatch(fullRequest()).records))).records;
}

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
