// File and object names of an archive. One directory (or one S3 prefix per
// archive id) holds, per segment number N (12 digits, from 1):
//   segment-N.jsonl          the open segment (appended, fsync'd; at most one)
//   segment-N.jsonl.gz       a sealed segment (gzip of the JSON lines)
//   segment-N.manifest.json  its signed manifest
//   segment-N.uploaded.json  local receipt: uploaded to S3 and its lock read back
// plus archive.json (the archive id, informational) and .lock (one writer).
export const SEGMENT_DIGITS = 12;

export type ArchiveFileKind = 'open' | 'sealed' | 'manifest' | 'receipt';

const SUFFIX: Record<ArchiveFileKind, string> = {
  open: '.jsonl',
  sealed: '.jsonl.gz',
  manifest: '.manifest.json',
  receipt: '.uploaded.json',
};

const NAME_RE = /^segment-(\d{12})(\.jsonl|\.jsonl\.gz|\.manifest\.json|\.uploaded\.json)$/;

export function segmentFileName(n: number, kind: ArchiveFileKind): string {
  return `segment-${String(n).padStart(SEGMENT_DIGITS, '0')}${SUFFIX[kind]}`;
}

export function parseSegmentFileName(name: string): { segment: number; kind: ArchiveFileKind } | undefined {
  const m = NAME_RE.exec(name);
  if (!m) return undefined;
  const kind = (Object.keys(SUFFIX) as ArchiveFileKind[]).find((k) => SUFFIX[k] === m[2])!;
  return { segment: Number(m[1]), kind };
}

export const ARCHIVE_INFO_FILE = 'archive.json';
export const LOCK_FILE = '.lock';

/**
 * Every name Vigil itself writes in an archive directory: segment files, the
 * archive id, the lock, the local checkpoints, seal intents, and the temporary
 * names of files being written (`*.tmp`, removed at start-up). Anything else
 * there is foreign (`vigil verify` reports it).
 */
const OWN_NAME_RES = [
  NAME_RE,
  /^segment-\d{12}\.sealing\.json$/,
  /^segment-\d{12}\.jsonl\.gz\.tmp$/,
  /^\.(?:segment-\d{12}\.[a-z.]+|archive\.json|checkpoint\.txt)\.\d+\.tmp$/,
];

export function isArchiveFileName(name: string): boolean {
  return name === ARCHIVE_INFO_FILE || name === LOCK_FILE || name === 'checkpoint.txt' || OWN_NAME_RES.some((re) => re.test(name));
}

/** Per-segment presence of each file, from a directory or bucket listing. */
export interface SegmentFiles {
  segment: number;
  open?: string;
  sealed?: string;
  manifest?: string;
  receipt?: string;
  /** Sizes where the listing gives them. */
  sizes: Partial<Record<ArchiveFileKind, number>>;
}

export function groupListing(entries: Iterable<{ name: string; size?: number }>): SegmentFiles[] {
  const by = new Map<number, SegmentFiles>();
  for (const { name, size } of entries) {
    const p = parseSegmentFileName(name);
    if (!p) continue;
    let s = by.get(p.segment);
    if (!s) by.set(p.segment, (s = { segment: p.segment, sizes: {} }));
    s[p.kind] = name;
    if (size !== undefined) s.sizes[p.kind] = size;
  }
  return [...by.values()].sort((a, b) => a.segment - b.segment);
}
