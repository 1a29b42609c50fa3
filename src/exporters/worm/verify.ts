// `vigil verify`: proves an archive intact or names each break. Checks every
// entry hash and chain link, every Merkle root, every manifest signature and
// the manifest chain, the heartbeat (a deleted tail shows as a gap) and, on S3,
// every object's Object Lock. Breaks are classified by kind and located by
// segment, entry index (0-based line in the segment) and seq.
import { promisify } from 'node:util';
import { createGunzip, gunzip } from 'node:zlib';
import { ENTRY_OFFSET, entryHash, sha256Hex, splitLines, viewLine, type Note, type LineView, parseEntry } from './entry.js';
import { groupListing, type SegmentFiles } from './layout.js';
import { type Manifest, checkManifest } from './manifest.js';
import type { PublicKeyEntry } from './keys.js';
import { IncrementalMerkle, rootFromLeafHashes } from './merkle.js';
import type { ArchiveSource, ObjectVersions } from './source.js';
import { ArchiveNotFoundError } from './source.js';
import { describeS3Error } from './s3.js';
import { createDataChecker, type DataChecker } from './verify-pool.js';
import { checkEncryptedSegment, needsDecryption } from './verify-encrypted.js';
import { EncryptionKeyError, plaintextOf } from './encryption.js';
import { type EncryptionCensus, type SseExpectation, countEncryption, encryptionMismatch, encryptionOf } from './sse.js';

export type BreakKind =
  | 'modified'
  | 'missing'
  | 'inserted'
  | 'reordered'
  | 'truncated'
  | 'bad signature'
  | 'unknown key'
  | 'gap'
  | 'unlocked object'
  | 'unencrypted object';
export type NoteKind = 'repaired truncation' | 'unclean stop' | 'unsealed' | 'not held locally' | 'retention ended' | 'encrypted' | 'shredded';

export interface Finding {
  severity: 'break' | 'note';
  kind: BreakKind | NoteKind;
  segment?: number;
  /** 0-based line of the entry within its segment. */
  index?: number;
  seq?: number;
  /** The file or S3 object concerned. */
  object?: string;
  detail: string;
}

export interface VerifyProgress {
  segmentsDone: number;
  segmentsTotal: number;
  /** Bytes read so far, of `totalBytes` (as listed). */
  bytes: number;
  totalBytes: number;
  records: number;
}

export interface VerifyOptions {
  keys: ReadonlyMap<string, PublicKeyEntry>;
  /** Only segments whose time range overlaps [from, to) have their records checked (manifests are always checked). */
  from?: number | undefined;
  to?: number | undefined;
  /** The time the tail is judged against (default now). */
  now?: number | undefined;
  /** Slack on top of the heartbeat interval before a missing seal counts as a gap (default: the interval, at least 60 s). */
  graceMs?: number | undefined;
  onProgress?: ((p: VerifyProgress) => void) | undefined;
  /** Worker threads for segment data (default: one per core when compiled; 0: in-process). */
  workers?: number | undefined;
  /** On S3: the server-side encryption every object must carry (default `any`: some encryption). */
  encryption?: SseExpectation | undefined;
}

export interface VerifyReport {
  archive: string;
  archiveId: string | undefined;
  ok: boolean;
  segments: { total: number; checked: number; valid: number; notLocal: number };
  records: { checked: number; valid: number };
  unsealed: { segment: number; records: number } | undefined;
  firstSealedAt: string | undefined;
  lastSealedAt: string | undefined;
  lastSealReason: string | undefined;
  /** Compressed bytes read and uncompressed bytes checked. */
  bytesRead: number;
  contentBytes: number;
  durationMs: number;
  findings: Finding[];
  /** On S3: objects per class (segment, manifest…) and server-side encryption as stored. */
  encryption?: EncryptionCensus | undefined;
}

interface Head {
  seq: number;
  hash: string;
}

