// Issue 13, item 6: one request must not cause unbounded work. 2,000,000 empty
// LogRecords fit in a 4 MB gRPC message (2 bytes each); each would be
// enriched, scored and archived. `vigil run` counts the records while walking
// the request, before decoding it, and refuses with a non-retryable status
// (INVALID_ARGUMENT / 400 over max_request_records; RESOURCE_EXHAUSTED without
// RetryInfo / 413 when memory_limiter estimates the request can never fit), and
// stays healthy: the next ordinary request is stored.
import * as grpc from '@grpc/grpc-js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeProtobufRequest } from '../../../src/otlp/convert.js';
import { countJsonLogRecords, countProtobufLogRecords } from '../../../src/otlp/count.js';
import { startVigilProcess, type VigilProcess, listening } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';
import { fullRequest, grpcExport, httpPost } from './clients.js';

const EMPTY_RECORDS = 2_000_000;

/** protobuf length prefix of `n` bytes. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** ExportLogsServiceRequest { resource_logs { scope_logs { log_records {} × n } } }, built on the wire (no 2M objects in the test). */
function emptyRecordsRequest(n: number): Buffer {
  const records = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) records[i * 2] = 0x12; // field 2 (log_records), length 0
  const scope = Buffer.concat([Buffer.from([0x12, ...varint(records.length)]), records]);
  const resource = Buffer.concat([Buffer.from([0x0a, ...varint(scope.length)]), scope]);
  return resource;
}

function ordinaryRequest(tag: string): Uint8Array {
  return encodeProtobufRequest({
    resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ scope: { name: 't' }, logRecords: [{ body: { stringValue: `GET /ok ${tag}` }, attributes: [] }] }] }],
  });
}

function config(dir: string, extra: { maxRecords?: number; limiter?: boolean } = {}): string {
  const protocol = (p: object) => ({ endpoint: '127.0.0.1:0', ...(extra.maxRecords ? { max_request_records: extra.maxRecords } : {}), ...p });
  const cfg = {
    receivers: { otlp: { protocols: { grpc: protocol({}), http: protocol({ max_request_body_size: '32MiB' }) } } },
    processors: { audit: {}, ...(extra.limiter ? { memory_limiter: { limit_mib: 1024, check_interval: '100ms' } } : {}) },
    exporters: { worm: { directory: join(dir, 'archive'), signing: { key_file: join(dir, 'keys', 'archive.key') } } },
    extensions: { health_check: { endpoint: '127.0.0.1:0' } },
    service: {
      extensions: ['health_check'],
      telemetry: { metrics: { address: '127.0.0.1:0' }, logs: { level: 'warn' } },
      pipelines: { logs: { receivers: ['otlp'], processors: [...(extra.limiter ? ['memory_limiter'] : []), 'audit'], exporters: ['worm'] } },
    },
  };
  const path = join(dir, 'vigil.yaml');
  writeFileSync(path, stringify(cfg));
  return path;
}

let vigil: VigilProcess | undefined;
afterEach(async () => {
  if (vigil && vigil.child.exitCode === null) {
    vigil.child.kill('SIGTERM');
    await vigil.exited;
  }
  vigil = undefined;
});

async function healthy(v: VigilProcess): Promise<void> {
  const url = /health (\S+)/.exec(v.stdout())?.[1];
  expect(url, v.stdout()).toBeDefined();
  expect((await fetch(url!)).status).toBe(200);
  const ok = await grpcExport(listening(v).grpc, ordinaryRequest('after'));
  expect(ok.code, ok.details).toBe(grpc.status.OK);
}

