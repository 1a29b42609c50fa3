// verify's streamed check of a local segment file (checkSegmentFile): read a
// chunk at a time into one reused buffer and decompressed into output buffers
// freed as soon as they are used up. It must hand out exactly the content, in
// order, whatever the chunk and piece boundaries, and prove a segment intact
// only when the bytes path (checkSegmentBytes) would; anything else is left to
// the bytes path, which names the break.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decompressFilePieces } from '../../../src/exporters/worm/compression.js';
import type { Manifest } from '../../../src/exporters/worm/manifest.js';
import { checkSegmentBytes, checkSegmentFile } from '../../../src/exporters/worm/verify-data.js';
import { ENCODINGS, archivePath, formatOf, makeBatch, newExporter, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir('vigil-verify-data-')));
afterAll(async () => cleanup?.());

/** 3 MiB of incompressible bytes between compressible runs: a file of several 1 MiB read chunks, output pieces cut anywhere. */
function content(): Buffer {
  return Buffer.concat([Buffer.alloc(700_000, 'a'), randomBytes(3 << 20), Buffer.alloc(1_500_000, 'b'), randomBytes(123_457)]);
}

async function streamed(path: string, format: 1 | 2, stopAfter = Infinity) {
  const pieces: Buffer[] = [];
  const chunks: Buffer[] = [];
  const fh = await open(path);
  try {
    const whole = await decompressFilePieces(
      format,
      fh,
      (chunk) => chunks.push(Buffer.from(chunk)),
      (piece) => pieces.push(Buffer.from(piece)) < stopAfter,
    );
    return { whole, content: Buffer.concat(pieces), file: Buffer.concat(chunks), pieces: pieces.length };
  } finally {
    await fh.close();
  }
}

describe('decompressFilePieces', () => {
  for (const format of [2, 1] as const) {
    const name = format === 2 ? 'zstd' : 'gzip';
    it(`${name}: the pieces, copied as they come, are the content and the input chunks the file`, async () => {
      const c = content();
      const file = format === 2 ? zstdCompressSync(c) : gzipSync(c);
      expect(file.length).toBeGreaterThan(2 << 20);
      const path = join(dir, `whole.${name}`);
      await writeFile(path, file);
      const r = await streamed(path, format);
      expect(r.whole).toBe(true);
      expect(r.file.equals(file)).toBe(true);
      expect(r.content.equals(c)).toBe(true);
      expect(r.pieces).toBeGreaterThan(5);
    });

    it(`${name}: stops when told (false, fed no more); a corrupt stream rejects`, async () => {
      const c = content();
      const file = format === 2 ? zstdCompressSync(c) : gzipSync(c);
      const path = join(dir, `stop.${name}`);
      await writeFile(path, file);
      const r = await streamed(path, format, 2);
      expect(r.whole).toBe(false);
      expect(r.pieces).toBe(2);
      expect(c.subarray(0, r.content.length).equals(r.content)).toBe(true);
      file[Math.floor(file.length / 2)] ^= 0xff;
      file[10] ^= 0xff;
      await writeFile(path, file);
      await expect(streamed(path, format)).rejects.toThrow();
    });
  }
});

describe('checkSegmentFile', () => {
  for (const encoding of ENCODINGS) {
    it(`${encoding}: an intact segment as checkSegmentBytes proves it; a changed byte or a manifest naming other bytes: left to it`, async () => {
      const d = join(dir, `archive-${encoding}`);
      const w = newExporter(d, { encoding });
      await w.start();
      // Records with incompressible bodies: a sealed file of several read chunks.
      const batch = makeBatch(1500);
      for (const r of batch) r.log.body = { stringValue: randomBytes(1500).toString('base64') };
      await w.consume(batch);
      await w.sealNow();
      await w.shutdown(new AbortController().signal);
      const format = formatOf(encoding);
      const object = archivePath(d, 1, 'sealed', format);
      const m = (JSON.parse(await readFile(archivePath(d, 1, 'manifest', format), 'utf8')) as { manifest: Manifest }).manifest;
      const data = await readFile(object);
      expect(data.length).toBeGreaterThan(2 << 20);
      const name = object.slice(object.lastIndexOf('/') + 1);

      const bytes = await checkSegmentBytes(1, name, data, m);
      expect(bytes.findings).toEqual([]);
      expect(bytes.validRecords).toBe(1500);
      expect(await checkSegmentFile(object, name, m)).toEqual({ ...bytes, bytesRead: data.length });

      // The file's hash is not the signed one: not proven here (the bytes path names it).
      expect(await checkSegmentFile(object, name, { ...m, segment_sha256: '0'.repeat(64) })).toBeUndefined();
      // Fewer entries signed than the file holds.
      expect(await checkSegmentFile(object, name, { ...m, entries: m.entries - 1 })).toBeUndefined();
      // A changed byte of the compressed file.
      const bad = Buffer.from(data);
      bad[Math.floor(bad.length * 0.7)] ^= 0x01;
      await writeFile(object, bad);
      expect(await checkSegmentFile(object, name, m)).toBeUndefined();
      expect((await checkSegmentBytes(1, name, bad, m)).findings.some((f) => f.severity === 'break' && f.kind === 'modified')).toBe(true);
      // No file.
      expect(await checkSegmentFile(join(d, 'archive', 'nothing.vlog.zst'), name, m)).toBeUndefined();
    });
  }
});

describe('checkSegmentFile on what is not a regular file', () => {
  // A named pipe put under a segment's name (after verify listed a regular file
  // there, or under a head start: cli/verify-prestart.ts) must be left to the
  // bytes path, which refuses it, and not hold a thread-pool thread in its open
  // until a writer comes. (On failure this test does not finish: the open waits.)
  it('a named pipe or a directory: not proven, at once', async () => {
    const pipe = join(dir, 'pipe.vlog.zst');
    try {
      execFileSync('mkfifo', [pipe]);
    } catch {
      console.warn('skipped: no mkfifo here');
      return;
    }
    const m = { segment: 1, entries: 0, first_seq: 1, chain_prev: '0'.repeat(64), merkle_root: '0'.repeat(64), segment_sha256: '0'.repeat(64) } as unknown as Manifest;
    try {
      expect(await checkSegmentFile(pipe, 'segment-000000000001.vlog.zst', m)).toBeUndefined();
      const directory = join(dir, 'directory.vlog.zst');
      await mkdir(directory);
      expect(await checkSegmentFile(directory, 'segment-000000000001.vlog.zst', m)).toBeUndefined();
    } finally {
      try {
        closeSync(openSync(pipe, constants.O_WRONLY | constants.O_NONBLOCK)); // lets go of an open waiting on it
      } catch {
        // nothing waiting on it
      }
    }
  }, 20_000);
});
