import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { otlpGrpcConfigSchema } from '../../../src/exporters/otlp/config.js';
import { GrpcSender } from '../../../src/exporters/otlp/grpc.js';
import { decodeProtobufRequest, encodeBatchProtobuf, requestToBatch } from '../../../src/otlp/convert.js';
import { bytesToHex } from '../../../src/otlp/json.js';
import { Refusal } from '../../../src/pipeline/errors.js';
import { makeBatch } from '../../helpers/records.js';
import { GrpcDownstream, OK, WireGrpcDownstream, freePort, waitFor } from './downstream.js';
import { FAST_RETRY, buildExporter, deadline, metric } from './harness.js';
import { richBatch } from './rich.js';

const SENT = 'vigil_exporter_sent_log_records_total';
const FAILED = 'vigil_exporter_send_failed_log_records_total';
const QUEUE = 'vigil_exporter_queue_size';

describe('otlp_grpc exporter', () => {
  let down: GrpcDownstream;
  beforeEach(async () => {
    down = await GrpcDownstream.start();
  });
  afterEach(async () => {
    await down.close();
  });

  const base = () => ({ endpoint: down.address, tls: { insecure: true }, retry_on_failure: FAST_RETRY });

  it('delivers every record intact, passing headers as metadata', async () => {
    const { exporter, telemetry } = await buildExporter('otlp_grpc', {
      ...base(),
      headers: { Authorization: 'Bearer s3cret', 'x-tenant': 'blue' },
    });
    const batch = richBatch();
    await exporter.consume(batch);
    await waitFor(() => down.delivered.length === 1, 'delivery');
    // Byte for byte what our codec encodes: nothing lost or re-ordered on the way.
    expect(down.delivered[0].equals(Buffer.from(encodeBatchProtobuf(batch)))).toBe(true);
    const got = requestToBatch(decodeProtobufRequest(down.delivered[0])).records;
    expect(got).toHaveLength(4);
    const first = got[0];
    expect(first.log.eventName).toBe('http.request');
    expect(bytesToHex(first.log.traceId!)).toBe('0102030405060708090a0b0c0d0e0f10');
    expect(first.log.attributes.find((a) => a.key === 'int')?.value?.intValue?.toString()).toBe('-9007199254740993');
    expect(first.resource.resource.attributes[0].value?.stringValue).toBe('checkout');
    expect(got[3].log.body?.stringValue).toBe('plain-2');
    const md = down.attempts[0].metadata;
    expect(md.get('authorization')).toEqual(['Bearer s3cret']);
    expect(md.get('x-tenant')).toEqual(['blue']);
    expect(String(md.get('user-agent')[0])).toMatch(/^vigil\/\d/);
    await waitFor(async () => (await metric(telemetry, SENT, 'otlp_grpc')) === 4, 'sent metric');
    expect(await metric(telemetry, QUEUE, 'otlp_grpc')).toBe(0);
    expect(await metric(telemetry, 'vigil_exporter_queue_capacity', 'otlp_grpc')).toBe(1000);
    await exporter.shutdown!(deadline(5000));
  });

  it('retries UNAVAILABLE until the downstream takes the batch', async () => {
    down.script = [
      { code: grpc.status.UNAVAILABLE },
      { code: grpc.status.UNAVAILABLE },
      { code: grpc.status.UNAVAILABLE, retryDelayMs: 10 },
    ];
    const { exporter, telemetry, lines } = await buildExporter('otlp_grpc', base());
    const batch = makeBatch(5);
    await exporter.consume(batch);
    await waitFor(() => down.delivered.length === 1, 'delivery after retries');
    expect(down.attempts).toHaveLength(4);
    expect(down.delivered[0].equals(Buffer.from(encodeBatchProtobuf(batch)))).toBe(true);
    await waitFor(async () => (await metric(telemetry, SENT, 'otlp_grpc')) === 5, 'sent metric');
    expect(await metric(telemetry, FAILED, 'otlp_grpc')).toBe(0);
    expect(lines.filter((l) => l.msg === 'export failed; will retry')).toHaveLength(3);
    await exporter.shutdown!(deadline(5000));
  });

  it('retries RESOURCE_EXHAUSTED only when the server sends RetryInfo', async () => {
    down.script = [{ code: grpc.status.RESOURCE_EXHAUSTED, details: 'slow down', retryDelayMs: 15 }, OK, { code: grpc.status.RESOURCE_EXHAUSTED, details: 'too big' }];
    const { exporter, telemetry } = await buildExporter('otlp_grpc', { ...base(), sending_queue: { num_consumers: 1 } });
    await exporter.consume(makeBatch(2, 'throttled'));
    await waitFor(() => down.delivered.length === 1, 'delivery after throttling');
    expect(down.attempts).toHaveLength(2);
    // Without RetryInfo it means too large: the batch is split in halves and each is sent, none retried whole.
    await exporter.consume(makeBatch(3, 'too-big'));
    await waitFor(async () => (await metric(telemetry, SENT, 'otlp_grpc')) === 5, 'halves delivered');
    expect(down.attempts).toHaveLength(5);
    expect(down.delivered.slice(1).map((b) => requestToBatch(decodeProtobufRequest(b)).records.map((r) => r.log.body?.stringValue))).toEqual([
      ['too-big-0', 'too-big-1'],
      ['too-big-2'],
    ]);
    expect(await metric(telemetry, FAILED, 'otlp_grpc')).toBe(0);
    await exporter.shutdown!(deadline(5000));
  });

  it('reads the RetryInfo delay from the grpc-status-details-bin trailer', async () => {
    down.script = [
      { code: grpc.status.RESOURCE_EXHAUSTED, retryDelayMs: 1500 },
      { code: grpc.status.UNAVAILABLE, retryDelayMs: 250 },
      { code: grpc.status.RESOURCE_EXHAUSTED },
      { code: grpc.status.PERMISSION_DENIED },
    ];
    const sender = new GrpcSender('otlp_grpc', otlpGrpcConfigSchema.parse({ endpoint: down.address, tls: { insecure: true } }));
    await sender.start();
    const signal = new AbortController().signal;
    const bytes = encodeBatchProtobuf(makeBatch(1));
    expect(await sender.send(bytes, signal)).toMatchObject({ kind: 'retryable', retryAfterMs: 1500 });
    expect(await sender.send(bytes, signal)).toMatchObject({ kind: 'retryable', retryAfterMs: 250 });
    expect(await sender.send(bytes, signal)).toMatchObject({ kind: 'too_large', reason: expect.stringContaining('RESOURCE_EXHAUSTED') });
    expect(await sender.send(bytes, signal)).toMatchObject({ kind: 'permanent', reason: expect.stringContaining('PERMISSION_DENIED') });
    expect(await sender.send(bytes, signal)).toEqual({ kind: 'ok', rejected: 0 });
    await sender.close();
  });

  it('counts INVALID_ARGUMENT as send_failed and does not retry it', async () => {
    down.script = [{ code: grpc.status.INVALID_ARGUMENT, details: 'bad record' }];
    const { exporter, telemetry, lines } = await buildExporter('otlp_grpc', base());
    await exporter.consume(makeBatch(7));
    await waitFor(async () => (await metric(telemetry, FAILED, 'otlp_grpc')) === 7, 'failure counted');
    // The batch is gone from the queue, so no later attempt can happen.
    expect(await metric(telemetry, QUEUE, 'otlp_grpc')).toBe(0);
    expect(down.attempts).toHaveLength(1);
    expect(await metric(telemetry, SENT, 'otlp_grpc')).toBe(0);
    const err = lines.find((l) => l.level === 'error');
    expect(err?.msg).toMatch(/rejected the batch permanently/);
    expect(String(err?.reason)).toContain('INVALID_ARGUMENT: bad record');
    await exporter.shutdown!(deadline(5000));
  });

  it('counts the records a partial success rejected', async () => {
    down.script = [{ ok: true, rejected: 2, message: 'two records too old' }];
    const { exporter, telemetry, lines } = await buildExporter('otlp_grpc', base());
    await exporter.consume(makeBatch(5));
    await waitFor(async () => (await metric(telemetry, FAILED, 'otlp_grpc')) === 2, 'rejected counted');
    expect(await metric(telemetry, SENT, 'otlp_grpc')).toBe(3);
    expect(lines.find((l) => l.level === 'warn')).toMatchObject({ rejected: 2, message: 'two records too old' });
    await exporter.shutdown!(deadline(5000));
  });

  it('gives up after max_elapsed_time and counts the batch as failed', async () => {
    down.fallback = { code: grpc.status.UNAVAILABLE };
    // 2 s, not tens of ms: the first attempt (a new gRPC connection) alone can take longer than 60 ms on
    // a loaded machine, and the exporter would then give up before any retry.
    const { exporter, telemetry, lines } = await buildExporter('otlp_grpc', {
      ...base(),
      retry_on_failure: { ...FAST_RETRY, max_elapsed_time: '2s' },
    });
    await exporter.consume(makeBatch(4));
    await waitFor(async () => (await metric(telemetry, FAILED, 'otlp_grpc')) === 4, () => `give-up counted (${down.attempts.length} attempts)`);
    expect(down.attempts.length).toBeGreaterThan(1);
    expect(lines.find((l) => l.level === 'error')?.msg).toMatch(/giving up/);
    await exporter.shutdown!(deadline(5000));
  });

  it('keeps retrying while nothing listens at the endpoint, and delivers once the downstream is up', async () => {
    const port = await freePort();
    const { exporter, lines } = await buildExporter('otlp_grpc', { endpoint: `127.0.0.1:${port}`, tls: { insecure: true }, retry_on_failure: FAST_RETRY });
    const batch = makeBatch(2, 'late');
    await exporter.consume(batch);
    await waitFor(() => lines.some((l) => l.msg === 'export failed; will retry' && String(l.reason).includes('UNAVAILABLE')), 'a refused connection');
    const late = await GrpcDownstream.start(undefined, port);
    try {
      await waitFor(() => late.delivered.length === 1, 'delivery once the downstream listens');
      expect(late.delivered[0].equals(Buffer.from(encodeBatchProtobuf(batch)))).toBe(true);
      await exporter.shutdown!(deadline(5000));
    } finally {
      await late.close();
    }
  });

  it('without a queue, consume resolves only once delivered and reports permanent refusals', async () => {
    down.script = [{ code: grpc.status.UNAVAILABLE }, OK, { code: grpc.status.INVALID_ARGUMENT, details: 'nope' }];
    const { exporter } = await buildExporter('otlp_grpc', { ...base(), sending_queue: { enabled: false } });
    await exporter.consume(makeBatch(2));
    expect(down.delivered).toHaveLength(1);
    const err = await exporter.consume(makeBatch(2)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Refusal);
    expect((err as Refusal).retryable).toBe(false);
    await exporter.shutdown!(deadline(5000));
  });
});

