// Building real records the way a decoder would, for tests.
import { readFileSync } from 'node:fs';
import Long from 'long';
import { decodeJsonRequest } from '../../src/otlp/json.js';
import type { AnyValue, KeyValue, LogBatch, LogRecord, ResourceContext, ScopeContext, VigilRecord } from '../../src/pipeline/record.js';
import { anyValue, millisToNanos } from '../../src/pipeline/record.js';

export function kv(key: string, value: string | number | boolean): KeyValue {
  return { key, value: anyValue(value) };
}

export function makeRecord(
  opts: { body?: AnyValue; attrs?: Record<string, string | number | boolean>; timeMs?: number; resource?: ResourceContext; scope?: ScopeContext } = {},
): VigilRecord {
  return {
    resource: opts.resource ?? { resource: { attributes: [kv('service.name', 'test')] }, schemaUrl: '' },
    scope: opts.scope ?? { scope: { name: 'test-scope', version: '1.0' }, schemaUrl: '' },
    log: {
      timeUnixNano: millisToNanos(opts.timeMs ?? Date.UTC(2026, 0, 1)),
      observedTimeUnixNano: Long.UZERO,
      severityNumber: 9,
      severityText: 'INFO',
      body: opts.body ?? { stringValue: 'hello' },
      attributes: Object.entries(opts.attrs ?? {}).map(([k, v]) => kv(k, v)),
    },
  };
}

export function makeBatch(n: number, prefix = 'r'): LogBatch {
  const resource: ResourceContext = { resource: { attributes: [kv('service.name', 'batch')] }, schemaUrl: '' };
  const scope: ScopeContext = { scope: { name: 's' }, schemaUrl: '' };
  return Array.from({ length: n }, (_, i) => makeRecord({ resource, scope, body: { stringValue: `${prefix}-${i}` } }));
}

/** The log records of an OTLP JSON lines file (the file exporter's and replay's output), in order. */
export function logsOfJsonLines(file: string): LogRecord[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .flatMap((l) => decodeJsonRequest(l).request.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)));
}
