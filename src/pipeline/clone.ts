// A deep copy of a batch, for a consumer that mutates records while others read
// or mutate the same batch (see fan-out.ts). A protobuf round trip copies every
// field faithfully, 64-bit integers and bytes included, and gives records the
// shape a fresh decode gives (protobufjs defaults included), so a processor
// sees a copy exactly as it would see the request. Records are regrouped by
// resource and scope, which is their order already before any processor ran.
import { batchToRequest, decodeProtobufRequest, encodeProtobufRequest, requestToBatch } from '../otlp/convert.js';
import type { LogBatch } from './record.js';

export function cloneBatch(batch: LogBatch): LogBatch {
  return requestToBatch(decodeProtobufRequest(encodeProtobufRequest(batchToRequest(batch)))).records;
}
