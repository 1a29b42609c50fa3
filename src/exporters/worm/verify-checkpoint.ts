// Does the archive reach a checkpoint? A checkpoint kept outside the machine is
// the witness for the archive's tail: a sealed checkpoint names a segment's
// manifest by its hash, an open one an entry by its seq and hash (which commits
// to every entry before it). An archive that ends before it was truncated.
import { entryHash } from './entry.js';
import { type Checkpoint, type CheckpointSignatureProblem, checkCheckpointSignature, parseCheckpoint } from './checkpoint.js';
import type { PublicKeyEntry } from './keys.js';
import type { SegmentFiles } from './layout.js';
import { type ArchiveSource, readSegmentContent } from './source.js';

/** What the walk over the manifests learned about one sealed segment. */
export interface SealedPoint {
  manifestHash: string;
  firstSeq: number;
  lastSeq: number;
  lastHash: string;
  /** Log records in the archive up to the end of this segment. */
  records: number;
}

/** How far the archive reaches, as verify found it. */
export interface ArchiveReach {
  sealed: Map<number, SealedPoint>;
  /** The newest manifest's segment. */
  lastSealed: number | undefined;
  /** The last entry found (sealed or unsealed) and its segment. */
  head: { seq: number; hash: string; segment: number } | undefined;
  groups: Map<number, SegmentFiles>;
}

export interface CheckpointOutcome {
  checkpoint: Checkpoint;
  /** `--checkpoint` or the archive's own checkpoint.txt. */
  origin: string;
  reached: boolean;
}

export type CheckpointFinding = {
  kind: 'truncated' | 'modified' | 'missing' | 'unknown key' | 'bad signature';
  segment?: number;
  seq?: number;
  object?: string;
  detail: string;
};

export type ParsedCheckpoint = ReturnType<typeof parseCheckpoint>;

function range(a: number, b: number): string {
  return a === b ? `segment ${a}` : `segments ${a}–${b}`;
}

/** Checks one checkpoint against the archive; returns the findings that show it is not reached (none: reached). */
export async function checkReach(
  cp: ParsedCheckpoint,
  origin: string,
  reach: ArchiveReach,
  source: ArchiveSource,
  keys: ReadonlyMap<string, PublicKeyEntry>,
): Promise<CheckpointFinding[]> {
  const sig: CheckpointSignatureProblem = checkCheckpointSignature(cp, keys);
  const what = `the checkpoint of ${cp.time} from ${origin} (${cp.state} segment ${cp.segment}, seq ${cp.entries}, ${cp.records} records)`;
  if (sig) return [{ kind: sig.kind, segment: cp.segment, detail: `${what}: ${sig.detail}` }];
  const end = reach.head;
  const endText = end ? `the archive ends at seq ${end.seq} in segment ${end.segment}` : 'the archive holds no entries';
  if (cp.state === 'sealed') {
    const p = reach.sealed.get(cp.segment);
    if (!p) {
      const last = reach.lastSealed ?? 0;
      if (cp.segment > last) {
        const from = Math.max(last + 1, end && end.segment > last ? end.segment : last + 1);
        return [
          {
            kind: 'truncated',
            segment: from,
            detail: `${what} is not reached: ${endText}${last ? ` (newest manifest: segment ${last})` : ''}; ${range(from, cp.segment)} ${from === cp.segment ? 'is' : 'are'} missing, with ${Math.max(0, cp.entries - (end?.seq ?? 0))} entries`,
          },
        ];
      }
      return [{ kind: 'missing', segment: cp.segment, detail: `${what} names segment ${cp.segment}, whose manifest is missing or invalid` }];
    }
    if (p.manifestHash !== cp.manifest) {
      return [{ kind: 'modified', segment: cp.segment, detail: `${what} names manifest ${cp.manifest?.slice(0, 16)}…, the archive's manifest of segment ${cp.segment} is ${p.manifestHash.slice(0, 16)}…: the manifest was replaced` }];
    }
    // The manifest chains to every manifest before it: reaching it reaches the checkpoint (a missing
    // segment before it is a break of its own). Only a forged checkpoint could disagree on counts.
    if (p.lastSeq !== cp.entries || p.lastHash !== cp.head) {
      return [{ kind: 'modified', segment: cp.segment, detail: `${what} disagrees with segment ${cp.segment}'s manifest (seq ${p.lastSeq}, last hash ${p.lastHash.slice(0, 16)}…)` }];
    }
    return [];
  }
  // An open checkpoint: entry seq `entries` must be there with hash `head`.
  if (!end || end.seq < cp.entries) {
    const from = end ? end.segment + (reach.sealed.has(end.segment) ? 1 : 0) : 1;
    return [
      {
        kind: 'truncated',
        segment: from,
        seq: (end?.seq ?? 0) + 1,
        detail: `${what} is not reached: ${endText}; entries seq ${(end?.seq ?? 0) + 1}–${cp.entries} (${from <= cp.segment ? range(from, cp.segment) : `segment ${cp.segment}`}) are missing`,
      },
    ];
  }
  const found = await entryHashAt(source, reach, cp.segment, cp.entries);
  // A sealed segment whose data is held only in S3 (pruned here): its signed manifest is checked; the entry cannot be.
  if (found === 'not held') return [];
  if (found === undefined) return [{ kind: 'missing', segment: cp.segment, seq: cp.entries, detail: `${what}: entry seq ${cp.entries} is not in segment ${cp.segment}` }];
  if (found !== cp.head) {
    return [{ kind: 'modified', segment: cp.segment, seq: cp.entries, detail: `${what}: entry seq ${cp.entries} has hash ${found.slice(0, 16)}…, the checkpoint ${cp.head.slice(0, 16)}…: entries up to it were rewritten` }];
  }
  return [];
}

async function entryHashAt(source: ArchiveSource, reach: ArchiveReach, segment: number, seq: number): Promise<string | 'not held' | undefined> {
  const p = reach.sealed.get(segment);
  if (p && p.lastSeq === seq) return p.lastHash;
  const files = reach.groups.get(segment);
  if (!files) return undefined;
  if (p && !files.sealed && files.receipt) return 'not held';
  let content: Buffer;
  try {
    content = (await readSegmentContent(source, files)).content;
  } catch {
    return undefined;
  }
  const { splitEntries, viewEntry } = await import('./entries.js'); // with the protobuf codecs: only when needed
  for (const u of splitEntries(content)) {
    if (!u.complete) break;
    const v = viewEntry(u);
    if (typeof v === 'string' || v.seq !== seq) continue;
    // The stated hash counts only if the entry's bytes give it.
    return entryHash(v.entry).toString('hex') === v.hash ? v.hash : `${'0'.repeat(63)}1`;
  }
  return undefined;
}

/** Checkpoint lines from the archive's own checkpoint.txt (local archives); undefined when there is no such file. */
export async function localCheckpoints(source: ArchiveSource): Promise<ParsedCheckpoint[] | undefined> {
  if (!source.local) return undefined;
  const text = await source.read('checkpoint.txt').then(
    (b) => b.toString('utf8'),
    () => undefined,
  );
  if (text === undefined) return undefined;
  const out: ParsedCheckpoint[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(parseCheckpoint(line));
    } catch {
      /* a damaged line proves nothing either way */
    }
  }
  return out;
}