describe('otlp_grpc on the wire', () => {
  it('compresses each message with gzip by default and sends plain messages with compression: none', async () => {
    const wire = await WireGrpcDownstream.start();
    try {
      for (const compression of ['gzip', 'none'] as const) {
        const { exporter } = await buildExporter('otlp_grpc', { endpoint: wire.address, tls: { insecure: true }, compression, headers: { authorization: 'Bearer t' } });
        const batch = makeBatch(50, compression);
        await exporter.consume(batch);
        await waitFor(() => wire.calls.length === (compression === 'gzip' ? 1 : 2), 'call on the wire');
        const call = wire.calls.at(-1)!;
        expect(call.headers[':path']).toBe('/opentelemetry.proto.collector.logs.v1.LogsService/Export');
        expect(call.headers['content-type']).toBe('application/grpc');
        expect(call.headers.authorization).toBe('Bearer t');
        expect(call.headers['grpc-encoding']).toBe(compression === 'gzip' ? 'gzip' : undefined);
        expect(call.compressedFlag).toBe(compression === 'gzip' ? 1 : 0);
        expect(call.message.equals(Buffer.from(encodeBatchProtobuf(batch)))).toBe(true);
        await exporter.shutdown!(deadline(5000));
      }
    } finally {
      await wire.close();
    }
  });
});
