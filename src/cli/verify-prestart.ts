// `vigil verify` of a large local archive starts its verify worker threads
// before the rest of the command loads (~0.4 s of CPU: the CLI, zod, the
// archive modules), so their own start-up overlaps it instead of delaying the
// first segments, and each checks one of the first segment files meanwhile
// (verify takes that result when it asks for exactly that file and manifest):
// bin/vigil.js calls this before importing the CLI. Only this module and the
// pool's are loaded for it; any doubt (not a local archive, too small for
// workers to pay) starts nothing. The archive's rules hold here too: only
// regular files are read or handed to a worker, never through a link (a named
// pipe under a segment's name would block the open for ever).
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseSegmentFileName, segmentFileName } from '../exporters/worm/layout.js';
import type { Manifest } from '../exporters/worm/manifest.js';
import { prestartWorkers, workersPay } from '../exporters/worm/verify-pool.js';

/** argv as node gives it: starts the workers when it runs `verify` on a local archive directory large enough for them (returns whether it did). */
export function prestartVerify(argv: readonly string[]): boolean {
  const args = argv.slice(2);
  const at = args.findIndex((a) => !a.startsWith('-'));
  if (args[at] !== 'verify') return false;
  // The archive is the positional argument; option values (a key file…) are not archive directories.
  for (const arg of args.slice(at + 1)) {
    if (arg.startsWith('-') || arg.startsWith('s3://')) continue;
    const sealed = sealedFiles(arg);
    if (sealed && workersPay(sealed.bytes, sealed.files.length)) {
      prestartWorkers(firstSegments(arg, sealed.files));
      return true;
    }
  }
  return false;
}

/** Synchronous: a few stat calls, done before anything else is loaded. */
function sealedFiles(dir: string): { bytes: number; files: { name: string; segment: number; format: 1 | 2 }[] } | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  let bytes = 0;
  const files: { name: string; segment: number; format: 1 | 2 }[] = [];
  for (const name of names) {
    const parsed = parseSegmentFileName(name);
    if (parsed?.kind !== 'sealed') continue;
    let size: number;
    try {
      // lstat, regular files only: what LocalSource.list takes (verify names anything else as foreign).
      const st = lstatSync(join(dir, name));
      if (!st.isFile()) continue;
      size = st.size;
    } catch {
      continue; // gone since the listing: verify will say so
    }
    files.push({ name, segment: parsed.segment, format: parsed.format });
    bytes += size;
  }
  return { bytes, files: files.sort((a, b) => a.segment - b.segment) };
}

/** The first few segment files in clear with their manifests as read (verify checks the manifests themselves). */
function firstSegments(dir: string, files: readonly { name: string; segment: number; format: 1 | 2 }[]): { object: string; path: string; manifest: Manifest }[] {
  const out: { object: string; path: string; manifest: Manifest }[] = [];
  for (const f of files.slice(0, 8)) {
    try {
      const text = readRegularFile(join(dir, segmentFileName(f.segment, 'manifest', f.format)));
      if (text === undefined) continue;
      const { manifest } = JSON.parse(text) as { manifest?: Manifest };
      if (manifest && typeof manifest === 'object' && manifest.encryption === undefined) out.push({ object: f.name, path: join(dir, f.name), manifest });
    } catch {
      // no manifest (yet), or not one: verify reports it
    }
  }
  return out;
}

/** The file's text when it is a regular file, opened without following a link or waiting on a pipe; undefined otherwise. */
function readRegularFile(path: string): string | undefined {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | (constants.O_NONBLOCK ?? 0));
  try {
    return fstatSync(fd).isFile() ? readFileSync(fd, 'utf8') : undefined;
  } finally {
    closeSync(fd);
  }
}
