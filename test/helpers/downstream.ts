// Real downstream OTLP servers for tests: a gRPC LogsService and an HTTP
// /v1/logs endpoint that decode with Vigil's codec and keep what they receive.
// `failNext` makes them answer with a chosen error for the next N calls.
import * as grpc from '@grpc/grpc-js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { CHECKPOINT_EVENT } from '../../src/exporters/worm/checkpoint.js';
import { decodeProtobufRequest, requestToBatch } from '../../src/otlp/convert.js';
import { decodeJsonRequest } from '../../src/otlp/json.js';
import { RAW_LOGS_SERVICE } from '../../src/otlp/grpc-service.js';
import { ExportLogsServiceResponse } from '../../src/otlp/schema.js';
import type { LogBatch } from '../../src/pipeline/record.js';

export interface Downstream {
  address: string;
  batches: LogBatch[];
  calls: number;
  /** gRPC: the `authorization` metadata of each call (undefined when absent). */
  authorizations?: (string | undefined)[];
  failNext(n: number, code?: grpc.status | number): void;
  records(): LogBatch;
  stop(): Promise<void>;
}

export async function startGrpcDownstream(port = 0): Promise<Downstream> {
  const server = new grpc.Server();
  let failures = 0;
  let failCode: number = grpc.status.UNAVAILABLE;
  const d: Downstream = {
    address: '',
    batches: [],
    calls: 0,
    authorizations: [],
    failNext(n, code = grpc.status.UNAVAILABLE) {
      failures = n;
      failCode = code;
    },
    records: () => d.batches.flat(),
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
  server.addService(
    RAW_LOGS_SERVICE,
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        d.calls++;
        d.authorizations!.push(call.metadata.get('authorization')[0]?.toString());
        if (failures > 0) {
          failures--;
          cb({ code: failCode, details: 'test downstream refusing' });
          return;
        }
        d.batches.push(requestToBatch(decodeProtobufRequest(call.request)).records);
        cb(null, Buffer.from(ExportLogsServiceResponse.encode({}).finish()));
      },
    },
  );
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  d.address = `127.0.0.1:${bound}`;
  return d;
}

export async function startHttpDownstream(): Promise<Downstream> {
  let failures = 0;
  let failCode = 503;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      d.calls++;
      if (failures > 0) {
        failures--;
        res.writeHead(failCode, { 'retry-after': '0' }).end();
        return;
      }
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const json = String(req.headers['content-type']).startsWith('application/json');
      const records = json
        ? requestToBatch(decodeJsonRequest(body.toString('utf8')).request).records
        : requestToBatch(decodeProtobufRequest(body)).records;
      d.batches.push(records);
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json ? '{}' : Buffer.alloc(0));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const d: Downstream = {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    batches: [],
    calls: 0,
    failNext(n, code = 503) {
      failures = n;
      failCode = code;
    },
    records: () => d.batches.flat(),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return d;
}

/**
 * The records that are not the archive's signed checkpoints. The worm exporter sends one to its sibling
 * exporters at the first tick (within a second) after its first records, at each seal and heartbeat:
 * on a slow machine it can reach a downstream among, or before, the records a test sent.
 */
export function withoutCheckpoints(records: LogBatch): LogBatch {
  return records.filter((r) => r.log.eventName !== CHECKPOINT_EVENT);
}

/**
 * Polls until `cond()` holds, failing after `timeoutMs` with `what`; as a function, `what` is called
 * only on failure, so that the message can say what was observed last (a count, a size).
 */
export async function until(cond: () => boolean | Promise<boolean>, what: string | (() => string), timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
