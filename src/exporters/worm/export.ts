// `vigil export`: an archive's records, in chain order, each proven before it is
// handed out. Segment by segment: the manifest's signature (by one of the given
// keys) and its link to the previous manifest; every entry's hash, seq and link;
// the entry count, last hash and Merkle root against the manifest. Only then are
// the segment's records yielded. The first break throws ExportBreakError: what
// was yielded before it is proven, nothing after it is handed out. With a time
// window, a sealed segment whose signed time range lies wholly outside it is not
// read: its manifest (signature, link, seqs) carries the chain on to the next.
import type { ExportRequestMessage } from '../../otlp/convert.js';
import { GENESIS_HASH, entryHash } from './entry.js';
import { type EntryView, recordJsonText, recordProtobuf, recordRequest, splitEntries, viewEntry } from './entries.js';
import { ShreddedKeyError } from './encryption.js';
import type { PublicKeyEntry } from './keys.js';
import { type SegmentFiles, groupListing } from './layout.js';
import { checkManifest } from './manifest.js';
import { IncrementalMerkle } from './merkle.js';
import { type ArchiveSource, readSegmentContent } from './source.js';
import { entryEventTime, inWindow, isBounded, segmentOutside, type TimeWindow } from './time-window.js';

export class ExportBreakError extends Error {
  constructor(
    readonly segment: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ExportedRecord {
  segment: number;
  /** 0-based position of the entry in its segment. */
  index: number;
  seq: number;
  /** False for records of the open segment (chained to the signed head, not yet signed themselves). */
  sealed: boolean;
  /** The record as OTLP JSON (an ExportLogsServiceRequest holding it, with its resource and scope). */
  json(): string;
  /** The same request as protobuf bytes. */
  protobuf(): Uint8Array;
  request(): ExportRequestMessage;
}

export interface ExportOptions {
  keys: ReadonlyMap<string, PublicKeyEntry>;
  /** Also yield the open segment's records (default false: only what a signature covers). */
  unsealed?: boolean;
  /** Only records whose event time is in the window (time-window.ts). */
  window?: TimeWindow;
  /** A sealed segment left unread: its signed time range lies outside the window. */
  onSkipped?: (segment: number) => void;
  /** Something the reader should know that is not a break (a crypto-shredded segment). */
  onNote?: (segment: number, text: string) => void;
  onProgress?: (p: { segmentsDone: number; segmentsTotal: number; bytes: number; totalBytes: number; records: number }) => void;
}

interface Head {
  seq: number;
  hash: string;
}

export async function* exportRecords(source: ArchiveSource, opts: ExportOptions): AsyncGenerator<ExportedRecord> {
  const groups = groupListing(await source.list());
  let head: Head = { seq: 0, hash: GENESIS_HASH };
  let prevManifest = GENESIS_HASH;
  let expected = 1;
  let bytes = 0;
  let records = 0;
  const totalBytes = groups.reduce((a, g) => a + (g.sizes.sealed ?? g.sizes.open ?? 0), 0);
  const window = opts.window ?? {};
  for (const [done, g] of groups.entries()) {
    const brk = (text: string): never => {
      throw new ExportBreakError(g.segment, `segment ${g.segment} of ${source.location}: ${text} (run vigil verify for the full report)`);
    };
    if (g.segment !== expected) brk(`segments ${expected}–${g.segment - 1} are missing`);
    if (g.conflicts?.length) brk(`a second file of the segment is present (${g.conflicts.join(', ')})`);
    expected++;
    if (!g.manifest) {
      // Only the newest segments may be unsealed (the open one, or one whose seal is in progress).
      if (groups.slice(done + 1).some((x) => x.manifest)) brk('it has no manifest: its records are not signed');
      if (!opts.unsealed) return;
      const read = await readSegmentContent(source, g);
      bytes += read.stored;
      for (const r of walk(g, read.content, head, brk, false, window).records) {
        records++;
        yield r;
      }
      continue;
    }
    const checked = checkManifest(await source.read(g.manifest), opts.keys);
    const m = checked.manifest;
    if (!m || checked.problem) brk(`its manifest does not verify: ${checked.problem?.kind}: ${checked.problem?.detail}`);
    if (m!.segment !== g.segment) brk(`its manifest is segment ${m!.segment}'s`);
    if (m!.prev_manifest !== prevManifest) brk("its manifest's prev_manifest does not name the previous manifest: the manifest chain is broken");
    if (m!.first_seq !== head.seq + 1 || m!.chain_prev !== head.hash) brk(`it does not continue the chain (starts at seq ${m!.first_seq}, the chain is at seq ${head.seq})`);
    prevManifest = checked.hash!;
    const signedHead = { seq: m!.first_seq + m!.entries - 1, hash: m!.last_hash ?? m!.chain_prev };
    if (segmentOutside(m!, window)) {
      // Before the data file's checks: an auditor exporting a month needs no other month's data (it may be pruned).
      head = signedHead;
      opts.onSkipped?.(g.segment);
      continue;
    }
    if (!g.sealed) brk(g.receipt ? 'its data is held only in S3 (pruned locally after upload): export the S3 copy' : 'its data file is missing');
    if (g.sealed !== m!.file) brk(`its data file is ${g.sealed} where its signed manifest names ${m!.file}`);
    let read;
    try {
      read = await readSegmentContent(source, g, m!.content_bytes);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') brk(`its data file inflates far beyond the ${m!.content_bytes} bytes its signed manifest states: it was modified`);
      if (!(err instanceof ShreddedKeyError)) throw err;
      opts.onNote?.(g.segment, `segment ${g.segment}: ${m!.records} records not exported: ${err.message}`);
      head = signedHead;
      continue;
    }
    bytes += read.stored;
    const w = walk(g, read.content, head, brk, true, window);
    if (w.entries !== m!.entries || w.head.hash !== signedHead.hash) brk(`its entries end at seq ${w.head.seq} where its signed manifest says ${signedHead.seq}`);
    if (w.merkle.root().toString('hex') !== m!.merkle_root) brk('the Merkle root over its entries differs from its signed manifest');
    head = w.head;
    for (const r of w.records) {
      records++;
      yield r;
    }
    opts.onProgress?.({ segmentsDone: done + 1, segmentsTotal: groups.length, bytes, totalBytes, records });
  }
}

/**
 * Checks a segment's entries against the chain head: hashes, seqs, links; a torn tail of an open
 * segment ends it. Every entry is checked; only the records in the window are kept.
 */
function walk(g: SegmentFiles, content: Buffer, from: Head, brk: (text: string) => never, sealed: boolean, window: TimeWindow) {
  const bounded = isBounded(window);
  const merkle = new IncrementalMerkle();
  const out: ExportedRecord[] = [];
  let head = from;
  let index = 0;
  for (const u of splitEntries(content)) {
    if (!u.complete) {
      if (sealed) brk(`entry ${index} is cut short`);
      break; // the open segment: an append in progress
    }
    const v = viewEntry(u);
    if (typeof v === 'string') brk(`entry ${index} is not a valid entry (${v})`);
    const view = v as EntryView;
    const raw = entryHash(view.entry);
    if (raw.toString('hex') !== view.hash) brk(`entry ${index} (seq ${view.seq}) does not match its hash: it was modified`);
    if (view.seq !== head.seq + 1 || view.prev !== head.hash) brk(`entry ${index} (seq ${view.seq}) does not continue the chain after seq ${head.seq}`);
    merkle.push(raw);
    head = { seq: view.seq, hash: view.hash };
    if (view.kind === 'record' && (!bounded || inWindow(entryEventTime(view), window))) out.push(exported(g.segment, index, sealed, view));
    index++;
  }
  return { records: out, entries: index, head, merkle };
}

function exported(segment: number, index: number, sealed: boolean, v: EntryView): ExportedRecord {
  return { segment, index, seq: v.seq, sealed, json: () => recordJsonText(v), protobuf: () => recordProtobuf(v), request: () => recordRequest(v) };
}
