// A bare grpc-js receive-and-forward relay (no decoding, no storage): the
// floor of what any Node OTLP/gRPC proxy costs. Run as a child process:
//   node relay.js LISTEN_PORT DOWNSTREAM_ADDRESS
import * as grpc from '@grpc/grpc-js';
import { RawClient, rawService } from './grpc-raw.js';

const [port, downstream] = process.argv.slice(2);
const client = new RawClient(downstream);
const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
server.addService(rawService, {
  Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
    client.export(call.request).then(
      (res) => cb(null, res),
      (err: grpc.ServiceError) => cb(err),
    );
  },
});
server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) throw err;
  process.stdout.write('ready\n');
});
process.on('SIGTERM', () => server.forceShutdown());