export async function verifyArchive(source: ArchiveSource, opts: VerifyOptions): Promise<VerifyReport> {
  const started = performance.now();
  const now = opts.now ?? Date.now();
  const findings: Finding[] = [];
  const add = (f: Omit<Finding, 'severity'> & { severity?: Finding['severity'] }) => findings.push({ severity: 'break', ...f } as Finding);
  const groups = groupListing(await source.list());
  if (groups.length === 0) throw new ArchiveNotFoundError(`no archive segments in ${source.location}`);
  const byNumber = new Map(groups.map((g) => [g.segment, g]));
  const maxSeg = groups[groups.length - 1].segment;
  const manifestTotal = groups.filter((g) => g.manifest).length;
  const totalBytes = groups.reduce((a, g) => a + Object.values(g.sizes).reduce((x, y) => x + (y ?? 0), 0), 0);
  const report: VerifyReport = {
    archive: source.location,
    archiveId: undefined,
    ok: true,
    segments: { total: manifestTotal, checked: 0, valid: 0, notLocal: 0 },
    records: { checked: 0, valid: 0 },
    unsealed: undefined,
    firstSealedAt: undefined,
    lastSealedAt: undefined,
    lastSealReason: undefined,
    bytesRead: 0,
    contentBytes: 0,
    durationMs: 0,
    findings,
  };

  // S3 extras: the bucket's lock and every version / delete marker.
  let versions: Map<string, ObjectVersions> | undefined;
  if (source.s3) {
    try {
      const lock = await source.s3.bucketLock();
      if (!lock.enabled) add({ kind: 'unlocked object', object: `s3://${source.s3.bucket}`, detail: 'the bucket does not have Object Lock enabled: its objects can be deleted or overwritten' });
    } catch (err) {
      add({ kind: 'unlocked object', object: `s3://${source.s3.bucket}`, detail: `cannot read the bucket's Object Lock configuration (${describeS3Error(err)})` });
    }
    versions = await source.s3.versions();
    report.encryption = {};
  }

  let prevManifest: { hash: string; m: Manifest } | undefined;
  let head: Head | undefined;
  let missingFrom: number | undefined;
  let lastManifest: Manifest | undefined;
  let done = 0;
  let archiveId: string | undefined;

  const flushMissing = (upTo: number, next: Manifest | undefined): boolean => {
    if (missingFrom === undefined) return false;
    const a = missingFrom;
    const b = upTo - 1;
    missingFrom = undefined;
    const range = a === b ? `segment ${a}` : `segments ${a}–${b}`;
    const seqs = head && next && next.first_seq > head.seq + 1 ? `, records seq ${head.seq + 1}–${next.first_seq - 1} (${next.first_seq - head.seq - 1} entries)` : '';
    const when = prevManifest && next ? `, between ${prevManifest.m.sealed_at} and ${next.opened_at}` : '';
    const marker = deletedNote(versions, a, b);
    add({ kind: 'missing', segment: a, detail: `${range} missing with ${a === b ? 'its manifest' : 'their manifests'}${seqs}${when}${marker}` });
    return true;
  };

  // Segment data is checked a few segments ahead on worker threads (one per
  // core) while this loop walks the manifests in order; results are taken in order.
  // Threads pay off once there is enough data to amortise their start-up.
  const sealedBytes = groups.reduce((x, g) => x + (g.sizes.sealed ?? 0), 0);
  const checker: DataChecker = createDataChecker(opts.workers ?? (sealedBytes >= 16 * 1024 * 1024 && groups.length >= 3 ? undefined : 0));
  const manifestReads = new Map<number, Promise<Buffer>>();
  const readManifest = (seg: SegmentFiles): Promise<Buffer> => {
    let p = manifestReads.get(seg.segment);
    if (!p) manifestReads.set(seg.segment, (p = source.read(seg.manifest!)));
    return p;
  };
  const jobs = new Map<number, Promise<DataCheckResult & { bytesRead: number }>>();
  const startJob = (seg: SegmentFiles): Promise<DataCheckResult & { bytesRead: number }> => {
    let p = jobs.get(seg.segment);
    if (!p) {
      p = (async () => {
        const m = (JSON.parse((await readManifest(seg)).toString('utf8')) as { manifest: Manifest }).manifest;
        const data = await source.read(seg.sealed!);
        const bytesRead = data.length;
        if (needsDecryption(data, m)) {
          return { ...(await checkEncryptedSegment(seg.segment, seg.sealed!, data, m, source.archiveKey, (gz, pm) => checker.check(seg.segment, seg.sealed!, gz, pm))), bytesRead };
        }
        return { ...(await checker.check(seg.segment, seg.sealed!, data, m)), bytesRead };
      })();
      p.catch(() => undefined); // awaited (and its error thrown) when its turn comes
      jobs.set(seg.segment, p);
    }
    return p;
  };
  const dataGroups = groups.filter((g) => g.sealed && g.manifest);
  const firstSeg = groups[0].segment;
  const lastManifestNumber = Math.max(0, ...groups.filter((g) => g.manifest).map((g) => g.segment));
  if (firstSeg > 1) missingFrom = 1;

  try {
    for (let n = firstSeg; n <= maxSeg; n++) {
      const g = byNumber.get(n);
      if (!g || (!g.manifest && !g.sealed && !g.open)) {
        missingFrom ??= n;
        continue;
      }
      if (!g.manifest) {
        if (n > lastManifestNumber) {
          // The unsealed tail: the open segment, and any whose seal is still in progress.
          flushMissing(n, undefined);
          head = await checkUnsealed(source, g, head, report, add);
        } else {
          flushMissing(n, undefined);
          add({ kind: 'missing', segment: n, object: g.sealed ?? g.open, detail: `segment ${n} has no manifest: its records are not signed${deletedNote(versions, n, n, 'manifest')}` });
        }
        continue;
      }
      // The manifest.
      const mBytes = await readManifest(g);
      manifestReads.delete(n);
      report.bytesRead += mBytes.length;
      const checked = checkManifest(mBytes, opts.keys);
      const m = checked.manifest;
      if (checked.problem) add({ kind: checked.problem.kind, segment: n, object: g.manifest, detail: checked.problem.detail });
      if (!m) {
        flushMissing(n, undefined);
        prevManifest = undefined;
        done++;
        continue;
      }
      const afterMissing = flushMissing(n, m);
      let manifestTrusted = !checked.problem;
      if (m.segment !== n) {
        add({
          kind: 'modified',
          segment: n,
          object: g.manifest,
          detail: `the manifest of segment ${n} was replaced by ${m.segment < n ? 'an older' : 'another'} manifest (it is segment ${m.segment}'s)`,
        });
        manifestTrusted = false;
      }
      archiveId ??= m.archive_id;
      if (m.archive_id !== archiveId) {
        add({ kind: 'inserted', segment: n, object: g.manifest, detail: `manifest belongs to archive ${m.archive_id}, not ${archiveId}` });
        manifestTrusted = false;
      }
      if (m.segment === n && !afterMissing && prevManifest && m.prev_manifest !== prevManifest.hash && !findings.some((f) => f.segment === n - 1 && f.severity === 'break')) {
        add({ kind: 'modified', segment: n, object: g.manifest, detail: `prev_manifest does not name segment ${n - 1}'s manifest: the manifest chain is broken` });
      }
      if (m.segment === n && !afterMissing && head && m.first_seq !== head.seq + 1) {
        add({ kind: m.first_seq > head.seq + 1 ? 'missing' : 'inserted', segment: n, detail: `segment starts at seq ${m.first_seq} where ${head.seq + 1} follows segment ${n - 1}` });
      }
      report.firstSealedAt ??= m.sealed_at;
      // The data.
      const inWindow = overlaps(m, opts.from, opts.to);
      if (inWindow) {
        report.segments.checked++;
        report.records.checked += m.records;
        const before = findings.filter((f) => f.severity === 'break').length;
        if (g.sealed) {
          // Keep every worker busy: start the next few segments' checks now.
          for (const next of dataGroups.filter((x) => x.segment >= n).slice(0, checker.parallel + 1)) void startJob(next);
          const r = await startJob(g);
          jobs.delete(n);
          report.bytesRead += r.bytesRead;
          for (const f of r.findings) findings.push(f);
          report.contentBytes += r.contentBytes;
          for (const note of r.notes) recoveryFinding(n, note, m, add);
          if (manifestTrusted) report.records.valid += r.validRecords;
        } else if (g.receipt) {
          report.segments.notLocal++;
          add({ severity: 'note', kind: 'not held locally', segment: n, detail: `segment data pruned locally after upload (receipt ${g.receipt}); verify the S3 copy for its records` });
        } else {
          add({ kind: 'missing', segment: n, object: g.manifest.replace('.manifest.json', '.jsonl.gz'), detail: `segment ${n}'s data file is missing (its manifest is present, ${m.records} records)${deletedNote(versions, n, n, 'sealed')}` });
        }
        if (source.s3) await checkLocks(source, g, m, now, add, versions, opts.encryption ?? 'any', report.encryption!);
        if (findings.filter((f) => f.severity === 'break').length === before && manifestTrusted && g.sealed) report.segments.valid++;
      }
      if (m.segment === n) {
        prevManifest = { hash: checked.hash!, m };
        head = { seq: m.first_seq + m.entries - 1, hash: m.last_hash ?? m.chain_prev };
        lastManifest = m;
      }
      done++;
      opts.onProgress?.({ segmentsDone: done, segmentsTotal: manifestTotal, bytes: report.bytesRead, totalBytes, records: report.records.valid });
    }
  } finally {
    await checker.close();
  }

  report.archiveId = archiveId;
  if (lastManifest) {
    report.lastSealedAt = lastManifest.sealed_at;
    report.lastSealReason = lastManifest.seal_reason;
    if (lastManifest.seal_reason !== 'shutdown' && opts.to === undefined) {
      const interval = Math.max(lastManifest.heartbeat_ms, lastManifest.max_age_ms);
      const grace = opts.graceMs ?? Math.max(60_000, interval);
      const sealedAt = Date.parse(lastManifest.sealed_at);
      if (now > sealedAt + interval + grace) {
        add({
          kind: 'gap',
          segment: lastManifest.segment + 1,
          detail: `no segment sealed since ${lastManifest.sealed_at} (${fmtAge(now - sealedAt)} ago) although Vigil seals at least every ${fmtAge(interval)}: the newest segments were deleted, or Vigil stopped without a clean shutdown and has not been restarted to recover`,
        });
      }
    }
  }
  report.ok = !findings.some((f) => f.severity === 'break');
  report.durationMs = performance.now() - started;
  return report;
}

