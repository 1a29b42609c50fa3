// Fuzz targets for amplification: how much work one request byte can cause.
// The receivers refuse a request over max_request_records by counting its
// records on the wire before decoding it, and bound a compressed body's
// output by max_request_body_size. Their contract:
//   - the wire count is exactly the decoder's count for every protobuf request
//     the decoder accepts (and never below it for OTLP/JSON), so no request can
//     slip past the limit; counting never throws;
//   - records per request byte are bounded (a record costs at least 2 bytes);
//   - decompression of any gzip / deflate / zstd input, bombs and nested or
//     truncated streams included, yields at most the limit or is refused (413
//     too large / 400 malformed): memory per request stays bounded whatever the
//     ratio of the input.
import { zstdCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { countRecords, decodeProtobufRequest, type ExportRequestMessage } from '../otlp/convert.js';
import { countJsonLogRecords, countProtobufLogRecords } from '../otlp/count.js';
import { decodeJsonRequest } from '../otlp/json.js';
import { DecompressionError, decompressBodySync } from '../receivers/otlp/decompress.js';
import { mutatedJson, mutatedProtobuf, otlpShapedJson } from './arbitraries.js';
import { countJsonRecords, describeError, Violation, type Outcome } from './contracts.js';
import { serialise } from './json-mutate.js';
import type { FuzzTarget } from './targets.js';
import { encodeVarint } from './wire.js';

/** The body limit used for decompression cases (small, so bombs are cheap to run). */
export const DECOMPRESS_LIMIT = 64 * 1024;

const cat = (...parts: Uint8Array[]) => Buffer.concat(parts);
const lenField = (fieldNo: number, body: Uint8Array) => cat(encodeVarint(fieldNo * 8 + 2), encodeVarint(body.length), body);

/** Requests built on the wire: many (near-)empty records, unknown fields and groups between them, empty resources and scopes. */
const wireRequest: fc.Arbitrary<Uint8Array> = fc
  .array(
    fc.array(
      fc.record({
        records: fc.nat({ max: 3000 }),
        recordBody: fc.constantFrom(new Uint8Array(0), Uint8Array.of(0x28, 0x01), Uint8Array.of(0x2a, 0x00)),
        noise: fc.constantFrom(new Uint8Array(0), Uint8Array.of(0x18, 0x05), Uint8Array.of(0x1b, 0x08, 0x01, 0x1c), Uint8Array.of(0x1a, 0x00)),
      }),
      { maxLength: 4 },
    ),
    { maxLength: 4 },
  )
  .map((resources) =>
    cat(
      ...resources.map((scopes) =>
        lenField(
          1,
          cat(
            ...scopes.map((s) =>
              lenField(2, cat(s.noise, ...Array.from({ length: s.records }, () => lenField(2, s.recordBody)), s.noise)),
            ),
          ),
        ),
      ),
    ),
  );

/** OTLP/JSON with many records, key escapes and both field spellings. */
const jsonBomb: fc.Arbitrary<string> = fc
  .record({
    records: fc.nat({ max: 3000 }),
    key: fc.constantFrom('logRecords', 'log_records', 'log\\u0052ecords', '\\u006cogRecords'),
    value: fc.constantFrom('{}', '{"body":{"stringValue":"]}["}}', '1', 'null'),
  })
  .map(({ records, key, value }) => `{"resourceLogs":[{"scopeLogs":[{"${key}":[${Array.from({ length: records }, () => value).join(',')}]}]}]}`);

/** The wire count against the decoder, for any bytes. */
export function checkProtobufCount(bytes: Uint8Array): Outcome {
  let counted: number;
  try {
    counted = countProtobufLogRecords(bytes);
  } catch (err) {
    throw new Violation(`countProtobufLogRecords threw: ${describeError(err)}`);
  }
  if (counted > bytes.length / 2) throw new Violation(`${counted} records counted in ${bytes.length} bytes: more than one per 2 bytes`);
  let req: ExportRequestMessage;
  try {
    req = decodeProtobufRequest(bytes);
  } catch {
    return 'refused';
  }
  const decoded = countRecords(req);
  if (counted !== decoded) throw new Violation(`the wire count says ${counted} records, the decoder found ${decoded}: a request could slip past max_request_records`);
  return 'accepted';
}

/** The JSON count against the decoder: never fewer. */
export function checkJsonCount(text: string): Outcome {
  let counted: number;
  try {
    counted = countJsonLogRecords(text);
  } catch (err) {
    throw new Violation(`countJsonLogRecords threw: ${describeError(err)}`);
  }
  if (counted > text.length / 2 + 1) throw new Violation(`${counted} records counted in ${text.length} characters`);
  try {
    decodeJsonRequest(text);
  } catch {
    return 'refused';
  }
  const sent = countJsonRecords(text);
  if (counted < sent) throw new Violation(`the JSON count says ${counted} records, the request holds ${sent}: a request could slip past max_request_records`);
  return 'accepted';
}

type Coding = 'gzip' | 'x-gzip' | 'deflate' | 'zstd';
const COMPRESS: Record<Coding, (b: Uint8Array) => Buffer> = { gzip: gzipSync, 'x-gzip': gzipSync, deflate: deflateSync, zstd: zstdCompressSync };

export interface CompressionCase {
  coding: Coding;
  payload: Uint8Array;
  /** Compressed again with the same coding (a nested bomb stays small twice). */
  twice: boolean;
  /** Bytes cut from the end of the compressed body. */
  truncate: number;
}

const compressionCase: fc.Arbitrary<CompressionCase> = fc.record({
  coding: fc.constantFrom<Coding>('gzip', 'x-gzip', 'deflate', 'zstd'),
  payload: fc.oneof(
    fc.integer({ min: 0, max: 4 * DECOMPRESS_LIMIT }).map((n) => new Uint8Array(n)),
    fc.uint8Array({ maxLength: 2048 }),
    wireRequest,
  ),
  twice: fc.boolean(),
  truncate: fc.oneof(fc.constant(0), fc.nat({ max: 16 })),
});

/** Decompression's bound, for any compressed input. */
export function checkDecompression(c: CompressionCase): Outcome {
  let body = COMPRESS[c.coding](c.payload);
  if (c.twice) body = COMPRESS[c.coding](body);
  if (c.truncate > 0) body = body.subarray(0, Math.max(0, body.length - c.truncate));
  let out: Buffer;
  try {
    out = decompressBodySync(body, c.coding, DECOMPRESS_LIMIT);
  } catch (err) {
    if (err instanceof DecompressionError) {
      if (c.truncate === 0 && !c.twice && !err.tooLarge) throw new Violation(`an intact ${c.coding} body was refused as malformed: ${err.message}`);
      if (c.truncate === 0 && !c.twice && c.payload.length <= DECOMPRESS_LIMIT) throw new Violation(`a ${c.payload.length}-byte payload was refused: ${err.message}`);
      return 'refused';
    }
    throw new Violation(`decompression threw something other than a DecompressionError: ${describeError(err)}`);
  }
  if (out.length > DECOMPRESS_LIMIT) throw new Violation(`${body.length} compressed bytes became ${out.length}, past the ${DECOMPRESS_LIMIT}-byte limit`);
  if (!c.twice && c.truncate === 0 && !out.equals(Buffer.from(c.payload))) throw new Violation('an intact body did not decompress to what was compressed');
  if (countProtobufLogRecords(out) > out.length / 2) throw new Violation('more records than bytes / 2 after decompression');
  return 'accepted';
}

const MAX_SHOW = 2000;
const showBytes = (b: Uint8Array) => `${b.length} bytes: ${Buffer.from(b).subarray(0, MAX_SHOW / 2).toString('hex')}`;

export function amplificationTargets(): FuzzTarget[] {
  return [
    {
      name: 'amplification.protobuf',
      weight: 2,
      arbitrary: fc.oneof(mutatedProtobuf, wireRequest),
      check: (b) => checkProtobufCount(b as Uint8Array),
      show: (b) => showBytes(b as Uint8Array),
    } as FuzzTarget,
    {
      name: 'amplification.json',
      weight: 2,
      arbitrary: fc.oneof(mutatedJson, otlpShapedJson.map(serialise), jsonBomb),
      check: (s) => checkJsonCount(s as string),
      show: (s) => JSON.stringify(s as string).slice(0, MAX_SHOW),
    } as FuzzTarget,
    {
      name: 'amplification.compression',
      weight: 1,
      arbitrary: compressionCase,
      check: (c) => checkDecompression(c as CompressionCase),
      show: (c) => {
        const x = c as CompressionCase;
        return `${x.coding}${x.twice ? ' twice' : ''}, truncate ${x.truncate}, payload ${showBytes(x.payload)}`;
      },
    } as FuzzTarget,
  ];
}
