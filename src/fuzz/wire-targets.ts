// Fuzz targets of the wire path (issue 12): the wire decoder against protobufjs's
// decoding of the same bytes, the splice encoder against the object encoding
// of the same records, and records left undecoded (appended to, encoded) against
// the same records read first and against protobufjs's, on requests from Vigil's generator, from the
// OpenTelemetry SDK's serializer (an encoder Vigil does not own), mutated and
// random bytes; and a fan-out's copy of such records against the records
// themselves. The checks are in wire-differential.ts.
import fc from 'fast-check';
import { encodeProtobufRequest } from '../otlp/convert.js';
import { keyValue, mutatedProtobuf, randomBytes, validRequest } from './arbitraries.js';
import { serialise } from './json-mutate.js';
import { officialRequest } from './otel-arbitraries.js';
import type { FuzzTarget } from './targets.js';
import { checkLazyDecode, checkWireCopy, checkWireDecode, checkWireSplice, type CopyPlan, type SplicePlan } from './wire-differential.js';
import { type KeyValue, sharedAttribute } from '../pipeline/record.js';

const showBytes = (b: Uint8Array) => `${b.length} bytes: ${Buffer.from(b).toString('hex').slice(0, 2000)}`;

const requestBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 2, arbitrary: validRequest().map((r) => encodeProtobufRequest(r)) },
  { weight: 2, arbitrary: officialRequest },
  { weight: 3, arbitrary: mutatedProtobuf },
  { weight: 1, arbitrary: randomBytes },
);

const appended = fc.oneof(
  { weight: 3, arbitrary: keyValue },
  { weight: 1, arbitrary: fc.constantFrom(sharedAttribute('audit.outcome', 'failure'), sharedAttribute('ocsf.status_id', 2), sharedAttribute('s.neg', -1), sharedAttribute('s.d', 1.5)) },
);

const plan: fc.Arbitrary<SplicePlan> = fc.record({
  appends: fc.array(fc.array(appended, { maxLength: 5 }), { maxLength: 4 }),
  rewrite: fc.constantFrom<SplicePlan['rewrite']>('none', 'none', 'none', 'replace', 'drop', 'body', 'time', 'by-hand', 'marked'),
});

const copyPlan: fc.Arbitrary<CopyPlan> = fc.record({
  appends: fc.array(appended, { maxLength: 4 }),
  readFirst: fc.boolean(),
  eager: fc.constantFrom(undefined, false, true),
});

export function wireTargets(): FuzzTarget[] {
  return [
    {
      name: 'wire.decode',
      weight: 3,
      arbitrary: requestBytes,
      check: (b) => checkWireDecode(b as Uint8Array),
      show: (b) => showBytes(b as Uint8Array),
    },
    {
      name: 'wire.splice',
      weight: 3,
      arbitrary: fc.tuple(requestBytes, plan),
      check: (input) => {
        const [bytes, p] = input as [Uint8Array, SplicePlan];
        return checkWireSplice(bytes, p);
      },
      show: (input) => {
        const [bytes, p] = input as [Uint8Array, SplicePlan];
        return `${showBytes(bytes)} plan=${serialise(p).slice(0, 2000)}`;
      },
    },
    {
      name: 'wire.lazy',
      weight: 2,
      arbitrary: fc.tuple(requestBytes, fc.array(appended, { maxLength: 5 })),
      check: (input) => {
        const [bytes, appends] = input as [Uint8Array, KeyValue[]];
        return checkLazyDecode(bytes, appends);
      },
      show: (input) => {
        const [bytes, appends] = input as [Uint8Array, KeyValue[]];
        return `${showBytes(bytes)} appends=${serialise(appends).slice(0, 2000)}`;
      },
    },
    {
      name: 'wire.copy',
      weight: 2,
      arbitrary: fc.tuple(requestBytes, copyPlan),
      check: (input) => {
        const [bytes, p] = input as [Uint8Array, CopyPlan];
        return checkWireCopy(bytes, p);
      },
      show: (input) => {
        const [bytes, p] = input as [Uint8Array, CopyPlan];
        return `${showBytes(bytes)} plan=${serialise(p).slice(0, 2000)}`;
      },
    },
  ] as FuzzTarget[];
}