function overlaps(m: Manifest, from: number | undefined, to: number | undefined): boolean {
  if (from === undefined && to === undefined) return true;
  // The records' own time range; a segment without records by when it was open.
  const lo = Date.parse(m.time_min ?? m.opened_at);
  const hi = Date.parse(m.time_max ?? m.sealed_at);
  return (from === undefined || hi >= from) && (to === undefined || lo < to);
}

function deletedNote(versions: Map<string, ObjectVersions> | undefined, a: number, b: number, which?: 'manifest' | 'sealed'): string {
  if (!versions) return '';
  const marked: string[] = [];
  for (const [name, v] of versions) {
    const p = /^segment-(\d{12})\.(manifest\.json|jsonl\.gz)$/.exec(name);
    if (!p || !v.deleted) continue;
    const n = Number(p[1]);
    if (n < a || n > b) continue;
    if (which === 'manifest' && p[2] !== 'manifest.json') continue;
    if (which === 'sealed' && p[2] !== 'jsonl.gz') continue;
    const kept = v.versions.length;
    marked.push(`${name}${kept ? ` (${kept} locked version${kept > 1 ? 's' : ''} still retained under it)` : ''}`);
  }
  return marked.length ? `; hidden by S3 delete markers: ${marked.join(', ')}` : '';
}

