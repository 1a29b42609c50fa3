// The OTLP/gRPC LogsService as a grpc-js service definition that passes raw
// bytes both ways: decoding and encoding stay ours (src/otlp/convert.ts), so a
// malformed request is an INVALID_ARGUMENT we can explain, not grpc-js's INTERNAL.
import type { ServiceDefinition } from '@grpc/grpc-js';
import { EXPORT_METHOD_PATH } from './schema.js';

const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const identity = (b: Buffer): Buffer => b;

export const RAW_LOGS_SERVICE: ServiceDefinition = {
  Export: {
    path: EXPORT_METHOD_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: asBuffer,
    requestDeserialize: identity,
    responseSerialize: asBuffer,
    responseDeserialize: identity,
  },
};
