// A deep copy of a batch (for a receiver that feeds several pipelines, whose
// processors each mutate their own records). A protobuf round trip copies every
// field faithfully, 64-bit integers and bytes included.
import { batchToRequest, decodeProtobufRequest, encodeProtobufRequest, requestToBatch } from '../otlp/convert.js';
import type { LogBatch } from './record.js';

export function cloneBatch(batch: LogBatch): LogBatch {
  return requestToBatch(decodeProtobufRequest(encodeProtobufRequest(batchToRequest(batch)))).records;
}
