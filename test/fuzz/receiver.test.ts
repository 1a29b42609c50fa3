// Fuzzed requests through the real OTLP receiver (HTTP and gRPC) into a real
// pipeline writing a file: each is answered with the status its decoding calls
// for (400 / INVALID_ARGUMENT when malformed, 200 / OK otherwise, with
// partial_success when records were rejected), and exactly the accepted
// records are stored: nothing from a refused request, nothing lost from an
// accepted one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig } from '../../src/config/load.js';
import { fileExporterFactory } from '../../src/exporters/file/file.js';
import { mutatedJson, mutatedProtobuf } from '../../src/fuzz/arbitraries.js';
import { hostileCases } from '../../src/fuzz/hostile.js';
import { targetSeed } from '../../src/fuzz/session.js';
import { decodeProtobufRequest, requestToBatch } from '../../src/otlp/convert.js';
import { decodeJsonRequest } from '../../src/otlp/json.js';
import { EXPORT_METHOD_PATH, ExportLogsServiceResponse } from '../../src/otlp/schema.js';
import type { AnyFactory } from '../../src/pipeline/component.js';
import { Refusal } from '../../src/pipeline/errors.js';
import { Service } from '../../src/pipeline/service.js';
import { otlpReceiverFactory, type OtlpReceiver } from '../../src/receivers/otlp/otlp.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { Telemetry } from '../../src/telemetry/metrics.js';
import { tempDir } from '../helpers/tmp.js';
import { SEED } from './helpers.js';

const registry = new Map<string, AnyFactory>([otlpReceiverFactory, fileExporterFactory].map((f) => [`${f.kind}:${f.type}`, f as AnyFactory]));
const CASES = 300;

/** What decoding alone says about an input: refused, or how many records are accepted and rejected. */
function expectation(decode: () => { accepted: number; rejected: number }): { refused: true } | { refused: false; accepted: number; rejected: number } {
  try {
    return { refused: false, ...decode() };
  } catch (err) {
    if (err instanceof Refusal && err.code === 'INVALID_ARGUMENT') return { refused: true };
    throw err;
  }
}

function protobufExpectation(bytes: Uint8Array) {
  return expectation(() => {
    const b = requestToBatch(decodeProtobufRequest(bytes));
    return { accepted: b.records.length, rejected: b.rejected };
  });
}

function jsonExpectation(text: string) {
  return expectation(() => {
    const d = decodeJsonRequest(text);
    const b = requestToBatch(d.request);
    return { accepted: b.records.length, rejected: b.rejected + d.rejected };
  });
}

function storedCount(path: string): number {
  if (!existsSync(path)) return 0;
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l)
    .reduce((n, l) => n + requestToBatch(decodeJsonRequest(l).request).records.length, 0);
}

function grpcExport(client: grpc.Client, body: Uint8Array): Promise<{ code: grpc.status; response?: Buffer }> {
  return new Promise((resolve) =>
    client.makeUnaryRequest(EXPORT_METHOD_PATH, (b: Buffer) => b, (b: Buffer) => b, Buffer.from(body), new grpc.Metadata(), { deadline: Date.now() + 20_000 }, (err, response) =>
      resolve(err ? { code: err.code } : { code: grpc.status.OK, response }),
    ),
  );
}

