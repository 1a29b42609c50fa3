// Reading back a segment's entries (either format): the longest valid prefix that continues
// a given chain (start-up recovery cuts whatever follows it), with what a
// manifest needs (hashes, counts, time range).
import { entryHash } from './entry.js';
import { type EntryUnit, type EntryView, splitEntries, viewEntry } from './entries.js';
import { entryEventTime } from './time-window.js';

export interface ScanResult {
  /** Length of the valid prefix: complete lines, each hash right, each linked to the one before. */
  validBytes: number;
  /** Raw 32-byte entry hashes of the valid prefix, in order (Merkle leaves). */
  hashes: Buffer[];
  entries: number;
  records: number;
  notes: number;
  firstHash: string | null;
  lastHash: string | null;
  /** Event time range of the records, ms (undefined when there are none). */
  timeMin: number | undefined;
  timeMax: number | undefined;
  /** Append time of the first and last entry, ms. */
  firstAt: number | undefined;
  lastAt: number | undefined;
  /** Bytes after the valid prefix and how many complete-looking lines they hold. */
  cutBytes: number;
  cutLines: number;
  /** Why the scan stopped early, when it did. */
  problem: string | undefined;
}

export function scanSegment(buf: Buffer, firstSeq: number, chainPrev: string): ScanResult {
  const r: ScanResult = {
    validBytes: 0,
    hashes: [],
    entries: 0,
    records: 0,
    notes: 0,
    firstHash: null,
    lastHash: null,
    timeMin: undefined,
    timeMax: undefined,
    firstAt: undefined,
    lastAt: undefined,
    cutBytes: 0,
    cutLines: 0,
    problem: undefined,
  };
  let prev = chainPrev;
  let seq = firstSeq;
  for (const u of splitEntries(buf)) {
    if (r.problem === undefined) {
      const problem = checkEntry(u, seq, prev);
      if (typeof problem === 'string') {
        r.problem = `at byte ${u.start} (entry seq ${seq}): ${problem}`;
      } else {
        const { hash, raw, at, view } = problem;
        r.hashes.push(raw);
        r.entries++;
        if (view.kind === 'record') {
          r.records++;
          const t = entryEventTime(view);
          r.timeMin = r.timeMin === undefined ? t : Math.min(r.timeMin, t);
          r.timeMax = r.timeMax === undefined ? t : Math.max(r.timeMax, t);
        } else r.notes++;
        r.firstHash ??= hash;
        r.lastHash = hash;
        r.firstAt ??= at;
        r.lastAt = at;
        prev = hash;
        seq++;
        r.validBytes = u.end;
        continue;
      }
    }
    if (u.complete && !u.broken) r.cutLines++;
  }
  r.cutBytes = buf.length - r.validBytes;
  if (r.cutBytes > 0 && r.problem === undefined) r.problem = 'incomplete last entry';
  return r;
}

function checkEntry(u: EntryUnit, seq: number, prev: string): string | { hash: string; raw: Buffer; at: number; view: EntryView } {
  if (!u.complete) return 'incomplete last entry (torn write)';
  const v = viewEntry(u);
  if (typeof v === 'string') return v;
  const raw = entryHash(v.entry);
  if (raw.toString('hex') !== v.hash) return 'hash does not match the entry';
  if (v.seq !== seq) return `seq ${v.seq} where ${seq} was expected`;
  if (v.prev !== prev) return 'prev does not link to the previous entry';
  const at = Date.parse(v.at);
  if (!Number.isFinite(at)) return 'append time is not a date';
  return { hash: v.hash, raw, at, view: v };
}
