// The OTLP protobuf schema, loaded from proto/ by protobufjs reflection, which
// generates specialised encoders/decoders at load time. bench/codec.bench.ts
// measures it against pbjs static code of the same .proto files (512-record
// access-log requests of 262 KiB, each codec alone in its own process, best of
// 7 runs, records per CPU second, Node 24 on two shared cores); four runs:
//   reflection  decode 119k-183k  encode 142k-211k  decode+encode 65k-98k
//   static      decode 130k-178k  encode 166k-217k  decode+encode 73k-98k
//   static/reflection on decode+encode: x0.99, x0.95, x1.26, x1.00
// No clear winner (it is the same generated code either way), so reflection
// stays: no generated file to keep in step with proto/. (Measured in one
// process, whichever codec runs second looks 1.5x faster: measure apart.)
import { join } from 'node:path';
import protobuf from 'protobufjs';
import Long from 'long';
import { packageRoot } from '../util/paths.js';

// 64-bit fields decode to long.js values; make sure protobufjs uses this copy.
protobuf.util.Long = Long;
protobuf.configure();

const FILES = [
  'opentelemetry/proto/collector/logs/v1/logs_service.proto',
  'google/rpc/status.proto',
  'google/rpc/error_details.proto',
];

function load(): protobuf.Root {
  const root = new protobuf.Root();
  const protoDir = join(packageRoot(), 'proto');
  root.resolvePath = (_origin, target) => join(protoDir, target);
  root.loadSync(FILES, { keepCase: false });
  root.resolveAll();
  return root;
}

export const root = load();
export const ExportLogsServiceRequest = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
export const ExportLogsServiceResponse = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse');
export const LogsData = root.lookupType('opentelemetry.proto.logs.v1.LogsData');
export const RpcStatus = root.lookupType('google.rpc.Status');
export const RetryInfo = root.lookupType('google.rpc.RetryInfo');

export const LOGS_SERVICE = 'opentelemetry.proto.collector.logs.v1.LogsService';
export const EXPORT_METHOD_PATH = `/${LOGS_SERVICE}/Export`;
export const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';