describe('fuzzed requests through the OTLP receiver', () => {
  const dir = tempDir();
  const filePath = join(dir, 'stored.jsonl');
  let service: Service;
  let http = '';
  let client: grpc.Client;
  let expectedStored = 0;

  beforeAll(async () => {
    const config = validateConfig(
      {
        // Room for the 10 MiB hostile attribute over gRPC too (the default is 4 MiB).
        receivers: { otlp: { protocols: { grpc: { endpoint: '127.0.0.1:0', max_recv_msg_size_mib: 16 }, http: { endpoint: '127.0.0.1:0' } } } },
        exporters: { file: { path: filePath } },
        service: { telemetry: { metrics: { address: null } }, pipelines: { logs: { receivers: ['otlp'], exporters: ['file'] } } },
      },
      registry,
    );
    service = await Service.build(config, silentLogger(), new Telemetry({ processMetrics: false }));
    await service.start();
    const receiver = service.receivers[0].instance as OtlpReceiver;
    http = `http://${receiver.httpAddress()}/v1/logs`;
    client = new grpc.Client(receiver.grpcAddress()!, grpc.credentials.createInsecure());
  });

  afterAll(async () => {
    client?.close();
    await service?.shutdown();
  });

  it(`answers ${CASES} mutated protobuf requests over HTTP with 400 or 200 (+ partial_success) as decoding dictates`, async () => {
    for (const bytes of fc.sample(mutatedProtobuf, { numRuns: CASES, seed: targetSeed(SEED, 'receiver.http.protobuf') })) {
      const want = protobufExpectation(bytes);
      const res = await fetch(http, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: bytes });
      const body = new Uint8Array(await res.arrayBuffer());
      if (want.refused) {
        expect(res.status, Buffer.from(bytes).toString('hex')).toBe(400);
        continue;
      }
      expect(res.status, Buffer.from(bytes).toString('hex')).toBe(200);
      const ps = (ExportLogsServiceResponse.decode(body) as unknown as { partialSuccess?: { rejectedLogRecords?: { toNumber(): number } | number } }).partialSuccess;
      expect(Number(ps?.rejectedLogRecords ?? 0)).toBe(want.rejected);
      expectedStored += want.accepted;
    }
    expect(storedCount(filePath)).toBe(expectedStored);
  });

  it(`answers ${CASES} mutated protobuf requests over gRPC with INVALID_ARGUMENT or OK as decoding dictates`, async () => {
    for (const bytes of fc.sample(mutatedProtobuf, { numRuns: CASES, seed: targetSeed(SEED, 'receiver.grpc.protobuf') })) {
      const want = protobufExpectation(bytes);
      const res = await grpcExport(client, bytes);
      expect(res.code, Buffer.from(bytes).toString('hex')).toBe(want.refused ? grpc.status.INVALID_ARGUMENT : grpc.status.OK);
      if (!want.refused) expectedStored += want.accepted;
    }
    expect(storedCount(filePath)).toBe(expectedStored);
  });

  it(`answers ${CASES} mutated OTLP/JSON requests over HTTP with 400 or 200 (+ partial_success) as decoding dictates`, async () => {
    for (const text of fc.sample(mutatedJson, { numRuns: CASES, seed: targetSeed(SEED, 'receiver.http.json') })) {
      const want = jsonExpectation(text);
      const res = await fetch(http, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
      const body = await res.text();
      if (want.refused) {
        expect(res.status, text).toBe(400);
        expect(JSON.parse(body).message).toMatch(/malformed/);
        continue;
      }
      expect(res.status, text).toBe(200);
      const ps = (JSON.parse(body) as { partialSuccess?: { rejectedLogRecords?: string } }).partialSuccess;
      expect(Number(ps?.rejectedLogRecords ?? 0), text).toBe(want.rejected);
      expectedStored += want.accepted;
    }
    expect(storedCount(filePath)).toBe(expectedStored);
  });

  it('answers every hostile request (both encodings, HTTP and gRPC) as decoding dictates, storing exactly the accepted records', async () => {
    for (const c of hostileCases) {
      const input = c.build();
      const want = typeof input === 'string' ? jsonExpectation(input) : protobufExpectation(input);
      const contentType = typeof input === 'string' ? 'application/json' : 'application/x-protobuf';
      const res = await fetch(http, { method: 'POST', headers: { 'content-type': contentType }, body: input });
      await res.arrayBuffer();
      expect(res.status, `${c.kind}: ${c.name}`).toBe(want.refused ? 400 : 200);
      if (!want.refused) expectedStored += want.accepted;
      if (typeof input !== 'string') {
        const g = await grpcExport(client, input);
        expect(g.code, `gRPC ${c.name}`).toBe(want.refused ? grpc.status.INVALID_ARGUMENT : grpc.status.OK);
        if (!want.refused) expectedStored += want.accepted;
      }
    }
    expect(storedCount(filePath)).toBe(expectedStored);
  });
});
