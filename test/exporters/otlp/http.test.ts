import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { otlpHttpConfigSchema } from '../../../src/exporters/otlp/config.js';
import { HttpSender } from '../../../src/exporters/otlp/http.js';
import { batchToRequest, encodeBatchProtobuf } from '../../../src/otlp/convert.js';
import { decodeJsonRequest, encodeJsonRequest } from '../../../src/otlp/json.js';
import { ExportLogsServiceResponse, RpcStatus } from '../../../src/otlp/schema.js';
import { makeBatch } from '../../helpers/records.js';
import { HttpDownstream, waitFor } from './downstream.js';
import { FAST_RETRY, buildExporter, deadline, metric } from './harness.js';
import { richBatch } from './rich.js';

const SENT = 'vigil_exporter_sent_log_records_total';
const FAILED = 'vigil_exporter_send_failed_log_records_total';
const QUEUE = 'vigil_exporter_queue_size';

describe('otlp_http exporter', () => {
  let down: HttpDownstream;
  beforeEach(async () => {
    down = await HttpDownstream.start();
  });
  afterEach(async () => {
    await down.close();
  });

  it('POSTs protobuf to <endpoint>/v1/logs, gzip-compressed, with the configured headers', async () => {
    const { exporter, telemetry } = await buildExporter('otlp_http', {
      endpoint: down.url,
      headers: { Authorization: 'Bearer s3cret' },
      retry_on_failure: FAST_RETRY,
    });
    const batch = richBatch();
    await exporter.consume(batch);
    await waitFor(() => down.delivered.length === 1, 'delivery');
    const a = down.attempts[0];
    expect(a.path).toBe('/v1/logs');
    expect(a.headers['content-type']).toBe('application/x-protobuf');
    expect(a.headers['content-encoding']).toBe('gzip');
    expect(a.raw.subarray(0, 2).toString('hex')).toBe('1f8b');
    expect(a.headers.authorization).toBe('Bearer s3cret');
    expect(a.headers['user-agent']).toMatch(/^vigil\/\d/);
    expect(a.body.equals(Buffer.from(encodeBatchProtobuf(batch)))).toBe(true);
    await waitFor(async () => (await metric(telemetry, SENT, 'otlp_http')) === 4, 'sent metric');
    await exporter.shutdown!(deadline(5000));
  });

  it('sends OTLP/JSON with encoding: json, uncompressed with compression: none, to logs_endpoint as given', async () => {
    const { exporter } = await buildExporter('otlp_http', {
      logs_endpoint: `${down.url}/custom/logs`,
      encoding: 'json',
      compression: 'none',
    });
    const batch = richBatch();
    await exporter.consume(batch);
    await waitFor(() => down.delivered.length === 1, 'delivery');
    const a = down.attempts[0];
    expect(a.path).toBe('/custom/logs');
    expect(a.headers['content-type']).toBe('application/json');
    expect(a.headers['content-encoding']).toBeUndefined();
    expect(a.body.toString('utf8')).toBe(encodeJsonRequest(batchToRequest(batch)));
    const decoded = decodeJsonRequest(a.body.toString('utf8'));
    expect(decoded.rejected).toBe(0);
    expect(decoded.request.resourceLogs[0].scopeLogs[0].logRecords[0].eventName).toBe('http.request');
    await exporter.shutdown!(deadline(5000));
  });

  it('keeps a path in endpoint: <endpoint path>/v1/logs', async () => {
    const { exporter } = await buildExporter('otlp_http', { endpoint: `${down.url}/otlp/` });
    await exporter.consume(makeBatch(1));
    await waitFor(() => down.delivered.length === 1, 'delivery');
    expect(down.attempts[0].path).toBe('/otlp/v1/logs');
    await exporter.shutdown!(deadline(5000));
  });

  it('retries 503 with Retry-After, 429, 502, 504 and network errors until delivered', async () => {
    down.script = [
      { status: 503, headers: { 'retry-after': '0' } },
      { status: 429 },
      { status: 0, destroy: true },
      { status: 502 },
      { status: 504 },
    ];
    const { exporter, telemetry, lines } = await buildExporter('otlp_http', { endpoint: down.url, retry_on_failure: FAST_RETRY });
    const batch = makeBatch(6);
    await exporter.consume(batch);
    await waitFor(() => down.delivered.length === 1, 'delivery after retries');
    expect(down.attempts).toHaveLength(6);
    expect(down.delivered[0].equals(Buffer.from(encodeBatchProtobuf(batch)))).toBe(true);
    await waitFor(async () => (await metric(telemetry, SENT, 'otlp_http')) === 6, 'sent metric');
    const reasons = lines.filter((l) => l.msg === 'export failed; will retry').map((l) => String(l.reason));
    expect(reasons).toHaveLength(5);
    expect(reasons[0]).toContain('HTTP 503');
    expect(reasons[2]).toContain('network error');
    await exporter.shutdown!(deadline(5000));
  });

  it('reads Retry-After as seconds or as an HTTP date, and the message of an error status', async () => {
    const when = new Date(Date.now() + 120_000).toUTCString();
    down.script = [
      { status: 503, headers: { 'retry-after': '7' } },
      { status: 429, headers: { 'retry-after': when } },
      {
        status: 400,
        headers: { 'content-type': 'application/x-protobuf' },
        body: RpcStatus.encode({ code: 3, message: 'log record 3 has no body' }).finish(),
      },
      { status: 401, headers: { 'content-type': 'application/json' }, body: '{"code":16,"message":"bad token"}' },
      {
        status: 200,
        headers: { 'content-type': 'application/x-protobuf' },
        body: ExportLogsServiceResponse.encode({ partialSuccess: { rejectedLogRecords: 4, errorMessage: 'four too old' } }).finish(),
      },
    ];
    const sender = new HttpSender('otlp_http', otlpHttpConfigSchema.parse({ endpoint: down.url }));
    await sender.start();
    const signal = new AbortController().signal;
    const bytes = encodeBatchProtobuf(makeBatch(5));
    expect(await sender.send(bytes, signal)).toMatchObject({ kind: 'retryable', retryAfterMs: 7000 });
    const dated = await sender.send(bytes, signal);
    expect(dated.kind).toBe('retryable');
    expect((dated as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(100_000);
    expect(await sender.send(bytes, signal)).toEqual({ kind: 'permanent', reason: 'HTTP 400: log record 3 has no body' });
    expect(await sender.send(bytes, signal)).toEqual({ kind: 'permanent', reason: 'HTTP 401: bad token' });
    expect(await sender.send(bytes, signal)).toEqual({ kind: 'ok', rejected: 4, message: 'four too old' });
    await sender.close();
  });

  it('counts HTTP 400 as send_failed and does not retry it', async () => {
    down.script = [{ status: 400, headers: { 'content-type': 'application/json' }, body: '{"code":3,"message":"malformed"}' }];
    const { exporter, telemetry, lines } = await buildExporter('otlp_http', { endpoint: down.url, retry_on_failure: FAST_RETRY });
    await exporter.consume(makeBatch(3));
    await waitFor(async () => (await metric(telemetry, FAILED, 'otlp_http')) === 3, 'failure counted');
    expect(await metric(telemetry, QUEUE, 'otlp_http')).toBe(0);
    expect(down.attempts).toHaveLength(1);
    expect(String(lines.find((l) => l.level === 'error')?.reason)).toBe('HTTP 400: malformed');
    await exporter.shutdown!(deadline(5000));
  });

  it('counts what a JSON partial success rejected', async () => {
    down.script = [{ status: 200, headers: { 'content-type': 'application/json' }, body: '{"partialSuccess":{"rejectedLogRecords":"1","errorMessage":"one bad"}}' }];
    const { exporter, telemetry } = await buildExporter('otlp_http', { endpoint: down.url, encoding: 'json' });
    await exporter.consume(makeBatch(3));
    await waitFor(async () => (await metric(telemetry, FAILED, 'otlp_http')) === 1, 'rejected counted');
    expect(await metric(telemetry, SENT, 'otlp_http')).toBe(2);
    await exporter.shutdown!(deadline(5000));
  });
});
