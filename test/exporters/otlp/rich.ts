// A batch exercising every field of a log record and every AnyValue kind.
import Long from 'long';
import type { LogBatch, ResourceContext, ScopeContext } from '../../../src/pipeline/record.js';
import { makeBatch } from '../../helpers/records.js';

export function richBatch(): LogBatch {
  const resource: ResourceContext = {
    resource: {
      attributes: [
        { key: 'service.name', value: { stringValue: 'checkout' } },
        { key: 'deployment.environment.name', value: { stringValue: 'prod' } },
      ],
      droppedAttributesCount: 1,
    },
    schemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
  };
  const scope: ScopeContext = {
    scope: { name: 'nginx', version: '1.27', attributes: [{ key: 'scope.k', value: { boolValue: true } }] },
    schemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
  };
  return [
    {
      resource,
      scope,
      log: {
        timeUnixNano: Long.fromString('1767225600123456789', true),
        observedTimeUnixNano: Long.fromString('1767225600223456789', true),
        severityNumber: 17,
        severityText: 'ERROR',
        body: { kvlistValue: { values: [{ key: 'msg', value: { stringValue: 'GET /api 500' } }] } },
        attributes: [
          { key: 'str', value: { stringValue: 'välue ✓' } },
          { key: 'bool', value: { boolValue: false } },
          { key: 'int', value: { intValue: Long.fromString('-9007199254740993') } },
          { key: 'double', value: { doubleValue: 0.125 } },
          { key: 'array', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 2 }] } } },
          { key: 'map', value: { kvlistValue: { values: [{ key: 'inner', value: { doubleValue: -1.5 } }] } } },
          { key: 'bytes', value: { bytesValue: new Uint8Array([0, 1, 254, 255]) } },
        ],
        droppedAttributesCount: 2,
        flags: 1,
        traceId: Uint8Array.from({ length: 16 }, (_, i) => i + 1),
        spanId: Uint8Array.from({ length: 8 }, (_, i) => 0xa0 + i),
        eventName: 'http.request',
      },
    },
    ...makeBatch(3, 'plain'),
  ];
}
