// Requests written by an encoder Vigil does not own: the OpenTelemetry JS SDK's
// own serializer (@opentelemetry/otlp-transformer, ProtobufLogsSerializer),
// given SDK-shaped log records. Differential tests use these as input so that
// Vigil's decoders are not only ever checked against Vigil's encoder.
import fc from 'fast-check';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { text } from './arbitraries.js';

type SdkValue = string | number | boolean | Uint8Array | SdkValue[] | { [key: string]: SdkValue };

const sdkValue: fc.Arbitrary<SdkValue> = fc.letrec<{ v: SdkValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', maxDepth: 3, withCrossShrink: true },
    text,
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
    fc.maxSafeInteger(),
    fc.double({ noNaN: false }),
    fc.boolean(),
    fc.uint8Array({ maxLength: 8 }),
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(text, tie('v'), { maxKeys: 3 }),
  ),
})).v;

const attributes = fc.dictionary(text, sdkValue, { maxKeys: 5 });
const hrTime = fc.tuple(fc.integer({ min: 0, max: 4_000_000_000 }), fc.integer({ min: 0, max: 999_999_999 }));
const hex = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex'));
/** Mostly well-formed ids; sometimes a length no OTLP receiver may accept (a partial-success rejection). */
const traceId = fc.oneof({ weight: 6, arbitrary: hex(16) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 20 }).chain(hex) });
const spanId = fc.oneof({ weight: 6, arbitrary: hex(8) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 12 }).chain(hex) });

const sdkResource = fc.record({ attributes, schemaUrl: fc.option(text, { nil: undefined }) });
const sdkScope = fc.record({ name: text, version: fc.option(text, { nil: undefined }), schemaUrl: fc.option(text, { nil: undefined }), attributes: fc.option(attributes, { nil: undefined }) });

const sdkRecord = fc.record(
  {
    hrTime,
    hrTimeObserved: hrTime,
    severityNumber: fc.integer({ min: 0, max: 24 }),
    severityText: text,
    body: sdkValue,
    eventName: text,
    attributes,
    droppedAttributesCount: fc.nat({ max: 1000 }),
    spanContext: fc.record({ traceId, spanId, traceFlags: fc.nat({ max: 255 }) }),
  },
  { requiredKeys: ['hrTime', 'hrTimeObserved', 'attributes', 'droppedAttributesCount'] },
);

/** An ExportLogsServiceRequest as the OpenTelemetry JS SDK writes it: records under one to three resources and scopes. */
export const officialRequest: fc.Arbitrary<Uint8Array> = fc
  .record({
    resources: fc.array(sdkResource, { minLength: 1, maxLength: 3 }),
    scopes: fc.array(sdkScope, { minLength: 1, maxLength: 3 }),
    records: fc.array(fc.tuple(sdkRecord, fc.nat(), fc.nat()), { maxLength: 6 }),
  })
  .map(({ resources, scopes, records }) => {
    const logs = records.map(([r, ri, si]) => ({ ...r, resource: resources[ri % resources.length], instrumentationScope: scopes[si % scopes.length] }));
    const bytes = ProtobufLogsSerializer.serializeRequest(logs as never);
    if (bytes === undefined) throw new Error('ProtobufLogsSerializer wrote nothing');
    return Buffer.from(bytes);
  });
