// Request body decompression for OTLP/HTTP, bounded: the output may not pass
// the body size limit whatever the input (a 20 kB gzip or zstd bomb of
// gigabytes stops at the limit and is refused as too large). The synchronous
// twin exists for the fuzzer, which runs cases synchronously; both share the
// coding table and the meaning of a failure.
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';

type Sync = (buf: Buffer, opts: zlib.ZlibOptions) => Buffer;
type Async = (buf: Buffer, opts: zlib.ZlibOptions) => Promise<Buffer>;

const CODINGS: Record<string, { sync: Sync; async: Async } | undefined> = {
  gzip: { sync: zlib.gunzipSync, async: promisify(zlib.gunzip) },
  'x-gzip': { sync: zlib.gunzipSync, async: promisify(zlib.gunzip) },
  deflate: { sync: zlib.inflateSync, async: promisify(zlib.inflate) },
  // Node ≥ 22.15 has zstd; older builds simply do not offer it.
  ...(typeof zlib.zstdDecompress === 'function'
    ? { zstd: { sync: zlib.zstdDecompressSync as unknown as Sync, async: promisify(zlib.zstdDecompress) as unknown as Async } }
    : {}),
};

/** Whether a Content-Encoding (lower case; identity or empty = none) can be decompressed. */
export function supportedCoding(coding: string): boolean {
  return coding === 'identity' || coding === '' || CODINGS[coding] !== undefined;
}

/** Why a body could not be decompressed: over the limit (413) or not valid in its coding (400). */
export class DecompressionError extends Error {
  constructor(
    readonly tooLarge: boolean,
    message: string,
  ) {
    super(message);
  }
}

function failure(err: unknown, coding: string, limit: number): DecompressionError {
  if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
    return new DecompressionError(true, `request body decompressed larger than max_request_body_size (${limit} bytes)`);
  }
  return new DecompressionError(false, `malformed ${coding} body: ${(err as Error).message}`);
}

/** The body as sent (identity) or decompressed, at most `limit` bytes; throws a DecompressionError otherwise. */
export async function decompressBody(raw: Buffer, coding: string, limit: number): Promise<Buffer> {
  const c = CODINGS[coding];
  if (!c) return raw;
  try {
    return await c.async(raw, { maxOutputLength: limit });
  } catch (err) {
    throw failure(err, coding, limit);
  }
}

/** decompressBody, synchronously (for the fuzzer). */
export function decompressBodySync(raw: Buffer, coding: string, limit: number): Buffer {
  const c = CODINGS[coding];
  if (!c) return raw;
  try {
    return c.sync(raw, { maxOutputLength: limit });
  } catch (err) {
    throw failure(err, coding, limit);
  }
}
