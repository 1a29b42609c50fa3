// Hand-made requests exercising every field of the OTLP logs schema, over
// OTLP/gRPC (protobuf), OTLP/HTTP protobuf and OTLP/HTTP JSON: what the file
// exporter stored is exactly what was sent.
import * as grpc from '@grpc/grpc-js';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchToRequest, encodeProtobufRequest } from '../../../src/otlp/convert.js';
import { bytesToHex, encodeJsonRequest, requestToJson } from '../../../src/otlp/json.js';
import { ExportLogsServiceResponse } from '../../../src/otlp/schema.js';
import { tempDir } from '../../helpers/tmp.js';
import { fullRequest, grpcExport, httpPost } from './clients.js';
import { type Harness, startHarness } from './harness.js';

const dir = tempDir('vigil-otlp-handmade-');
let h: Harness;

beforeAll(async () => {
  h = await startHarness(dir);
});
afterAll(async () => {
  await h?.stop();
});

const expected = () => requestToJson(fullRequest());
const storedSince = (before: number) => h.stored().slice(before);

describe('a hand-made request with every field', () => {
  it('arrives intact over OTLP/gRPC', async () => {
    const before = h.stored().length;
    const out = await grpcExport(h.grpc, encodeProtobufRequest(fullRequest()), { metadata: { authorization: 'Bearer t0ken' } });
    expect(out.code).toBe(grpc.status.OK);
    expect(out.response!.length).toBe(0); // full success: an empty ExportLogsServiceResponse
    const stored = storedSince(before);
    expect(stored).toHaveLength(4);
    expect(requestToJson(batchToRequest(stored))).toEqual(expected());
    // The fields most at risk, asserted by name as well.
    const [first, second] = stored;
    expect(first.log.eventName).toBe('payment.failed');
    expect(bytesToHex(first.log.traceId!)).toBe('0102030405060708090a0b0c0d0e0f10');
    expect(bytesToHex(first.log.spanId!)).toBe('a0a1a2a3a4a5a6a7');
    expect(first.log.flags).toBe(1);
    expect(first.log.droppedAttributesCount).toBe(2);
    expect(first.resource.resource.entityRefs?.[0]).toMatchObject({ type: 'service', idKeys: ['service.name'], descriptionKeys: ['service.version'] });
    expect(first.resource.resource.droppedAttributesCount).toBe(3);
    expect(first.resource.schemaUrl).toBe('https://opentelemetry.io/schemas/1.30.0');
    expect(first.scope.schemaUrl).toBe('https://opentelemetry.io/schemas/1.29.0');
    expect(first.scope.scope).toMatchObject({ name: 'io.vigil.test', version: '2.1.0', droppedAttributesCount: 1 });
    expect(Buffer.from(second.log.body!.bytesValue!).toString('hex')).toBe('deadbeef');
    expect(await h.counted('grpc')).toMatchObject({ accepted: 4 });
  });

  it('arrives intact over OTLP/gRPC with gzip', async () => {
    const before = h.stored().length;
    const out = await grpcExport(h.grpc, encodeProtobufRequest(fullRequest()), { gzip: true });
    expect(out.code).toBe(grpc.status.OK);
    expect(requestToJson(batchToRequest(storedSince(before)))).toEqual(expected());
  });

  it('arrives intact over OTLP/HTTP protobuf, plain and gzip, answered in protobuf', async () => {
    for (const gzip of [false, true]) {
      const before = h.stored().length;
      const body = encodeProtobufRequest(fullRequest());
      const out = await httpPost(`${h.http}/v1/logs`, gzip ? gzipSync(body) : body, {
        'content-type': 'application/x-protobuf',
        authorization: 'Bearer t0ken',
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      });
      expect(out.status).toBe(200);
      expect(out.headers.get('content-type')).toBe('application/x-protobuf');
      expect(out.body.length).toBe(0);
      expect(requestToJson(batchToRequest(storedSince(before)))).toEqual(expected());
    }
  });

  it('arrives intact over OTLP/HTTP JSON (charset parameter allowed), answered in JSON', async () => {
    const before = h.stored().length;
    const out = await httpPost(`${h.http}/v1/logs`, encodeJsonRequest(fullRequest()), { 'content-type': 'application/json; charset=utf-8' });
    expect(out.status).toBe(200);
    expect(out.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(out.body.toString())).toEqual({});
    expect(requestToJson(batchToRequest(storedSince(before)))).toEqual(expected());
    expect(await h.counted('http')).toMatchObject({ accepted: 12 });
  });

  it('accepts OTLP/JSON as clients write it: int64 as numbers or strings, enums as ints, hex ids, snake_case', async () => {
    const before = h.stored().length;
    const text = JSON.stringify({
      resource_logs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'json-client' } }] },
          scopeLogs: [
            {
              scope: { name: 'json' },
              logRecords: [
                {
                  timeUnixNano: 1764115200123456789n.toString(),
                  observed_time_unix_nano: 1764115200,
                  severityNumber: 13,
                  body: { stringValue: 'hi' },
                  attributes: [{ key: 'n', value: { intValue: 5 } }, { key: 's', value: { intValue: '-17' } }],
                  traceId: '5B8EFFF798038103D269B633813FC60C',
                  spanId: 'eee19b7ec3c1b174',
                  event_name: 'e',
                },
              ],
            },
          ],
        },
      ],
    });
    const out = await httpPost(`${h.http}/v1/logs`, text, { 'content-type': 'application/json' });
    expect(out.status).toBe(200);
    const [rec] = storedSince(before);
    expect(rec.log.timeUnixNano!.toString()).toBe('1764115200123456789');
    expect(rec.log.observedTimeUnixNano!.toString()).toBe('1764115200');
    expect(rec.log.severityNumber).toBe(13);
    expect(rec.log.eventName).toBe('e');
    expect(bytesToHex(rec.log.traceId!)).toBe('5b8efff798038103d269b633813fc60c');
    expect(rec.log.attributes.map((a) => a.value?.intValue?.toString())).toEqual(['5', '-17']);
  });

  it('answers an empty request with success and stores nothing', async () => {
    const before = h.stored().length;
    const out = await grpcExport(h.grpc, new Uint8Array(0));
    expect(out.code).toBe(grpc.status.OK);
    const http = await httpPost(`${h.http}/v1/logs`, '{"resourceLogs":[]}', { 'content-type': 'application/json' });
    expect(http.status).toBe(200);
    expect(h.stored().length).toBe(before);
    expect(ExportLogsServiceResponse.decode(out.response!)).toBeDefined();
  });
});
