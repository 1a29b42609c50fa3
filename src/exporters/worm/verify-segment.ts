// One sealed segment's bytes checked against its signed manifest: decompression,
// every entry hash, chain link, seq and the Merkle root, in either entry format
// (v1 JSON lines, v2 framed entries), each break classified and located. The
// verify threads (verify-data.ts) come here for v1 and for any v2 segment whose
// fast check found a deviation.
import { entryHash, sha256Hex, type Note } from './entry.js';
import { type EntryView, contentFormat, noteOf, splitEntries, viewEntry } from './entries.js';
import { decompressPartial, decompressSegment, isCutShort } from './compression.js';
import { formatOfName } from './layout.js';
import type { Manifest } from './manifest.js';
import { rootFromLeafHashes } from './merkle.js';
import { checkIntactFrames } from './verify-frames.js';
import { checkIntactEntries } from './verify-lines.js';
import { type Add, type BreakKind, FILE_ALTERED, type Finding } from './verify-findings.js';

export interface FetchedSegment {
  data: Buffer;
  content: Buffer;
  error: Error | undefined;
}

export interface DataCheckResult {
  findings: Finding[];
  validRecords: number;
  contentBytes: number;
  notes: { index: number; seq: number; note: Note }[];
}

/** Decompresses a sealed segment (gzip or zstd, as its name says; whole, or as much as it can, never past what its manifest states allows) and checks it in full. */
export async function checkSegmentWhole(n: number, object: string, data: Buffer, m: Manifest): Promise<DataCheckResult> {
  const format = formatOfName(object);
  let fetched: FetchedSegment;
  try {
    fetched = { data, content: await decompressSegment(format, data, m.content_bytes), error: undefined };
  } catch {
    fetched = { data, ...(await decompressPartial(format, data, m.content_bytes)) };
  }
  const findings: Finding[] = [];
  const r = checkSegmentData(n, object, fetched, m, (f) => findings.push({ severity: 'break', ...f } as Finding));
  return { findings, ...r };
}

interface Item {
  index: number;
  view: EntryView | undefined;
  raw: Buffer | undefined;
  hashOk: boolean;
  flagged: boolean;
}

/** Checks one sealed segment's bytes against its manifest; returns the valid record count and the notes in it. */
export function checkSegmentData(
  n: number,
  object: string,
  fetched: FetchedSegment,
  m: Manifest,
  add: Add,
): { validRecords: number; contentBytes: number; notes: { index: number; seq: number; note: Note }[] } {
  const { data, content, error } = fetched;
  const fileOk = sha256Hex(data) === m.segment_sha256;
  const f = (x: Omit<Finding, 'severity' | 'segment' | 'object'>) => add({ ...x, segment: n, object });
  if (!error) {
    const fast = contentFormat(content) === 2 ? checkIntactFrames(content, m) : checkIntactEntries(content, m);
    if (fast) {
      if (!fileOk) f({ kind: 'modified', detail: FILE_ALTERED });
      return { validRecords: fast.validRecords, contentBytes: content.length, notes: fast.notes };
    }
  }
  const before = { count: 0 };
  const track: Add = (x) => {
    before.count++;
    add(x);
  };
  const r = checkEntries(n, object, content, m, track, error);
  if (error && before.count === 0) {
    const cut = isCutShort(error);
    f({
      kind: cut ? 'truncated' : 'modified',
      index: r.items,
      seq: m.first_seq + r.items,
      detail: cut
        ? `the segment file was cut short: entries from index ${r.items} on (${m.entries - r.items} of ${m.entries}) are missing`
        : `the compressed segment is corrupt (${error.message}) from entry index ${r.items} on`,
    });
  } else if (!fileOk && before.count === 0) {
    f({ kind: 'modified', detail: FILE_ALTERED });
  }
  return { validRecords: r.validRecords, contentBytes: content.length, notes: r.notes };
}

/**
 * Classifies the entries of a segment against its manifest: hash mismatches are
 * `modified`; seqs outside the range or repeated are `inserted`; seqs going
 * backwards are `reordered`; absent seqs are `missing`, or `truncated` at the
 * end; a record whose hash the next one does not link to was rewritten
 * (`modified`, even with a recomputed hash).
 */