type Add = (f: Omit<Finding, 'severity'> & { severity?: Finding['severity'] }) => void;

function recoveryFinding(segment: number, note: { index: number; seq: number; note: Note }, m: Manifest, add: Add): void {
  const n = note.note;
  if (n.kind !== 'recovery') return;
  const down = n.last_entry_at ? ` Vigil was down from about ${n.last_entry_at} until ${m.sealed_at}.` : '';
  if (n.truncated_bytes > 0) {
    add({
      severity: 'note',
      kind: 'repaired truncation',
      segment,
      index: note.index,
      seq: note.seq,
      detail: `after an unclean stop, start-up cut a torn tail of ${n.truncated_bytes} bytes${n.truncated_lines ? ` (${n.truncated_lines} complete-looking lines)` : ''} that was never acknowledged, and continued the chain.${down}`,
    });
  } else {
    add({ severity: 'note', kind: 'unclean stop', segment, index: note.index, seq: note.seq, detail: `Vigil restarted after an unclean stop (no torn tail).${down}` });
  }
  if (n.open_segment_found === false) {
    add({
      kind: 'gap',
      segment,
      index: note.index,
      seq: note.seq,
      detail: 'at restart the segment the previous run had open was missing: records written just before the stop may have been deleted',
    });
  }
}

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

