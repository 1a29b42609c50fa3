// Compression of sealed segments, by entry format: v1 JSON lines are gzip
// (`zcat | jq` reads them), v2 framed entries are zstd (several times cheaper
// per byte to write and to read). The sealed file's name says which.
import { createHash } from 'node:crypto';
import { type FileHandle, unlink } from 'node:fs/promises';
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

/**
 * No segment's content is larger: the writer seals at segment.max_bytes (at most
 * 512 MiB, config.ts) plus one batch. A file that inflates past this (or far past
 * the content_bytes its manifest states) is a decompression bomb, not a segment:
 * the readers stop there rather than exhaust memory.
 */
export const MAX_CONTENT_BYTES = 1024 * 1024 * 1024;

/**
 * The most a segment's content may inflate to: twice what its manifest states
 * (`expected`) plus 1 MiB (room for an intruder's insertions to be read and
 * named by verify, never a bomb's gigabytes), else MAX_CONTENT_BYTES.
 */
export function contentLimit(expected: number | undefined): number {
  return expected === undefined || !(expected >= 0) ? MAX_CONTENT_BYTES : Math.min(2 * expected + 1024 * 1024, MAX_CONTENT_BYTES);
}

/**
 * Decompresses a sealed segment. `expected` (the manifest's content_bytes) sizes
 * the output chunks; inflating past contentLimit(expected) fails with ERR_BUFFER_TOO_LARGE.
 */
export function decompressSegment(format: SegmentFormat, data: Buffer, expected?: number): Promise<Buffer> {
  const chunkSize = expected === undefined ? CHUNK : Math.min(Math.max(expected + 1, 64 * 1024), 256 * 1024 * 1024);
  const maxOutputLength = contentLimit(expected);
  return format === 2 ? unzstdAsync(data, { chunkSize, maxOutputLength }) : gunzipAsync(data, { chunkSize, maxOutputLength });
}

/** Output pieces of decompressPieces: each one a round trip to the thread pool (64 KiB–256 KiB pieces cost several times 1 MiB's in callbacks). */
const PIECE = 1 << 20;

/**
 * Streams a sealed segment's content to `onPiece` as it is decompressed (on the
 * thread pool, while the caller works on the previous piece), never holding it
 * whole. Each piece is valid only during its `onPiece` call (copy what must be
 * kept): its memory is freed once its output buffer is used up, so the output
 * reuses the same pages instead of faulting in fresh ones, which cost a cold
 * process several times the decompression itself. Resolves true
 * when the whole content was fed, false when `onPiece` returned false (it is
 * fed no more); rejects on a corrupt or cut stream.
 */
export function decompressPieces(format: SegmentFormat, data: Buffer, onPiece: (piece: Buffer) => boolean): Promise<boolean> {
  const { z, done } = pieceStream(format, onPiece);
  z.end(data);
  return done;
}

/** Compressed input read per call by decompressFilePieces, into two buffers reused for the whole file. */
const READ_CHUNK = 1 << 20;

/**
 * decompressPieces reading the sealed file itself, a chunk at a time into two
 * reused buffers (the next chunk is read while zlib consumes the one before),
 * each chunk shown to `onInput` (to hash the file) before it is decompressed:
 * the file is never held whole (reading a 12 MB file into fresh memory costs
 * ~40 ms of page faults here, into reused buffers ~4 ms).
 */
export async function decompressFilePieces(format: SegmentFormat, file: FileHandle, onInput: (chunk: Buffer) => void, onPiece: (piece: Buffer) => boolean): Promise<boolean> {
  const { z, done } = pieceStream(format, onPiece);
  done.catch(() => undefined); // observed below, through the race
  const bufs = [Buffer.allocUnsafeSlow(READ_CHUNK), Buffer.allocUnsafeSlow(READ_CHUNK)];
  let i = 0;
  let reading = file.read(bufs[0], 0, READ_CHUNK, null);
  for (;;) {
    const { bytesRead } = await reading;
    if (bytesRead === 0) break;
    const chunk = bufs[i].subarray(0, bytesRead);
    onInput(chunk);
    const consumed = new Promise<undefined>((resolve) => z.write(chunk, () => resolve(undefined)));
    // The other buffer is free: zlib consumed its chunk before this one was written.
    i ^= 1;
    reading = file.read(bufs[i], 0, READ_CHUNK, null);
    // An early stop or an error ends the race first.
    const finished = await Promise.race([consumed, done]);
    if (finished !== undefined) {
      await reading.catch(() => undefined); // the caller closes the file: not under a read
      return finished;
    }
  }
  z.end();
  return done;
}

/**
 * A decompressor whose output pieces go to `onPiece`, in order, each in a
 * microtask after zlib's callback has handed it out and already sent the next
 * piece's decompression to the thread pool (a 'data' listener runs before it
 * does: the two would take turns instead of overlapping). `done` resolves as
 * decompressPieces does.
 */
function pieceStream(format: SegmentFormat, onPiece: (piece: Buffer) => boolean): { z: Transform; done: Promise<boolean> } {
  const z = format === 2 ? createZstdDecompress({ chunkSize: PIECE }) : createGunzip({ chunkSize: PIECE });
  const done = new Promise<boolean>((resolve, reject) => {
    let stopped = false;
    let fed: Promise<void> = Promise.resolve();
    const feed = (piece: Buffer) => {
      if (stopped) return;
      let more: boolean;
      try {
        more = onPiece(piece);
      } catch (err) {
        stopped = true;
        z.destroy();
        reject(err);
        return;
      }
      // zlib writes each output buffer (PIECE bytes, its own memory) up to its end, handing it out in one
      // or more pieces, then takes a fresh one: once a piece reaches the end, no piece of it is in use.
      // Its memory is freed now (transfer(0) detaches it) rather than at some later garbage collection,
      // so a later output buffer reuses its pages: a page fault (~10 µs per 4 KiB on this VM) costs
      // more than decompressing the page.
      const out = piece.buffer;
      if (out instanceof ArrayBuffer && out.byteLength === PIECE && piece.byteOffset + piece.byteLength === PIECE) out.transfer(0);
      if (more) return;
      stopped = true;
      z.destroy();
      resolve(false);
    };
    z.on('data', (piece: Buffer) => {
      fed = fed.then(() => feed(piece));
    });
    z.on('error', (err) => {
      fed = fed.then(() => {
        if (!stopped) reject(err);
      });
    });
    z.on('end', () => {
      fed = fed.then(() => resolve(true));
    });
  });
  return { z, done };
}

/**
 * Decompresses as much as it can: a corrupt or cut file still yields the entries
 * before the damage. At most contentLimit(expected) bytes are kept: past them,
 * the content is cut there and the error says it inflates further.
 */
export function decompressPartial(format: SegmentFormat, data: Buffer, expected?: number): Promise<{ content: Buffer; error: Error | undefined }> {
  const limit = contentLimit(expected);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (error: Error | undefined) => {
      if (done) return;
      done = true;
      resolve({ content: Buffer.concat(chunks, Math.min(size, limit)), error });
    };
    const z = format === 2 ? createZstdDecompress() : createGunzip();
    z.on('data', (c: Buffer) => {
      if (done) return;
      chunks.push(c);
      size += c.length;
      if (size > limit) {
        finish(new Error(`the segment inflates to more than ${limit} bytes${expected === undefined ? ' (no segment is that large)' : ` (its manifest states ${expected})`}`));
        z.destroy();
      }
    });
    z.on('error', (error) => finish(error));
    z.on('end', () => finish(undefined));
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
