// One sealed segment's bytes checked against its signed manifest, as the verify
// threads run it (verify-pool.ts): checked as it is decompressed, piece by piece
// (verify-frames.ts for v2, verify-lines.ts for v1), so a thread never holds
// the event loop for a whole segment and no segment is held whole; at any
// deviation it is classified in full by verify-segment.ts, loaded only then:
// it brings the record codecs with it, which a worker thread checking intact
// v2 segments would otherwise spend a tenth of a second of CPU loading.
import { hash as oneShotHash } from 'node:crypto';
import { decompressPieces } from './compression.js';
import { formatOfName } from './layout.js';
import type { Manifest } from './manifest.js';
import { IntactFramesCheck } from './verify-frames.js';
import { FILE_ALTERED, type Finding } from './verify-findings.js';
import type { DataCheckResult } from './verify-segment.js';

export async function checkSegmentBytes(n: number, object: string, data: Buffer, m: Manifest): Promise<DataCheckResult> {
  const format = formatOfName(object);
  const check = format === 2 ? new IntactFramesCheck(m) : new (await import('./verify-lines.js')).IntactLinesCheck(m);
  const fast = await decompressPieces(format, data, (piece) => check.feed(piece)).then(
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