const gunzipAsync = promisify(gunzip);

/** Decompresses a sealed segment (into one buffer of the size its manifest states) and checks it. */
export async function checkSegmentBytes(n: number, object: string, data: Buffer, m: Manifest): Promise<DataCheckResult> {
  let fetched: FetchedSegment;
  try {
    const chunkSize = Math.min(Math.max(m.content_bytes + 1, 64 * 1024), 256 * 1024 * 1024);
    fetched = { data, content: await gunzipAsync(data, { chunkSize }), error: undefined };
  } catch {
    fetched = { data, ...(await gunzipPartial(data)) };
  }
  const findings: Finding[] = [];
  const r = checkSegmentData(n, object, fetched, m, (f) => findings.push({ severity: 'break', ...f } as Finding));
  return { findings, ...r };
}

/** Decompresses as much as it can: a corrupt or cut gzip still yields the entries before the damage. */
export async function gunzipPartial(data: Buffer): Promise<{ content: Buffer; error: Error | undefined }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const gz = createGunzip();
    gz.on('data', (c: Buffer) => chunks.push(c));
    gz.on('error', (error) => resolve({ content: Buffer.concat(chunks), error }));
    gz.on('end', () => resolve({ content: Buffer.concat(chunks), error: undefined }));
    gz.end(data);
  });
}

interface Item {
  index: number;
  view: LineView | undefined;
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
    const fast = checkIntactEntries(content, m);
    if (fast) {
      if (!fileOk) f({ kind: 'modified', detail: 'the segment file differs from the SHA-256 in its signed manifest (its entries read back intact: the gzip container was altered)' });
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
    const cut = /unexpected end of file/i.test(error.message);
    f({
      kind: cut ? 'truncated' : 'modified',
      index: r.items,
      seq: m.first_seq + r.items,
      detail: cut
        ? `the segment file was cut short: entries from index ${r.items} on (${m.entries - r.items} of ${m.entries}) are missing`
        : `the compressed segment is corrupt (${error.message}) from entry index ${r.items} on`,
    });
  } else if (!fileOk && before.count === 0) {
    f({ kind: 'modified', detail: 'the segment file differs from the SHA-256 in its signed manifest (its entries read back intact: the gzip container was altered)' });
  }
  return { validRecords: r.validRecords, contentBytes: content.length, notes: r.notes };
}

