// Every error path of the otlp receiver, over both transports: the exact
// status the OTLP specification asks for, retry hints only where a retry can
// help, and nothing stored when the request was refused.
import * as grpc from '@grpc/grpc-js';
import { request } from 'node:http';
import { deflateSync, gzipSync, zstdCompressSync } from 'node:zlib';
import Long from 'long';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeProtobufRequest } from '../../../src/otlp/convert.js';
import { encodeJsonRequest } from '../../../src/otlp/json.js';
import { ExportLogsServiceResponse, RETRY_INFO_TYPE_URL, RetryInfo, RpcStatus } from '../../../src/otlp/schema.js';
import { Refusal } from '../../../src/pipeline/errors.js';
import { tempDir } from '../../helpers/tmp.js';
import { fullRequest, grpcExport, type GrpcOutcome, httpPost } from './clients.js';
import { type Harness, startHarness } from './harness.js';

const dir = tempDir('vigil-otlp-errors-');
const LIMIT = 64 * 1024;
let h: Harness;

beforeAll(async () => {
  // Small limits so that "too large" is cheap to send: 64 KiB on both transports.
  h = await startHarness(dir, { grpc: { max_recv_msg_size_mib: LIMIT / (1024 * 1024) }, http: { max_request_body_size: LIMIT } });
});
afterAll(async () => {
  await h?.stop();
});
beforeEach(() => {
  h.gate.refusal = undefined;
});

const PROTO = { 'content-type': 'application/x-protobuf' };
const JSON_CT = { 'content-type': 'application/json' };
const url = () => `${h.http}/v1/logs`;
const garbage = Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]); // field 1, length far past the end

/** A request with 3 records, the middle one carrying a 3-byte trace id. */
function oneBadTraceId() {
  const req = fullRequest();
  const logs = req.resourceLogs[0].scopeLogs[0].logRecords;
  req.resourceLogs[0].scopeLogs[0].logRecords = [logs[0], { ...logs[1], traceId: Uint8Array.from([1, 2, 3]) }, logs[1]];
  req.resourceLogs = [req.resourceLogs[0]];
  req.resourceLogs[0].scopeLogs = [req.resourceLogs[0].scopeLogs[0]];
  return req;
}

function bigRequest(bytes: number) {
  const req = fullRequest();
  req.resourceLogs[0].scopeLogs[0].logRecords[0].body = { stringValue: 'x'.repeat(bytes) };
  return req;
}

function statusDetails(out: GrpcOutcome): { code: number; message: string; retryDelayMs?: number } | undefined {
  const raw = out.metadata.get('grpc-status-details-bin')[0] as Buffer | undefined;
  if (!raw) return undefined;
  type Any = { typeUrl?: string; type_url?: string; value: Uint8Array };
  const status = RpcStatus.decode(raw) as unknown as { code: number; message: string; details: Any[] };
  const info = status.details.find((d) => (d.typeUrl ?? d.type_url) === RETRY_INFO_TYPE_URL);
  if (!info) return { code: status.code, message: status.message };
  const delay = (RetryInfo.decode(info.value) as unknown as { retryDelay: { seconds: Long | number; nanos: number } }).retryDelay;
  return { code: status.code, message: status.message, retryDelayMs: Number(delay.seconds) * 1000 + delay.nanos / 1e6 };
}

/** Runs fn and checks that it stored nothing and (unless the request reached the pipeline) the gate saw nothing. */
async function storesNothing<T>(fn: () => Promise<T>, opts: { reachesPipeline?: boolean } = {}): Promise<T> {
  const stored = h.stored().length;
  const arrived = h.gate.arrived;
  const out = await fn();
  expect(h.stored().length).toBe(stored);
  if (!opts.reachesPipeline) expect(h.gate.arrived).toBe(arrived);
  return out;
}

