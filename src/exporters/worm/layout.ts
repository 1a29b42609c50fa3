// File and object names of an archive. One directory (or one S3 prefix per
// archive id) holds, per segment number N (12 digits, from 1):
//   segment-N.vlog           the open segment, format v2 (appended, fsync'd; at most one)
//   segment-N.vlog.zst       a sealed v2 segment (zstd of the framed entries)
//   segment-N.jsonl          the open segment, format v1 (worm.encoding: json)
//   segment-N.jsonl.gz       a sealed v1 segment (gzip of the JSON lines)
//   segment-N.manifest.json  its signed manifest
//   segment-N.uploaded.json  local receipt: uploaded to S3 and its lock read back
// plus archive.json (the archive id, informational) and .lock (one writer).
export const SEGMENT_DIGITS = 12;

export type ArchiveFileKind = 'open' | 'sealed' | 'manifest' | 'receipt';

/** The entry format of a segment's data files: 1 JSON lines (entry.ts), 2 framed protobuf (frame.ts). */
export type SegmentFormat = 1 | 2;

const SUFFIX: Record<SegmentFormat, Record<ArchiveFileKind, string>> = {
  1: { open: '.jsonl', sealed: '.jsonl.gz', manifest: '.manifest.json', receipt: '.uploaded.json' },
  2: { open: '.vlog', sealed: '.vlog.zst', manifest: '.manifest.json', receipt: '.uploaded.json' },
};

const NAME_RE = /^segment-(\d{12})(\.jsonl|\.jsonl\.gz|\.vlog|\.vlog\.zst|\.manifest\.json|\.uploaded\.json)$/;

/** A segment's file name; the data files (open, sealed) are named by their entry format (default v1). */
export function segmentFileName(n: number, kind: ArchiveFileKind, format: SegmentFormat = 1): string {
  return `segment-${String(n).padStart(SEGMENT_DIGITS, '0')}${SUFFIX[format][kind]}`;
}

export function parseSegmentFileName(name: string): { segment: number; kind: ArchiveFileKind; format: SegmentFormat } | undefined {
  const m = NAME_RE.exec(name);
  if (!m) return undefined;
  const format: SegmentFormat = m[2].startsWith('.vlog') ? 2 : 1;
  const kind = (Object.keys(SUFFIX[format]) as ArchiveFileKind[]).find((k) => SUFFIX[format][k] === m[2])!;
  return { segment: Number(m[1]), kind, format };
}

/** The entry format a data file's name says it holds (manifests and receipts: v1). */
export function formatOfName(name: string): SegmentFormat {
  return parseSegmentFileName(name.slice(name.lastIndexOf('/') + 1))?.format ?? 1;
}

/** The sealed name of an open segment file (the same format). */
export function sealedNameOf(openName: string): string {
  return openName.endsWith('.vlog') ? `${openName}.zst` : `${openName}.gz`;
}

export const ARCHIVE_INFO_FILE = 'archive.json';
export const LOCK_FILE = '.lock';

/**
 * Where an archive lives. A local directory holds everything Vigil writes; an
 * S3 prefix (prefix/<archive id>/) only what the uploader puts there: sealed
 * segments and their manifests (open segments, receipts and checkpoints stay local).
 */
export type ArchivePlace = 'directory' | 's3';

/**
 * Every name Vigil itself writes in an archive directory besides segment files:
 * the archive id, the lock, the local checkpoints, seal intents, and the temporary
 * names of files being written (`*.tmp`, removed at start-up).
 */
const OWN_LOCAL_NAME_RES = [
  /^segment-\d{12}\.sealing\.json$/,
  /^segment-\d{12}\.(?:jsonl\.gz|vlog\.zst)\.tmp$/,
  /^\.(?:segment-\d{12}\.[a-z.]+|archive\.json|checkpoint\.txt)\.\d+\.tmp$/,
];
const LOCAL_ONLY_NAMES = new Set([ARCHIVE_INFO_FILE, LOCK_FILE, 'checkpoint.txt']);
const UPLOADED_KINDS: ReadonlySet<ArchiveFileKind> = new Set(['sealed', 'manifest']);

/**
 * Whether Vigil writes a file or object of this name in an archive at `place`.
 * Anything else there is foreign: `vigil verify` reports it as a break.
 */
export function belongsInArchive(name: string, place: ArchivePlace): boolean {
  const segment = parseSegmentFileName(name);
  if (place === 's3') return segment !== undefined && UPLOADED_KINDS.has(segment.kind);
  return segment !== undefined || LOCAL_ONLY_NAMES.has(name) || OWN_LOCAL_NAME_RES.some((re) => re.test(name));
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
  /** A second file of a kind already held (e.g. both a .jsonl.gz and a .vlog.zst): Vigil never writes one. */
  conflicts?: string[];
}

export function groupListing(entries: Iterable<{ name: string; size?: number }>): SegmentFiles[] {
  const by = new Map<number, SegmentFiles>();
  for (const { name, size } of entries) {
    const p = parseSegmentFileName(name);
    if (!p) continue;
    let s = by.get(p.segment);
    if (!s) by.set(p.segment, (s = { segment: p.segment, sizes: {} }));
    const held = s[p.kind];
    if (held !== undefined && held !== name) {
      // Deterministic whatever the listing order: the later name is the conflict.
      const [keep, extra] = held < name ? [held, name] : [name, held];
      (s.conflicts ??= []).push(extra);
      if (keep === held) continue;
    }
    s[p.kind] = name;
    if (size !== undefined) s.sizes[p.kind] = size;
  }
  return [...by.values()].sort((a, b) => a.segment - b.segment);
}