const LINE_HEAD = Buffer.from('{"hash":"');
const ENTRY_HEAD = Buffer.from('","entry":');
const SEQ_HEAD = Buffer.from('{"seq":');
const AT_HEAD = Buffer.from(',"at":"');
const PREV_HEAD = Buffer.from('","prev":"');
const ISO_LENGTH = 24; // 2026-03-01T09:00:00.000Z
const HEX_DIGITS = Buffer.from('0123456789abcdef');

/** buf[at…] holds `literal` (a short JS loop beats a native call per field). */
function bytesAt(buf: Buffer, at: number, literal: Buffer): boolean {
  for (let i = 0; i < literal.length; i++) if (buf[at + i] !== literal[i]) return false;
  return true;
}

/** buf[at…at+64] is the lowercase hex of the 32 bytes `raw`. */
function hexAt(buf: Buffer, at: number, raw: Buffer): boolean {
  for (let i = 0; i < 32; i++) {
    const b = raw[i];
    if (buf[at + 2 * i] !== HEX_DIGITS[b >> 4] || buf[at + 2 * i + 1] !== HEX_DIGITS[b & 15]) return false;
  }
  return true;
}

/**
 * The common case, fast: every line exactly as the writer produces it, each
 * hash right, each link and seq in order, the count, last hash and Merkle root
 * as signed. No allocation beyond the hashes. Returns undefined at the first
 * deviation; the caller then runs the full classification (checkEntries).
 */
