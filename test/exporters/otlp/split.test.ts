// Nothing acknowledged is dropped for its size: batches are cut to
// max_request_bytes / max_batch_records before they are queued, and a request
// the downstream still refuses as too large (gRPC RESOURCE_EXHAUSTED without
// RetryInfo, HTTP 413) is split and sent again. Only a record too large on its
// own is given up on, counted and logged.
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { slices, splitToFit } from '../../../src/exporters/otlp/split.js';
import { decodeProtobufRequest, encodeBatchProtobuf, requestToBatch } from '../../../src/otlp/convert.js';
import { decodeJsonRequest } from '../../../src/otlp/json.js';
import { makeBatch, makeRecord } from '../../helpers/records.js';
import { GrpcDownstream, HttpDownstream, waitFor } from './downstream.js';
import { FAST_RETRY, buildExporter, deadline, metric } from './harness.js';

const SENT = 'vigil_exporter_sent_log_records_total';
const FAILED = 'vigil_exporter_send_failed_log_records_total';

const bodiesOf = (payloads: Uint8Array[]) => payloads.flatMap((p) => requestToBatch(decodeProtobufRequest(p)).records.map((r) => r.log.body?.stringValue));
const padded = (n: number, pad: number, prefix = 'r') => makeBatch(n, prefix).map((r) => ({ ...r, log: { ...r.log, body: { stringValue: `${r.log.body?.stringValue}|${'x'.repeat(pad)}` } } }));

describe('splitToFit', () => {
  it('keeps a batch that fits in one request, encoded once', () => {
    const batch = makeBatch(10);
    const { chunks, oversize } = splitToFit(batch, encodeBatchProtobuf, { maxBytes: 1 << 20, maxRecords: 0 });
    expect(oversize).toEqual([]);
    expect(chunks).toHaveLength(1);
    expect(Buffer.from(chunks[0].payload).equals(Buffer.from(encodeBatchProtobuf(batch)))).toBe(true);
  });

  it('cuts to the byte limit, in order, every chunk within it', () => {
    const batch = [...padded(50, 100), ...padded(5, 3000, 'big'), ...padded(50, 10, 'small')];
    const maxBytes = 8 * 1024;
    const { chunks, oversize } = splitToFit(batch, encodeBatchProtobuf, { maxBytes, maxRecords: 0 });
    expect(oversize).toEqual([]);
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(c.payload.length).toBeLessThanOrEqual(maxBytes);
    expect(chunks.reduce((n, c) => n + c.records, 0)).toBe(batch.length);
    expect(bodiesOf(chunks.map((c) => c.payload))).toEqual(batch.map((r) => r.log.body?.stringValue));
  });

  it('cuts to the record limit', () => {
    const { chunks } = splitToFit(makeBatch(25), encodeBatchProtobuf, { maxBytes: 1 << 20, maxRecords: 10 });
    expect(chunks.map((c) => c.records)).toEqual([8, 9, 8]);
  });

  it('lets a single record go alone up to singleMaxBytes when maxBytes was lowered', () => {
    const batch = [makeRecord({ body: { stringValue: 'a' } }), makeRecord({ body: { stringValue: 'x'.repeat(3000) } })];
    const { chunks, oversize } = splitToFit(batch, encodeBatchProtobuf, { maxBytes: 1024, maxRecords: 0, singleMaxBytes: 4096 });
    expect(oversize).toEqual([]);
    expect(chunks.map((c) => c.records)).toEqual([1, 1]);
  });

  it('sets apart a record that alone is over the limit, and sends its neighbours', () => {
    const batch = [makeRecord({ body: { stringValue: 'a' } }), makeRecord({ body: { stringValue: 'x'.repeat(5000) } }), makeRecord({ body: { stringValue: 'b' } })];
    const { chunks, oversize } = splitToFit(batch, encodeBatchProtobuf, { maxBytes: 2048, maxRecords: 0 });
    expect(oversize).toHaveLength(1);
    expect(oversize[0].bytes).toBeGreaterThan(5000);
    expect(bodiesOf(chunks.map((c) => c.payload))).toEqual(['a', 'b']);
  });

  it('slices evenly', () => {
    expect(slices([1, 2, 3, 4, 5], 2)).toEqual([[1, 2, 3], [4, 5]]);
    expect(slices([1, 2], 5)).toEqual([[1], [2]]);
  });
});

