// Raw-bytes OTLP/gRPC plumbing for benchmarks: a client that sends pre-encoded
// ExportLogsServiceRequests, a discard server, and a bare receive-and-forward relay.
import * as grpc from '@grpc/grpc-js';
import { RAW_LOGS_SERVICE } from '../../src/otlp/grpc-service.js';
import { EXPORT_METHOD_PATH } from '../../src/otlp/schema.js';

const identity = (b: Buffer) => b;
const toBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export const rawService = RAW_LOGS_SERVICE;

export class RawClient {
  private readonly client: grpc.Client;
  constructor(address: string) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), {
      'grpc.max_send_message_length': 64 * 1024 * 1024,
    });
  }
  export(body: Uint8Array): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(EXPORT_METHOD_PATH, toBuffer, identity, toBuffer(body), (err, res) =>
        err ? reject(err) : resolve(res!),
      );
    });
  }
  close(): void {
    this.client.close();
  }
}

/** A downstream that accepts and drops everything; counts bytes. */
export async function startDiscardServer(): Promise<{ address: string; requests: () => number; stop: () => Promise<void> }> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  let n = 0;
  server.addService(rawService, {
    Export: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      n++;
      cb(null, Buffer.alloc(0));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    address: `127.0.0.1:${port}`,
    requests: () => n,
    stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}