export function checkIntactEntries(content: Buffer, m: Manifest): { validRecords: number; notes: { index: number; seq: number; note: Note }[] } | undefined {
  const merkle = new IncrementalMerkle();
  const notes: { index: number; seq: number; note: Note }[] = [];
  let expectSeq = m.first_seq;
  let prevRaw: Buffer = Buffer.from(m.chain_prev, 'hex');
  let records = 0;
  let pos = 0;
  const end = content.length;
  while (pos < end) {
    const nl = content.indexOf(0x0a, pos);
    if (nl < 0 || nl - pos < ENTRY_OFFSET + SEQ_HEAD.length + 2 + AT_HEAD.length + ISO_LENGTH + PREV_HEAD.length + 64 + 4) return undefined;
    const es = pos + ENTRY_OFFSET;
    const ee = nl - 1; // the line's closing brace
    if (content[ee] !== 0x7d || !bytesAt(content, pos, LINE_HEAD) || !bytesAt(content, es - ENTRY_HEAD.length, ENTRY_HEAD) || !bytesAt(content, es, SEQ_HEAD)) return undefined;
    let i = es + SEQ_HEAD.length;
    let seq = 0;
    const digits = i;
    while (i < ee && content[i] >= 0x30 && content[i] <= 0x39 && i - digits < 16) seq = seq * 10 + (content[i++] - 0x30);
    if (seq !== expectSeq || i === digits) return undefined;
    const prevAt = i + AT_HEAD.length + ISO_LENGTH;
    if (!bytesAt(content, i, AT_HEAD) || !bytesAt(content, prevAt, PREV_HEAD)) return undefined;
    const prevStart = prevAt + PREV_HEAD.length;
    if (!hexAt(content, prevStart, prevRaw)) return undefined;
    const raw = entryHash(content.subarray(es, ee));
    if (!hexAt(content, pos + LINE_HEAD.length, raw)) return undefined;
    merkle.push(raw);
    const kindByte = content[prevStart + 64 + 3]; // after `","`: r(ecord) or n(ote)
    if (kindByte === 0x72) records++;
    else if (kindByte === 0x6e) {
      try {
        const e = parseEntry(content.subarray(es, ee));
        if (e.note) notes.push({ index: expectSeq - m.first_seq, seq, note: e.note });
      } catch {
        return undefined;
      }
    } else return undefined;
    prevRaw = raw;
    expectSeq++;
    pos = nl + 1;
  }
  if (expectSeq - m.first_seq !== m.entries || prevRaw.toString('hex') !== (m.last_hash ?? m.chain_prev)) return undefined;
  if (merkle.root().toString('hex') !== m.merkle_root) return undefined;
  return { validRecords: records, notes };
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
  const flag = (it: Item, kind: BreakKind, detail: string) => {
    it.flagged = true;
    flagged++;
    add({ kind, ...at(it.index), seq: it.view?.seq, detail });
  };
  let idx = 0;
  for (const { line, complete } of splitLines(content)) {
    if (!complete && decodeError) break; // the tail of a damaged stream: reported once by the caller
    const it: Item = { index: idx++, view: undefined, raw: undefined, hashOk: false, flagged: false };
    items.push(it);
    if (!complete) {
      flag(it, 'truncated', 'the last line is incomplete (cut mid-entry)');
      continue;
    }
    const v = viewLine(line);
    if (typeof v === 'string') {
      flag(it, 'modified', `not a valid entry line: ${v}`);
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
  // Links: each genuine entry must chain to the genuine entry before it.
  for (let q = first; q <= last; q++) {
    const it = genuine.get(q);
    if (!it || !it.hashOk) continue;
    const prevItem = genuine.get(q - 1);
    const expected = q === first ? m.chain_prev : prevItem?.hashOk ? prevItem.view!.hash : undefined;
    if (expected === undefined || it.view!.prev === expected) continue;
    if (q === first) {
      if (!it.flagged) flag(it, 'modified', `the first entry does not chain to the previous segment's last entry`);
    } else if (prevItem && !prevItem.flagged && !it.flagged) {
      flag(prevItem, 'modified', `entry seq ${q - 1} was rewritten (its hash was recomputed, but seq ${q} links to a different entry)`);
    }
  }
  const lastItem = genuine.get(last);
  if (lastItem?.hashOk && !lastItem.flagged && m.last_hash && lastItem.view!.hash !== m.last_hash) {
    flag(lastItem, 'modified', `the last entry differs from the signed last_hash (rewritten with a recomputed hash)`);
  }
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
        const e = parseEntry(it.view.entry);
        if (e.note) notes.push({ index: it.index, seq: it.view.seq, note: e.note });
      } catch {
        /* hash-valid JSON that does not parse cannot happen; ignore */
      }
    }
  }
  return { validRecords, items: items.length, notes };
}

