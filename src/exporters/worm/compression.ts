// Compression of sealed segments, by entry format: v1 JSON lines are gzip
// (`zcat | jq` reads them), v2 framed entries are zstd (several times cheaper
// per byte to write and to read). The sealed file's name says which.
import { createHash } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { constants, createGunzip, createGzip, createZstdCompress, createZstdDecompress, gunzip, gzip, zstdCompress, zstdDecompress } from 'node:zlib';
import type { SegmentFormat } from './layout.js';
import { CREATE_NOFOLLOW, READ_NOFOLLOW, openNoFollow } from './safe-fs.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);
const zstdAsync = promisify(zstdCompress);
const unzstdAsync = promisify(zstdDecompress);

/** The default level: gzip 3 (a third of 6's CPU for ~10% more bytes), zstd 1. */
export function defaultCompressionLevel(format: SegmentFormat): number {
  return format === 2 ? 1 : 3;
}

// Large output chunks: zlib's 16 KiB default costs several times the CPU in callbacks.
const CHUNK = 256 << 10;

function zstdParams(level: number) {
  return { params: { [constants.ZSTD_c_compressionLevel]: level }, chunkSize: CHUNK };
}

export function compressSegment(format: SegmentFormat, content: Buffer, level: number): Promise<Buffer> {
  return format === 2 ? zstdAsync(content, zstdParams(level)) : gzipAsync(content, { level, chunkSize: CHUNK });
}

/** Decompresses a sealed segment; `sizeHint` (the manifest's content_bytes) sizes the output chunks. */
export function decompressSegment(format: SegmentFormat, data: Buffer, sizeHint?: number): Promise<Buffer> {
  const chunkSize = sizeHint === undefined ? CHUNK : Math.min(Math.max(sizeHint + 1, 64 * 1024), 256 * 1024 * 1024);
  return format === 2 ? unzstdAsync(data, { chunkSize }) : gunzipAsync(data, { chunkSize });
}

/** Output pieces of decompressPieces: each one a round trip to the thread pool (64 KiB–256 KiB pieces cost several times 1 MiB's in callbacks). */
const PIECE = 1 << 20;

/**
 * Streams a sealed segment's content to `onPiece` as it is decompressed (on the
 * thread pool, while the caller works on the previous piece), never holding it
 * whole: fresh memory costs a page fault per 4 KiB, which on virtual machines
 * costs more than the decompression. Resolves true when the whole content was
 * fed, false when `onPiece` returned false (it is fed no more); rejects on a
 * corrupt or cut stream.
 */
export function decompressPieces(format: SegmentFormat, data: Buffer, onPiece: (piece: Buffer) => boolean): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const z = format === 2 ? createZstdDecompress({ chunkSize: PIECE }) : createGunzip({ chunkSize: PIECE });
    let stopped = false;
    z.on('data', (piece: Buffer) => {
      if (stopped || onPiece(piece)) return;
      stopped = true;
      z.destroy();
      resolve(false);
    });
    z.on('error', (err) => {
      if (!stopped) reject(err);
    });
    z.on('end', () => resolve(true));
    z.end(data);
  });
}

/** Decompresses as much as it can: a corrupt or cut file still yields the entries before the damage. */
export function decompressPartial(format: SegmentFormat, data: Buffer): Promise<{ content: Buffer; error: Error | undefined }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const z = format === 2 ? createZstdDecompress() : createGunzip();
    z.on('data', (c: Buffer) => chunks.push(c));
    z.on('error', (error) => resolve({ content: Buffer.concat(chunks), error }));
    z.on('end', () => resolve({ content: Buffer.concat(chunks), error: undefined }));
    z.end(data);
  });
}

/** Whether a decompression error means the file was cut short (rather than altered). */
export function isCutShort(error: Error): boolean {
  return /unexpected end of file|incomplete|truncated|premature/i.test(error.message);
}

/** Streams `src` through the format's compressor into `dst` (fsync'd), hashing the compressed bytes on the way. */
export async function compressSegmentFile(format: SegmentFormat, src: string, dst: string, level: number): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  // Both ends opened without following links (a link planted at the temp name must not redirect the write).
  const input = await openNoFollow(src, READ_NOFOLLOW);
  let output;
  try {
    output = await openNoFollow(dst, CREATE_NOFOLLOW, 0o644);
  } catch (err) {
    await input.close();
    throw err;
  }
  try {
    // Large chunks: the default 64 KiB reads / 16 KiB output cost the event loop
    // ~5x more per sealed segment in stream callbacks, stealing time from appends.
    // `flush`: the handle is fsync'd before the stream closes it.
    const compressor = format === 2 ? createZstdCompress(zstdParams(level)) : createGzip({ level, chunkSize: CHUNK });
    await pipeline(input.createReadStream({ highWaterMark: 1 << 20 }), compressor, tap, output.createWriteStream({ flush: true }));
  } catch (err) {
    await unlink(dst).catch(() => undefined);
    throw err;
  } finally {
    await output.close().catch(() => undefined);
    await input.close().catch(() => undefined);
  }
  return { sha256: hash.digest('hex'), bytes };
}