describe('OTLP/gRPC errors', () => {
  it('malformed protobuf → INVALID_ARGUMENT with a message, no RetryInfo', async () => {
    const out = await storesNothing(() => grpcExport(h.grpc, garbage));
    expect(out.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(out.details).toMatch(/malformed protobuf ExportLogsServiceRequest/);
    expect(statusDetails(out)).toBeUndefined();
  });

  it('one record with an invalid trace id → partial success; its neighbours are stored', async () => {
    const before = h.stored().length;
    const counted = await h.counted('grpc');
    const out = await grpcExport(h.grpc, encodeProtobufRequest(oneBadTraceId()));
    expect(out.code).toBe(grpc.status.OK);
    const resp = ExportLogsServiceResponse.decode(out.response!) as unknown as { partialSuccess: { rejectedLogRecords: Long; errorMessage: string } };
    expect(Number(resp.partialSuccess.rejectedLogRecords)).toBe(1);
    expect(resp.partialSuccess.errorMessage).toMatch(/trace_id must be 16 bytes, got 3/);
    const stored = h.stored().slice(before);
    expect(stored.map((r) => r.log.eventName ?? '')).toEqual(['payment.failed', '']);
    expect(await h.counted('grpc')).toEqual({ accepted: counted.accepted + 2, refused: counted.refused + 1 });
  });

  it('too large → RESOURCE_EXHAUSTED without RetryInfo, also when it only decompresses too large', async () => {
    for (const gzip of [false, true]) {
      const out = await storesNothing(() => grpcExport(h.grpc, encodeProtobufRequest(bigRequest(LIMIT * 2)), { gzip }));
      expect(out.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(statusDetails(out)).toBeUndefined();
    }
  });

  it('pipeline cannot take data → UNAVAILABLE with RetryInfo in grpc-status-details-bin', async () => {
    h.gate.refusal = Refusal.unavailable('archive disk is full', 2500);
    const counted = await h.counted('grpc');
    const out = await storesNothing(() => grpcExport(h.grpc, encodeProtobufRequest(fullRequest())), { reachesPipeline: true });
    expect(out.code).toBe(grpc.status.UNAVAILABLE);
    expect(out.details).toBe('archive disk is full');
    expect(statusDetails(out)).toEqual({ code: grpc.status.UNAVAILABLE, message: 'archive disk is full', retryDelayMs: 2500 });
    expect((await h.counted('grpc')).refused).toBe(counted.refused + 4);
  });

  it('throttled → RESOURCE_EXHAUSTED with RetryInfo; refused as invalid → INVALID_ARGUMENT without', async () => {
    h.gate.refusal = new Refusal('RESOURCE_EXHAUSTED', 'memory limit reached', 1500);
    const throttled = await storesNothing(() => grpcExport(h.grpc, encodeProtobufRequest(fullRequest())), { reachesPipeline: true });
    expect(throttled.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(statusDetails(throttled)?.retryDelayMs).toBe(1500);
    h.gate.refusal = Refusal.invalid('records lack a body');
    const invalid = await storesNothing(() => grpcExport(h.grpc, encodeProtobufRequest(fullRequest())), { reachesPipeline: true });
    expect(invalid.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(statusDetails(invalid)).toBeUndefined();
  });
});

describe('OTLP/HTTP errors', () => {
  const rpcStatus = (body: Buffer) => RpcStatus.decode(body) as unknown as { code: number; message: string };

  it('malformed protobuf → 400 with a protobuf google.rpc.Status', async () => {
    const out = await storesNothing(() => httpPost(url(), garbage, PROTO));
    expect(out.status).toBe(400);
    expect(out.headers.get('content-type')).toBe('application/x-protobuf');
    expect(out.headers.get('retry-after')).toBeNull();
    expect(rpcStatus(out.body)).toMatchObject({ code: 3, message: expect.stringMatching(/malformed protobuf/) });
  });

  it('malformed JSON → 400 with a JSON google.rpc.Status', async () => {
    for (const text of ['{"resourceLogs": [', '[]', '{"resourceLogs": {"a": 1}}']) {
      const out = await storesNothing(() => httpPost(url(), text, JSON_CT));
      expect(out.status).toBe(400);
      expect(out.headers.get('content-type')).toBe('application/json');
      expect(JSON.parse(out.body.toString())).toMatchObject({ code: 3, message: expect.stringMatching(/malformed/) });
    }
  });

  it('one record with an invalid trace id → 200 with partial_success, in protobuf and JSON', async () => {
    const before = h.stored().length;
    const out = await httpPost(url(), encodeProtobufRequest(oneBadTraceId()), PROTO);
    expect(out.status).toBe(200);
    const resp = ExportLogsServiceResponse.decode(out.body) as unknown as { partialSuccess: { rejectedLogRecords: Long; errorMessage: string } };
    expect(Number(resp.partialSuccess.rejectedLogRecords)).toBe(1);

    // In JSON the bad id is a hex string of the wrong length: the JSON decoder drops that record.
    const json = JSON.parse(encodeJsonRequest(oneBadTraceId()));
    json.resourceLogs[0].scopeLogs[0].logRecords[1].traceId = '0102';
    const jout = await httpPost(url(), JSON.stringify(json), JSON_CT);
    expect(jout.status).toBe(200);
    const body = JSON.parse(jout.body.toString());
    expect(body.partialSuccess.rejectedLogRecords).toBe('1');
    expect(body.partialSuccess.errorMessage).toMatch(/traceId/);
    expect(h.stored().length).toBe(before + 4);
  });

  it('too large → 413, declared or not, and a gzip bomb → 413', async () => {
    const big = encodeProtobufRequest(bigRequest(LIMIT * 2));
    const declared = await storesNothing(() => httpPost(url(), big, PROTO));
    expect(declared.status).toBe(413);
    expect(rpcStatus(declared.body).message).toMatch(/max_request_body_size/);

    const chunked = await storesNothing(() => postChunked(url(), big, PROTO));
    expect(chunked).toBe(413);

    const bomb = gzipSync(Buffer.alloc(LIMIT * 64)); // ~4 MiB of zeros in a few KiB
    expect(bomb.length).toBeLessThan(LIMIT);
    const out = await storesNothing(() => httpPost(url(), bomb, { ...PROTO, 'content-encoding': 'gzip' }));
    expect(out.status).toBe(413);
    expect(rpcStatus(out.body).message).toMatch(/decompressed/);
  });

  it('deflate and zstd bodies are accepted; a corrupt gzip body is 400', async () => {
    const before = h.stored().length;
    const body = encodeProtobufRequest(fullRequest());
    const ok = await httpPost(url(), deflateSync(body), { ...PROTO, 'content-encoding': 'deflate' });
    expect(ok.status).toBe(200);
    const zstd = await httpPost(url(), zstdCompressSync(body), { ...PROTO, 'content-encoding': 'zstd' });
    expect(zstd.status).toBe(200);
    expect(h.stored().length).toBe(before + 8);
    const bad = await storesNothing(() => httpPost(url(), Buffer.from('not gzip at all'), { ...PROTO, 'content-encoding': 'gzip' }));
    expect(bad.status).toBe(400);
    expect(rpcStatus(bad.body).message).toMatch(/malformed gzip body/);
  });

  it('wrong content type → 415; unknown content encoding → 415', async () => {
    for (const ct of ['text/plain', 'application/protobuf+json', '']) {
      const out = await storesNothing(() => httpPost(url(), '{}', ct ? { 'content-type': ct } : {}));
      expect(out.status).toBe(415);
      expect(JSON.parse(out.body.toString()).message).toMatch(/application\/x-protobuf or application\/json/);
    }
    const br = await storesNothing(() => httpPost(url(), 'x', { ...PROTO, 'content-encoding': 'br' }));
    expect(br.status).toBe(415);
  });

  it('wrong method → 405 with Allow: POST; unknown path → 404', async () => {
    const get = await storesNothing(() => httpPost(url(), '', JSON_CT, 'GET'));
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const put = await storesNothing(() => httpPost(url(), '{}', JSON_CT, 'PUT'));
    expect(put.status).toBe(405);
    const traces = await storesNothing(() => httpPost(`${h.http}/v1/traces`, '{}', JSON_CT));
    expect(traces.status).toBe(404);
  });

  it('pipeline cannot take data → 503 with Retry-After (seconds, rounded up); throttled → 429', async () => {
    h.gate.refusal = Refusal.unavailable('archive disk is full', 2500);
    const counted = await h.counted('http');
    const out = await storesNothing(() => httpPost(url(), encodeJsonRequest(fullRequest()), JSON_CT), { reachesPipeline: true });
    expect(out.status).toBe(503);
    expect(out.headers.get('retry-after')).toBe('3');
    expect(JSON.parse(out.body.toString())).toEqual({
      code: 14,
      message: 'archive disk is full',
      details: [{ '@type': RETRY_INFO_TYPE_URL, retryDelay: '2.5s' }],
    });
    expect((await h.counted('http')).refused).toBe(counted.refused + 4);

    h.gate.refusal = new Refusal('RESOURCE_EXHAUSTED', 'memory limit reached', 1000);
    const throttled = await storesNothing(() => httpPost(url(), encodeProtobufRequest(fullRequest()), PROTO), { reachesPipeline: true });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('1');

    h.gate.refusal = Refusal.invalid('records lack a body');
    const invalid = await storesNothing(() => httpPost(url(), encodeProtobufRequest(fullRequest()), PROTO), { reachesPipeline: true });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('retry-after')).toBeNull();
  });
});

/** POSTs with chunked transfer encoding (no Content-Length), so the limit is enforced while reading; resolves the status. */
function postChunked(target: string, body: Uint8Array, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(target, { method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    // The server may close once it has answered: the status is what matters.
    req.on('error', (err) => reject(err));
    const step = 8 * 1024;
    for (let off = 0; off < body.length; off += step) req.write(body.subarray(off, off + step));
    req.end();
  });
}