/** The open segment: unsealed records are reported as such, never as valid; breaks in them are still named. */
async function checkUnsealed(source: ArchiveSource, g: SegmentFiles, head: Head | undefined, report: VerifyReport, add: Add): Promise<Head | undefined> {
  const name = g.open ?? g.sealed!;
  let content: Buffer;
  try {
    if (g.open) content = plaintextOf(await source.read(name), source.archiveKey, g.segment, 'open');
    else content = (await gunzipPartial(plaintextOf(await source.read(name), source.archiveKey, g.segment, 'sealed'))).content;
  } catch (err) {
    if (err instanceof EncryptionKeyError) {
      add({ severity: 'note', kind: 'unsealed', segment: g.segment, object: name, detail: `segment ${g.segment} is not sealed yet and is encrypted: not checked without the archive key (--key-file)` });
      return undefined;
    }
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    add({ severity: 'note', kind: 'unsealed', segment: g.segment, object: name, detail: `segment ${g.segment} was sealed while this verification ran: run it again to check it` });
    return undefined; // its last hash is unknown here: the next unsealed segment cannot be linked to it
  }
  report.bytesRead += content.length;
  let prev = head?.hash;
  let seq = head ? head.seq + 1 : undefined;
  let records = 0;
  let index = 0;
  for (const { line, complete } of splitLines(content)) {
    if (!complete) break; // an append in progress (or a torn tail the next start repairs)
    const v = viewLine(line);
    if (typeof v === 'string' || entryHash(v.entry).toString('hex') !== v.hash) {
      add({ kind: 'modified', segment: g.segment, index, object: name, detail: `unsealed entry does not match its hash${typeof v === 'string' ? ` (${v})` : ''}` });
      return undefined;
    }
    if ((seq !== undefined && v.seq !== seq) || (prev !== undefined && v.prev !== prev)) {
      add({ kind: v.seq > (seq ?? 0) ? 'missing' : 'inserted', segment: g.segment, index, seq: v.seq, object: name, detail: `unsealed entry seq ${v.seq} does not continue the chain (expected seq ${seq})` });
      return undefined;
    }
    prev = v.hash;
    seq = v.seq + 1;
    if (v.kind === 'record') records++;
    index++;
  }
  report.unsealed = { segment: g.segment, records: (report.unsealed?.records ?? 0) + records };
  add({
    severity: 'note',
    kind: 'unsealed',
    segment: g.segment,
    object: name,
    detail: `${records} record${records === 1 ? '' : 's'} in ${g.open ? 'the open segment' : 'segment'} ${g.segment}, chained but not yet sealed and signed`,
  });
  return prev !== undefined && seq !== undefined ? { seq: seq - 1, hash: prev } : head;
}

async function checkLocks(
  source: ArchiveSource,
  g: SegmentFiles,
  m: Manifest,
  now: number,
  add: Add,
  versions: Map<string, ObjectVersions> | undefined,
  encryption: SseExpectation,
  census: EncryptionCensus,
): Promise<void> {
  const s3 = source.s3!;
  for (const name of [g.sealed, g.manifest]) {
    if (!name) continue;
    const v = versions?.get(name);
    if (v && v.versions.length > 1) {
      add({ kind: 'modified', segment: m.segment, object: `${source.location}${name}`, detail: `the object was overwritten: ${v.versions.length} versions exist (Vigil writes each key once); the original is the oldest locked version` });
    }
    let lock;
    try {
      lock = await s3.objectLock(name);
    } catch (err) {
      add({ kind: 'unlocked object', segment: m.segment, object: `${source.location}${name}`, detail: `cannot read the object's lock (${describeS3Error(err)})` });
      continue;
    }
    if (!lock) continue;
    const stored = encryptionOf(lock.sse, lock.kmsKeyId);
    countEncryption(census, name, stored);
    const unencrypted = encryptionMismatch(encryption, stored);
    if (unencrypted) add({ kind: 'unencrypted object', segment: m.segment, object: `${source.location}${name}`, detail: unencrypted });
    const expected = m.retain_until ? Date.parse(m.retain_until) : undefined;
    const until = lock.retainUntil?.getTime();
    if (!lock.mode || until === undefined) {
      add({ kind: 'unlocked object', segment: m.segment, object: `${source.location}${name}`, detail: 'the object carries no Object Lock retention: it can be deleted or overwritten' });
    } else if (expected !== undefined && until < expected - 1000) {
      add({ kind: 'unlocked object', segment: m.segment, object: `${source.location}${name}`, detail: `retained only until ${new Date(until).toISOString()}, the manifest requires ${m.retain_until}` });
    } else if (until < now && lock.legalHold !== 'ON') {
      add({ severity: 'note', kind: 'retention ended', segment: m.segment, object: `${source.location}${name}`, detail: `retention ended ${new Date(until).toISOString()}: the object may now be deleted` });
    }
  }
}

export function fmtAge(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  const mnt = Math.round(s / 60);
  if (mnt < 120) return `${mnt}m`;
  const h = Math.round(mnt / 60);
  if (h < 48) return `${h}h`;
  return `${Math.round(h / 24)}d`;
}
