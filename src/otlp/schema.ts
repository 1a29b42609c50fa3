// The OTLP protobuf schema, loaded from proto/ by protobufjs reflection.
// (bench/codec measures reflection against pbjs static code; reflection
// generates specialised encoders/decoders at load time and was as fast.)
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