export function checkEntries(
  n: number,
  object: string,
  content: Buffer,
  m: Manifest,
  add: Add,
  decodeError?: Error,
): { validRecords: number; items: number; notes: { index: number; seq: number; note: Note }[] } {
  const items: Item[] = [];
  const at = (i: number) => ({ segment: n, object, index: i });
  let flagged = 0;
  const flag = (it: Item, kind: BreakKind, detail: string, runEndSeq?: number) => {
    it.flagged = true;
    flagged++;
    add({ kind, ...at(it.index), seq: it.view?.seq, detail, ...(runEndSeq === undefined ? {} : { runEndSeq }) });
  };
  let idx = 0;
  for (const u of splitEntries(content)) {
    if (!u.complete && decodeError) break; // the tail of a damaged stream: reported once by the caller
    const it: Item = { index: idx++, view: undefined, raw: undefined, hashOk: false, flagged: false };
    items.push(it);
    if (!u.complete) {
      flag(it, 'truncated', 'the last entry is incomplete (cut mid-entry)');
      continue;
    }
    const v = viewEntry(u);
    if (typeof v === 'string') {
      flag(it, 'modified', u.broken ? `the entry framing is broken here, nothing after it can be read: ${v}` : `not a valid entry: ${v}`);
      continue;
    }
    it.view = v;
    it.raw = entryHash(v.entry);
    it.hashOk = it.raw.toString('hex') === v.hash;
    if (!it.hashOk) flag(it, 'modified', `entry content does not match its hash (seq ${v.seq})`);
  }

  const first = m.first_seq;
  const last = m.first_seq + m.entries - 1;
  // Which line holds the genuine entry for each seq, and which lines are extra.
  const bySeq = new Map<number, Item[]>();
  for (const it of items) {
    if (!it.view) continue;
    const s = it.view.seq;
    if (s < first || s > last) {
      if (!it.flagged) flag(it, 'inserted', `seq ${s} is outside the segment's signed range ${first}–${last}`);
      continue;
    }
    const list = bySeq.get(s) ?? [];
    list.push(it);
    bySeq.set(s, list);
  }
  const genuine = new Map<number, Item>();
  const linkedTo = new Set<string>();
  for (const it of items) if (it.view && it.hashOk) linkedTo.add(it.view.prev);
  for (const [s, list] of bySeq) {
    if (list.length === 1) {
      genuine.set(s, list[0]);
      continue;
    }
    // Several lines claim seq s: the genuine one is linked to by s+1 (or is the signed last hash).
    const pick =
      list.find((it) => it.hashOk && (s === last ? it.view!.hash === m.last_hash : linkedTo.has(it.view!.hash))) ?? list.find((it) => it.hashOk) ?? list[0];
    genuine.set(s, pick);
    for (const it of list) {
      if (it === pick || it.flagged) continue;
      const dup = it.view!.hash === pick.view!.hash;
      flag(it, 'inserted', dup ? `duplicate of the entry at index ${pick.index} (seq ${s})` : `a second entry claiming seq ${s} (the chain runs through index ${pick.index})`);
    }
  }
  // Order: genuine entries must appear in increasing seq.
  let maxSeen = first - 1;
  for (const it of items) {
    if (!it.view || genuine.get(it.view.seq) !== it) continue;
    if (it.view.seq < maxSeen) {
      if (!it.flagged) flag(it, 'reordered', `seq ${it.view.seq} comes after seq ${maxSeen}: entries were moved`);
    } else maxSeen = it.view.seq;
  }
  // Absent seqs: missing in the middle, truncated at the end.
  const lastPresentIndex = items.length - 1;
  let s = first;
  if (!decodeError) {
    while (s <= last) {
      if (genuine.has(s)) {
        s++;
        continue;
      }
      let e = s;
      while (e + 1 <= last && !genuine.has(e + 1)) e++;
      const count = e - s + 1;
      const after = e === last;
      if (after) {
        add({
          kind: 'truncated',
          segment: n,
          object,
          index: lastPresentIndex + 1,
          seq: s,
          detail: `the segment ends early: ${count} entr${count > 1 ? 'ies' : 'y'} (seq ${s}–${e}) of ${m.entries} missing at its end`,
        });
      } else {
        const nextItem = genuine.get(e + 1)!;
        add({
          kind: 'missing',
          segment: n,
          object,
          index: nextItem.index,
          seq: s,
          detail: `${count} entr${count > 1 ? 'ies' : 'y'} (seq ${s}${count > 1 ? `–${e}` : ''}) missing before index ${nextItem.index}`,
        });
      }
      flagged++;
      s = e + 1;
    }
  }
  // Links: each genuine entry must chain to the genuine entry before it. A hash-valid entry that
  // the next one does not link to was rewritten; what the next entry (or the signed last_hash)
  // names is the original's hash.
  const rewritten: { item: Item; original: string; detail: string }[] = [];
  for (let q = first; q <= last; q++) {
    const it = genuine.get(q);
    if (!it || !it.hashOk) continue;
    const prevItem = genuine.get(q - 1);
    const expected = q === first ? m.chain_prev : prevItem?.hashOk ? prevItem.view!.hash : undefined;
    if (expected === undefined || it.view!.prev === expected) continue;
    if (q === first) {
      if (!it.flagged) flag(it, 'modified', `the first entry does not chain to the previous segment's last entry`);
    } else if (prevItem && !prevItem.flagged && !it.flagged) {
      rewritten.push({ item: prevItem, original: it.view!.prev, detail: `entry seq ${q - 1} was rewritten (its hash was recomputed, but seq ${q} links to a different entry)` });
    }
  }
  const lastItem = genuine.get(last);
  if (lastItem?.hashOk && !lastItem.flagged && m.last_hash && lastItem.view!.hash !== m.last_hash) {
    rewritten.push({ item: lastItem, original: m.last_hash, detail: `the last entry differs from the signed last_hash (rewritten with a recomputed hash)` });
  }
  if (rewritten.length > 0) flagRewrites(items, rewritten, m, flag);
  // Merkle root over the entries as found, when nothing else was wrong.
  if (flagged === 0 && !decodeError) {
    const root = rootFromLeafHashes(items.map((it) => it.raw!)).toString('hex');
    if (root !== m.merkle_root) add({ kind: 'modified', segment: n, object, detail: 'the Merkle root over the entries differs from the signed manifest' });
  }
  let validRecords = 0;
  const notes: { index: number; seq: number; note: Note }[] = [];
  for (const it of items) {
    if (!it.view || !it.hashOk || it.flagged || genuine.get(it.view.seq) !== it) continue;
    if (it.view.kind === 'record') validRecords++;
    else {
      try {
        notes.push({ index: it.index, seq: it.view.seq, note: noteOf(it.view) });
      } catch {
        /* hash-valid JSON that does not parse cannot happen; ignore */
      }
    }
  }
  return { validRecords, items: items.length, notes };
}

