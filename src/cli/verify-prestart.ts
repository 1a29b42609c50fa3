// `vigil verify` of a large local archive starts its verify worker threads
// before the rest of the command loads (~0.4 s of CPU: the CLI, zod, the
// archive modules), so their own start-up overlaps it instead of delaying the
// first segments, and each checks one of the first segment files meanwhile
// (verify takes that result when it asks for exactly that file and manifest):
// bin/vigil.js calls this before importing the CLI. Only this module and the
// pool's are loaded for it; any doubt (not a local archive, too small for
// workers to pay) starts nothing.
import { readFileSync, readdirSync, statSync } from 'node:fs';
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
    files.push({ name, segment: parsed.segment, format: parsed.format });
    try {
      bytes += statSync(join(dir, name)).size;
    } catch {
      // gone since the listing: verify will say so
    }
  }
  return { bytes, files: files.sort((a, b) => a.segment - b.segment) };
}

/** The first few segment files in clear with their manifests as read (verify checks the manifests themselves). */
function firstSegments(dir: string, files: readonly { name: string; segment: number; format: 1 | 2 }[]): { object: string; path: string; manifest: Manifest }[] {
  const out: { object: string; path: string; manifest: Manifest }[] = [];
  for (const f of files.slice(0, 8)) {
    try {
      const { manifest } = JSON.parse(readFileSync(join(dir, segmentFileName(f.segment, 'manifest', f.format)), 'utf8')) as { manifest?: Manifest };
      if (manifest && typeof manifest === 'object' && manifest.encryption === undefined) out.push({ object: f.name, path: join(dir, f.name), manifest });
    } catch {
      // no manifest (yet), or not one: verify reports it
    }
  }
  return out;
}