describe('counting records before decoding', () => {
  it('counts protobuf and JSON requests as the decoders would, stopping early when asked', () => {
    const body = emptyRecordsRequest(1000);
    expect(countProtobufLogRecords(body)).toBe(1000);
    expect(countProtobufLogRecords(body, 10)).toBe(11);
    const rich = encodeProtobufRequest(fullRequest());
    expect(countProtobufLogRecords(rich)).toBe(fullRequest().resourceLogs.flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords)).length);
    const json = JSON.stringify({
      resourceLogs: [
        { resource: { attributes: [{ key: 'logRecords', value: { arrayValue: { values: [{ stringValue: '[{' }] } } }] }, scopeLogs: [{ logRecords: [{}, { body: { stringValue: 'a"]}' } }, {}] }] },
        { scope_logs: [{ log_records: [{}, {}] }, { logRecords: [] }] },
      ],
    });
    expect(countJsonLogRecords(json)).toBe(5);
    expect(countJsonLogRecords('{"resourceLogs":[{"scopeLogs":[{"logRecords":[' + '{},'.repeat(99) + '{}]}]}]}', 10)).toBe(11);
    // Truncated input: the count of what could be read; the decoder reports the error.
    expect(countProtobufLogRecords(body.subarray(0, 50))).toBe(0);
  });
});

describe('a request of 2,000,000 empty log records against vigil run', () => {
  const huge = emptyRecordsRequest(EMPTY_RECORDS);

  it('is refused before decoding with INVALID_ARGUMENT / 400 (max_request_records), and Vigil stays healthy', async () => {
    expect(huge.length).toBeLessThan(4 * 1024 * 1024);
    vigil = await startVigilProcess(['run', '--config', config(tempDir('vigil-amp-'))]);
    const { grpc: grpcAddr, http } = listening(vigil);
    const g = await grpcExport(grpcAddr, huge);
    expect(grpc.status[g.code]).toBe('INVALID_ARGUMENT');
    expect(g.details).toMatch(/more than 100000 log records \(receivers\.otlp\.protocols\.grpc\.max_request_records\)/);
    expect(g.metadata.get('grpc-status-details-bin')).toEqual([]);
    const h = await httpPost(http, huge, { 'content-type': 'application/x-protobuf' });
    expect(h.status).toBe(400);
    expect(h.headers.get('retry-after')).toBeNull();
    const j = await httpPost(http, `{"resourceLogs":[{"scopeLogs":[{"logRecords":[${'{},'.repeat(EMPTY_RECORDS - 1)}{}]}]}]}`, { 'content-type': 'application/json' });
    expect(j.status).toBe(400);
    expect(j.body.toString()).toMatch(/max_request_records/);
    await healthy(vigil);
  }, 120_000);

  it('with the record limit raised, memory_limiter refuses it before decoding as never fitting (RESOURCE_EXHAUSTED without RetryInfo / 413)', async () => {
    vigil = await startVigilProcess(['run', '--config', config(tempDir('vigil-amp-ml-'), { maxRecords: 10_000_000, limiter: true })]);
    const { grpc: grpcAddr, http } = listening(vigil);
    const g = await grpcExport(grpcAddr, huge);
    expect(grpc.status[g.code]).toBe('RESOURCE_EXHAUSTED');
    expect(g.details).toMatch(/memory limit: a request of 2000000 log records .* send fewer records per request/);
    expect(g.metadata.get('grpc-status-details-bin')).toEqual([]);
    const h = await httpPost(http, huge, { 'content-type': 'application/x-protobuf' });
    expect(h.status).toBe(413);
    await healthy(vigil);
  }, 120_000);

  it('refuses a JSON body that is not valid UTF-8 (400), rather than altering it', async () => {
    vigil = await startVigilProcess(['run', '--config', config(tempDir('vigil-utf8-'))]);
    const { http } = listening(vigil);
    const text = Buffer.from('{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"caf\u00e9 X"}}]}]}]}', 'utf8');
    const bad = Buffer.from(text);
    bad[bad.indexOf('X')] = 0xff;
    const r = await httpPost(http, bad, { 'content-type': 'application/json' });
    expect(r.status).toBe(400);
    expect(r.body.toString()).toMatch(/not valid UTF-8/);
    expect((await httpPost(http, text, { 'content-type': 'application/json' })).status).toBe(200);
  }, 180_000);
});