/**
 * Where the chain was rewritten. A broken link shows the LAST rewritten entry of
 * a run: an intruder may have changed an earlier entry and recomputed every hash
 * and link after it. The Merkle root tells the two apart: with each rewritten
 * entry's original hash put back, it matches only if those entries alone were
 * changed (each named exactly). Otherwise the first rewritten entry lies
 * somewhere in the run that ends there, which is reported from its first entry,
 * and none of the run counts as valid.
 */
function flagRewrites(
  items: Item[],
  rewritten: { item: Item; original: string; detail: string }[],
  m: Manifest,
  flag: (it: Item, kind: BreakKind, detail: string, runEndSeq?: number) => void,
): void {
  const exact =
    items.length === m.entries &&
    items.every((it) => it.raw && !it.flagged) &&
    (() => {
      const leaves = items.map((it) => it.raw!);
      for (const r of rewritten) leaves[r.item.index] = Buffer.from(r.original, 'hex');
      return rootFromLeafHashes(leaves).toString('hex') === m.merkle_root;
    })();
  if (exact) {
    for (const r of rewritten) flag(r.item, 'modified', r.detail);
    return;
  }
  let from = 0;
  for (const r of [...rewritten].sort((a, b) => a.item.index - b.item.index)) {
    const start = items.slice(from, r.item.index + 1).find((it) => !it.flagged) ?? r.item;
    const a = start.view?.seq;
    const b = r.item.view!.seq;
    flag(
      start,
      'modified',
      start === r.item
        ? r.detail
        : `entries seq ${a}–${b} (index ${start.index}–${r.item.index}) are not the signed ones: one of them was rewritten and every hash and link after it recomputed up to seq ${b}, ` +
            `which ${r.item.index === items.length - 1 ? 'differs from the signed last_hash' : `seq ${b + 1} does not link to`}; the first rewritten entry is at or after index ${start.index} ` +
            '(checkpoints of the open segment kept downstream narrow it down)',
      start === r.item ? undefined : b,
    );
    for (const it of items.slice(start.index + 1, r.item.index + 1)) it.flagged = true; // none of the run is proven
    from = r.item.index + 1;
  }
}
