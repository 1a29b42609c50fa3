// The official OpenTelemetry JS log exporters (gRPC, HTTP/JSON, HTTP/protobuf;
// plain and gzip; with an Authorization header), driven by the logs SDK, send
// to the otlp receiver; what the file exporter stored carries every field.
import { Metadata } from '@grpc/grpc-js';
import { ROOT_CONTEXT, SeverityNumber, TraceFlags, trace } from '@opentelemetry/api';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as HttpJsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as HttpProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../../src/otlp/json.js';
import { type AnyValue, type KeyValue, type VigilRecord, findAttribute } from '../../../src/pipeline/record.js';
import { until } from '../../helpers/downstream.js';
import { tempDir } from '../../helpers/tmp.js';
import { type Harness, startHarness } from './harness.js';

const dir = tempDir('vigil-otlp-sdk-');
let h: Harness;

beforeAll(async () => {
  h = await startHarness(dir);
});
afterAll(async () => {
  await h?.stop();
});

const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const SPAN_ID = 'eee19b7ec3c1b174';
const AUTH = 'Bearer s3cret-token';

type Variant = { name: string; transport: 'grpc' | 'http'; make: (gzip: boolean) => LogRecordExporter };

const variants: Variant[] = [
  {
    name: 'exporter-logs-otlp-grpc',
    transport: 'grpc',
    make: (gzip) => {
      const metadata = new Metadata();
      metadata.set('authorization', AUTH);
      return new GrpcLogExporter({ url: `http://${h.grpc}`, metadata, compression: (gzip ? 'gzip' : 'none') as never });
    },
  },
  {
    name: 'exporter-logs-otlp-http (JSON)',
    transport: 'http',
    make: (gzip) => new HttpJsonLogExporter({ url: `${h.http}/v1/logs`, headers: { Authorization: AUTH }, compression: (gzip ? 'gzip' : 'none') as never }),
  },
  {
    name: 'exporter-logs-otlp-proto',
    transport: 'http',
    make: (gzip) => new HttpProtoLogExporter({ url: `${h.http}/v1/logs`, headers: { Authorization: AUTH }, compression: (gzip ? 'gzip' : 'none') as never }),
  },
];

/** Passes through to the real exporter, keeping each export's result code so the test can wait on it. */
function observed(inner: LogRecordExporter, results: number[]): LogRecordExporter {
  return {
    export: (logs, done) => inner.export(logs, (r) => (results.push(r.code), done(r))),
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

async function sendWithSdk(exporter: LogRecordExporter, scopeName: string): Promise<void> {
  const results: number[] = [];
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'sdk-test', 'service.instance.id': 'i-1', 'host.cpu.count': 4 }),
    processors: [new BatchLogRecordProcessor({ exporter: observed(exporter, results) })],
  });
  try {
    const logger = provider.getLogger(scopeName, '3.2.1', { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' });
    const ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED });
    logger.emit({
      eventName: 'user.login',
      timestamp: [1764115200, 123456789],
      observedTimestamp: [1764115201, 5],
      severityNumber: SeverityNumber.WARN,
      severityText: 'WARN',
      body: 'login from a new device',
      attributes: {
        'str.attr': 'héllo',
        'bool.attr': true,
        'int.attr': 42,
        'double.attr': 3.25,
        'array.attr': ['a', 'b'],
        'kvlist.attr': { inner: 'v', n: 7 },
        'bytes.attr': Uint8Array.from([1, 2, 254]),
      },
      context: ctx,
    });
    logger.emit({ severityNumber: SeverityNumber.INFO, body: { msg: 'structured', count: 2, tags: ['x'] } });
    await provider.forceFlush();
    await until(() => results.length > 0, `${scopeName}: the exporter to report its result`);
    expect(results).toEqual([0]); // ExportResultCode.SUCCESS
  } finally {
    await provider.shutdown();
  }
}

const str = (v: AnyValue | null | undefined) => v?.stringValue;
const kvObject = (kvs: KeyValue[]) => Object.fromEntries(kvs.map((kv) => [kv.key, kv.value]));

function checkRecords(records: VigilRecord[]): void {
  expect(records).toHaveLength(2);
  const [first, second] = records;
  const r = first.resource.resource.attributes;
  expect(str(findAttribute(r, 'service.name'))).toBe('sdk-test');
  expect(Number(findAttribute(r, 'host.cpu.count')?.intValue)).toBe(4);
  expect(first.scope.scope.version).toBe('3.2.1');
  expect(first.scope.schemaUrl).toBe('https://opentelemetry.io/schemas/1.30.0');

  const log = first.log;
  expect(log.eventName).toBe('user.login');
  expect(log.timeUnixNano!.toString()).toBe('1764115200123456789');
  expect(log.observedTimeUnixNano!.toString()).toBe('1764115201000000005');
  expect(log.severityNumber).toBe(SeverityNumber.WARN);
  expect(log.severityText).toBe('WARN');
  expect(str(log.body)).toBe('login from a new device');
  expect(log.flags).toBe(1);
  expect(bytesToHex(log.traceId!)).toBe(TRACE_ID);
  expect(bytesToHex(log.spanId!)).toBe(SPAN_ID);
  const a = kvObject(log.attributes);
  expect(a['str.attr']).toEqual({ stringValue: 'héllo' });
  expect(a['bool.attr']).toEqual({ boolValue: true });
  expect(Number(a['int.attr']?.intValue)).toBe(42);
  expect(a['double.attr']).toEqual({ doubleValue: 3.25 });
  expect(a['array.attr']?.arrayValue?.values.map(str)).toEqual(['a', 'b']);
  const kv = kvObject(a['kvlist.attr']!.kvlistValue!.values);
  expect(str(kv.inner)).toBe('v');
  expect(Number(kv.n?.intValue)).toBe(7);
  expect([...a['bytes.attr']!.bytesValue!]).toEqual([1, 2, 254]);

  const body = kvObject(second.log.body!.kvlistValue!.values);
  expect(str(body.msg)).toBe('structured');
  expect(Number(body.count?.intValue)).toBe(2);
  expect(body.tags?.arrayValue?.values.map(str)).toEqual(['x']);
  expect(second.log.severityNumber).toBe(SeverityNumber.INFO);
  expect(second.log.traceId?.length ?? 0).toBe(0);
}

describe('official OpenTelemetry exporters → otlp receiver → file', () => {
  for (const v of variants) {
    for (const gzip of [false, true]) {
      it(`${v.name}${gzip ? ' with gzip' : ''}: every field arrives intact, counted as accepted on its transport`, async () => {
        const scope = `sdk-test/${v.name}/${gzip ? 'gzip' : 'plain'}`;
        // Counted as a difference, so the test holds whichever tests ran before it, in any order.
        const before = await h.counted(v.transport);
        await sendWithSdk(v.make(gzip), scope);
        checkRecords(h.stored().filter((rec) => rec.scope.scope.name === scope));
        const after = await h.counted(v.transport);
        expect({ accepted: after.accepted - before.accepted, refused: after.refused - before.refused }).toEqual({ accepted: 2, refused: 0 });
      });
    }
  }
});
