// One sealed segment's bytes checked against its signed manifest, as the verify
// threads run it (verify-pool.ts): checked as it is decompressed, piece by piece
// (verify-frames.ts for v2, verify-lines.ts for v1), so a thread never holds
// the event loop for a whole segment and no segment is held whole; at any
// deviation it is classified in full by verify-segment.ts, loaded only then:
// it brings the record codecs with it, which a worker thread checking intact
// v2 segments would otherwise spend a tenth of a second of CPU loading.
import { createHash, hash as oneShotHash } from 'node:crypto';
import { contentLimit, decompressFilePieces, decompressPieces } from './compression.js';
import { formatOfName } from './layout.js';
import type { Manifest } from './manifest.js';
import { openRegularNoFollow } from './safe-fs.js';
import { IntactFramesCheck } from './verify-frames.js';
import { FILE_ALTERED, type Finding } from './verify-findings.js';
import type { IntactChainCheck } from './verify-intact.js';
import type { DataCheckResult } from './verify-segment.js';

export type FileCheckResult = DataCheckResult & { bytesRead: number };

export async function checkSegmentBytes(n: number, object: string, data: Buffer, m: Manifest): Promise<DataCheckResult> {
  const check = await intactCheck(object, m);
  const fast = await decompressPieces(formatOfName(object), data, feedWithin(check, m)).then(
    (whole) => (whole ? check.finish() : undefined),
    () => undefined,
  );
  if (fast) {
    const findings: Finding[] = [];
    if (oneShotHash('sha256', data, 'hex') !== m.segment_sha256) findings.push({ severity: 'break', kind: 'modified', segment: n, object, detail: FILE_ALTERED });
    return { findings, validRecords: fast.validRecords, contentBytes: check.bytes, notes: fast.notes };
  }
  const { checkSegmentWhole } = await import('./verify-segment.js');
  return checkSegmentWhole(n, object, data, m);
}

/**
 * The segment file at `path` proven intact while it is read and decompressed a
 * piece at a time (never held whole): the file's SHA-256, every entry and the
 * Merkle root as its manifest signs them. Undefined when anything deviates (or
 * the file cannot be read): the caller then reads the file whole and
 * classifies it with checkSegmentBytes, so every finding is named as before.
 */
export async function checkSegmentFile(path: string, object: string, m: Manifest): Promise<FileCheckResult | undefined> {
  const check = await intactCheck(object, m);
  const fileHash = createHash('sha256');
  let bytesRead = 0;
  const onInput = (chunk: Buffer) => {
    fileHash.update(chunk);
    bytesRead += chunk.length;
  };
  try {
    const file = await openRegularNoFollow(path); // a pipe put there since the listing must not hold a thread-pool thread for ever
    try {
      if (!(await decompressFilePieces(formatOfName(object), file, onInput, feedWithin(check, m)))) return undefined;
    } finally {
      await file.close();
    }
  } catch {
    return undefined;
  }
  const fast = check.finish();
  if (!fast || fileHash.digest('hex') !== m.segment_sha256) return undefined;
  return { findings: [], validRecords: fast.validRecords, contentBytes: check.bytes, notes: fast.notes, bytesRead };
}

async function intactCheck(object: string, m: Manifest): Promise<IntactChainCheck> {
  return formatOfName(object) === 2 ? new IntactFramesCheck(m) : new (await import('./verify-lines.js')).IntactLinesCheck(m);
}

/** check.feed, stopping once the content inflates past what its manifest allows (a bomb is classified, not streamed to its end). */
function feedWithin(check: IntactChainCheck, m: Manifest): (piece: Buffer) => boolean {
  const limit = contentLimit(m.content_bytes);
  return (piece) => check.feed(piece) && check.bytes <= limit;
}