describe('otlp exporters against downstreams with a small size limit', () => {
  it('gRPC: max_request_bytes keeps every request under the limit; nothing is refused or dropped', async () => {
    const limit = 64 * 1024;
    const down = await GrpcDownstream.start(undefined, 0, { 'grpc.max_receive_message_length': limit });
    try {
      const { exporter, telemetry } = await buildExporter('otlp_grpc', {
        endpoint: down.address,
        tls: { insecure: true },
        retry_on_failure: FAST_RETRY,
        max_request_bytes: limit,
      });
      const batch = padded(400, 600);
      await exporter.consume(batch);
      await waitFor(async () => (await metric(telemetry, SENT, 'otlp_grpc')) === 400, 'all records sent');
      expect(down.attempts.length).toBe(down.delivered.length);
      expect(down.delivered.length).toBeGreaterThanOrEqual(4);
      // Several consumers deliver concurrently: every record once, in any order between requests.
      expect(bodiesOf(down.delivered).sort()).toEqual(batch.map((r) => r.log.body?.stringValue).sort());
      for (const d of down.delivered) expect(d.length).toBeLessThanOrEqual(limit);
      expect(await metric(telemetry, FAILED, 'otlp_grpc')).toBe(0);
      await exporter.shutdown!(deadline(5000));
    } finally {
      await down.close();
    }
  });

  it('gRPC: a request the downstream refuses as too large (RESOURCE_EXHAUSTED) is split and resent, a single oversize record is counted and logged', async () => {
    const limit = 32 * 1024;
    const down = await GrpcDownstream.start(undefined, 0, { 'grpc.max_receive_message_length': limit });
    try {
      // Our own limit is above the downstream's: only its refusals can teach us.
      const { exporter, telemetry, lines } = await buildExporter('otlp_grpc', {
        endpoint: down.address,
        tls: { insecure: true },
        retry_on_failure: FAST_RETRY,
        max_request_bytes: '1MiB',
        sending_queue: { num_consumers: 1 },
      });
      const batch = [...padded(150, 500, 'a'), makeRecord({ body: { stringValue: `huge|${'y'.repeat(40 * 1024)}` } }), ...padded(10, 10, 'z')];
      await exporter.consume(batch);
      await waitFor(async () => (await metric(telemetry, SENT, 'otlp_grpc')) + (await metric(telemetry, FAILED, 'otlp_grpc')) === batch.length, 'every record sent or given up');
      expect(await metric(telemetry, FAILED, 'otlp_grpc')).toBe(1);
      expect(bodiesOf(down.delivered)).toEqual(batch.map((r) => r.log.body?.stringValue).filter((b) => !b?.startsWith('huge|')));
      for (const d of down.delivered) expect(d.length).toBeLessThanOrEqual(limit);
      expect(lines.some((l) => l.level === 'warn' && /refused the request as too large; splitting/.test(l.msg))).toBe(true);
      const dropped = lines.find((l) => l.level === 'error');
      expect(dropped?.msg).toMatch(/single log record as too large/);
      expect(dropped).toMatchObject({ records: 1 });
      // Learned: the next batch of the same kind is cut small enough before sending, nothing refused.
      const before = down.attempts.length;
      const delivered = down.delivered.length;
      await exporter.consume(padded(150, 500, 'b'));
      await waitFor(async () => (await metric(telemetry, SENT, 'otlp_grpc')) === batch.length - 1 + 150, 'the second batch sent');
      expect(down.attempts.length - before).toBe(down.delivered.length - delivered);
      await exporter.shutdown!(deadline(5000));
    } finally {
      await down.close();
    }
  });

  it('gRPC without a queue: the caller waits while the halves are delivered', async () => {
    const down = await GrpcDownstream.start(undefined, 0, { 'grpc.max_receive_message_length': 16 * 1024 });
    try {
      const { exporter } = await buildExporter('otlp_grpc', {
        endpoint: down.address,
        tls: { insecure: true },
        retry_on_failure: FAST_RETRY,
        max_request_bytes: '1MiB',
        sending_queue: { enabled: false },
      });
      const batch = padded(100, 500);
      await exporter.consume(batch);
      expect(bodiesOf(down.delivered)).toEqual(batch.map((r) => r.log.body?.stringValue));
      await exporter.shutdown!(deadline(5000));
    } finally {
      await down.close();
    }
  });

  it('HTTP: 413 is split and resent (proto and JSON); a record over max_request_bytes is dropped before sending', async () => {
    for (const encoding of ['proto', 'json'] as const) {
      const down = await HttpDownstream.start();
      down.maxBody = 20 * 1024;
      try {
        const { exporter, telemetry, lines } = await buildExporter('otlp_http', {
          endpoint: down.url,
          encoding,
          retry_on_failure: FAST_RETRY,
          max_request_bytes: '64KiB',
          sending_queue: { num_consumers: 1 },
        });
        const batch = [...padded(120, 400, encoding), makeRecord({ body: { stringValue: `huge|${'q'.repeat(70 * 1024)}` } })];
        await exporter.consume(batch);
        await waitFor(async () => (await metric(telemetry, SENT, 'otlp_http')) === 120, `${encoding}: all records sent`);
        expect(await metric(telemetry, FAILED, 'otlp_http')).toBe(1);
        expect(down.attempts.some((a) => a.body.length > down.maxBody)).toBe(true);
        const got = down.delivered.flatMap((b) =>
          encoding === 'json'
            ? requestToBatch(decodeJsonRequest(b.toString('utf8')).request).records.map((r) => r.log.body?.stringValue)
            : bodiesOf([b]),
        );
        expect(got).toEqual(batch.slice(0, 120).map((r) => r.log.body?.stringValue));
        expect(lines.find((l) => l.level === 'error')?.msg).toMatch(/larger than exporters\.otlp_http\.max_request_bytes on its own/);
        await exporter.shutdown!(deadline(5000));
      } finally {
        await down.close();
      }
    }
  });

  it('RESOURCE_EXHAUSTED with RetryInfo is throttling, not size: retried whole', async () => {
    const down = await GrpcDownstream.start();
    down.script = [{ code: grpc.status.RESOURCE_EXHAUSTED, details: 'slow down', retryDelayMs: 5 }];
    try {
      const { exporter, telemetry } = await buildExporter('otlp_grpc', { endpoint: down.address, tls: { insecure: true }, retry_on_failure: FAST_RETRY });
      await exporter.consume(makeBatch(4));
      await waitFor(async () => (await metric(telemetry, SENT, 'otlp_grpc')) === 4, 'sent');
      expect(down.delivered).toHaveLength(1);
      await exporter.shutdown!(deadline(5000));
    } finally {
      await down.close();
    }
  });
});
