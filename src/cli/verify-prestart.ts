// `vigil verify` of a large local archive starts its verify worker threads
// before the rest of the command loads (~0.4 s of CPU: the CLI, zod, the
// archive modules), so their own start-up overlaps it instead of delaying the
// first segments: bin/vigil.js calls this before importing the CLI. Only this
// module and the pool's are loaded for it; any doubt (not a local archive, too
// small for workers to pay) starts nothing.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseSegmentFileName } from '../exporters/worm/layout.js';
import { prestartWorkers, workersPay } from '../exporters/worm/verify-pool.js';

/** argv as node gives it: starts the workers when it runs `verify` on a local archive directory large enough for them (returns whether it did). */
export function prestartVerify(argv: readonly string[]): boolean {
  const args = argv.slice(2);
  const at = args.findIndex((a) => !a.startsWith('-'));
  if (args[at] !== 'verify') return false;
  // The archive is the positional argument; option values (a key file…) are not archive directories.
  for (const arg of args.slice(at + 1)) {
    if (arg.startsWith('-') || arg.startsWith('s3://')) continue;
    const sealed = sealedSizes(arg);
    if (sealed && workersPay(sealed.bytes, sealed.segments)) {
      prestartWorkers();
      return true;
    }
  }
  return false;
}

/** Synchronous: a few stat calls, done before anything else is loaded. */
function sealedSizes(dir: string): { bytes: number; segments: number } | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  let bytes = 0;
  let segments = 0;
  for (const name of names) {
    if (parseSegmentFileName(name)?.kind !== 'sealed') continue;
    segments++;
    try {
      bytes += statSync(join(dir, name)).size;
    } catch {
      // gone since the listing: verify will say so
    }
  }
  return { bytes, segments };
}
