// `vigil verify`: proves an archive intact or names each break. Checks every
// entry hash and chain link, every Merkle root, every manifest signature and
// the manifest chain, the heartbeat (a deleted tail shows as a gap) and, on S3,
// every object's Object Lock. Breaks are classified by kind and located by
// segment, entry index (0-based position in the segment, either format) and seq.
import { entryHash, type Note } from './entry.js';
import { decompressPartial } from './compression.js';
import { formatOfName, groupListing, parseSegmentFileName, type SegmentFiles } from './layout.js';
import { type Manifest, checkManifest } from './manifest.js';
import type { PublicKeyEntry } from './keys.js';
import type { ArchiveSource, ObjectVersions } from './source.js';
import { ArchiveNotFoundError } from './source.js';
import { describeS3Error } from './s3.js';
import { createDataChecker, type DataChecker, workersPay } from './verify-pool.js';
import { type ArchiveReach, type CheckpointOutcome, type ParsedCheckpoint, checkReach, localCheckpoints } from './verify-checkpoint.js';
import { checkEncryptedSegment, needsDecryption } from './verify-encrypted.js';
import { EncryptionKeyError, plaintextOf } from './encryption.js';
import { type EncryptionCensus, type SseExpectation, countEncryption, encryptionMismatch, encryptionOf } from './sse.js';

import type { Add, Finding } from './verify-findings.js';
import type { DataCheckResult } from './verify-segment.js';

export type { BreakKind, NoteKind, Finding } from './verify-findings.js';
export type { DataCheckResult } from './verify-segment.js';

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
  /** Threads checking segment data, this one included (default: one per core when compiled; 0 or 1: this thread alone). */
  workers?: number | undefined;
  /** Checkpoints kept elsewhere (`--checkpoint`): the archive must reach each one of this archive's. */
  checkpoints?: ParsedCheckpoint[] | undefined;
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
  /** Each checkpoint checked (given, or the archive's own checkpoint.txt) and whether the archive reaches it. */
  checkpoints: CheckpointOutcome[];
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
  // Read before the listing: on a live archive the writer may add a checkpoint the listing would not reach yet.
  const ownCheckpoints = await localCheckpoints(source);
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
    checkpoints: [],
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
  const reach: ArchiveReach = { sealed: new Map(), lastSealed: undefined, head: undefined, groups: byNumber };
  let cumulativeRecords = 0;

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

  // Segment data is checked a few segments ahead on every core (this thread and
  // a worker per other core) while this loop walks the manifests in order;
  // results are taken in order. Workers pay off once there is enough data to amortise their start-up.
  const sealedBytes = groups.reduce((x, g) => x + (g.sizes.sealed ?? 0), 0);
  const checker: DataChecker = createDataChecker(opts.workers ?? (workersPay(sealedBytes, groups.length) ? undefined : 0));
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
        // A local file in clear is proven intact as it is read, never held whole; an encrypted one, one
        // on S3, or any deviation is read whole below and classified as ever.
        if (source.localPath && !m.encryption) {
          const streamed = await checker.checkFile(seg.segment, seg.sealed!, source.localPath(seg.sealed!), m);
          if (streamed) return streamed;
        }
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
          if (head) reach.head = { ...head, segment: n };
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
      if (m.segment === n && prevManifest && prevManifest.m.key_id !== m.key_id) {
        // A new key is accepted only where the chain records the rotation (signing.rotate seals for reason `rotation`).
        if (m.seal_reason === 'rotation') {
          add({ severity: 'note', kind: 'key rotation', segment: n, detail: `the signing key changed from ${prevManifest.m.key_id} to ${m.key_id}, as recorded in the chain (a rotation the operator asked for)` });
        } else {
          add({ kind: 'bad signature', segment: n, object: g.manifest, detail: `signed by key ${m.key_id} where segment ${prevManifest.m.segment} was signed by ${prevManifest.m.key_id}, and no key rotation is recorded here` });
        }
      }
      if (m.segment === n && !afterMissing && head && m.first_seq !== head.seq + 1) {
        add({ kind: m.first_seq > head.seq + 1 ? 'missing' : 'inserted', segment: n, detail: `segment starts at seq ${m.first_seq} where ${head.seq + 1} follows segment ${n - 1}` });
      }
      report.firstSealedAt ??= m.sealed_at;
      if (g.sealed && g.sealed !== m.file) add({ kind: 'modified', segment: n, object: g.sealed, detail: `the segment's data file is ${g.sealed} where its signed manifest names ${m.file}` });
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
          add({ kind: 'missing', segment: n, object: m.file, detail: `segment ${n}'s data file is missing (its manifest is present, ${m.records} records)${deletedNote(versions, n, n, 'sealed')}` });
        }
        if (source.s3) await checkLocks(source, g, m, now, add, versions, opts.encryption ?? 'any', report.encryption!);
        if (findings.filter((f) => f.severity === 'break').length === before && manifestTrusted && g.sealed) report.segments.valid++;
      }
      if (m.segment === n) {
        prevManifest = { hash: checked.hash!, m };
        head = { seq: m.first_seq + m.entries - 1, hash: m.last_hash ?? m.chain_prev };
        lastManifest = m;
        cumulativeRecords += m.records;
        reach.sealed.set(n, { manifestHash: checked.hash!, firstSeq: m.first_seq, lastSeq: head.seq, lastHash: head.hash, records: cumulativeRecords });
        reach.lastSealed = n;
        reach.head = { ...head, segment: n };
      }
      done++;
      opts.onProgress?.({ segmentsDone: done, segmentsTotal: manifestTotal, bytes: report.bytesRead, totalBytes, records: report.records.valid });
    }
  } finally {
    await checker.close();
  }

  // An archive without a manifest yet (one open segment) names itself in archive.json.
  archiveId ??= await source
    .read('archive.json')
    .then((b) => (JSON.parse(b.toString('utf8')) as { archive_id?: string }).archive_id)
    .catch(() => undefined);
  report.archiveId = archiveId;
  for (const g of groups) {
    for (const name of g.conflicts ?? []) add({ kind: 'foreign file', segment: g.segment, object: name, detail: `${name} is a second file of segment ${g.segment} beside ${g.sealed ?? g.open ?? g.manifest}: Vigil writes one of each` });
  }
  // Anything in the directory that Vigil did not write.
  for (const f of (await source.foreign?.()) ?? []) {
    add({ kind: 'foreign file', object: f.name, detail: `${f.name} is ${f.what}: an archive holds only the files Vigil writes (a link or stray file there is someone else's doing)` });
  }
  // Checkpoints: the ones given (kept elsewhere: proof) and the archive's own (a hint a writer there could have replaced).
  let lastOpenSignedAt = 0;
  const given = (opts.checkpoints ?? []).filter((c) => c.archive === archiveId);
  for (const [origin, list] of [['--checkpoint', given], ['the archive\'s own checkpoint.txt', ownCheckpoints ?? []]] as const) {
    for (const cp of list) {
      if (cp.archive !== archiveId) continue;
      const problems = await checkReach(cp, origin, reach, source, opts.keys);
      for (const p of problems) add(p);
      report.checkpoints.push({ checkpoint: cp, origin, reached: problems.length === 0 });
      if (problems.length === 0 && cp.state === 'open' && cp.segment > (reach.lastSealed ?? 0)) lastOpenSignedAt = Math.max(lastOpenSignedAt, Date.parse(cp.time));
    }
  }
  if (lastManifest) {
    report.lastSealedAt = lastManifest.sealed_at;
    report.lastSealReason = lastManifest.seal_reason;
    // Vigil signs something at least every heartbeat while it runs (a seal, or a checkpoint of the open
    // segment); a stop without a shutdown seal leaves a tail nothing proves once two heartbeats have passed.
    // Where the open segment's checkpoints cannot be seen (S3, or checkpoint.txt gone), a segment holding
    // records is sealed only by age: then two of the longer of heartbeat and max_age.
    const restarted = reach.head !== undefined && reach.head.segment > lastManifest.segment;
    if ((lastManifest.seal_reason !== 'shutdown' || restarted) && opts.to === undefined) {
      const interval = ownCheckpoints ? lastManifest.heartbeat_ms : Math.max(lastManifest.heartbeat_ms, lastManifest.max_age_ms);
      const grace = opts.graceMs ?? interval;
      const signedAt = Math.max(Date.parse(lastManifest.sealed_at), lastOpenSignedAt);
      if (now > signedAt + interval + grace) {
        add({
          kind: 'gap',
          segment: lastManifest.segment + 1,
          detail: `unproven tail: nothing signed since ${new Date(signedAt).toISOString()} (${fmtAge(now - signedAt)} ago) although a running Vigil signs at least every ${fmtAge(interval)}: the newest segments were deleted, or Vigil stopped without a clean shutdown and has not been restarted to recover`,
        });
      }
    }
  }
  narrowRewrittenRuns(findings, report.checkpoints);
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
    const p = parseSegmentFileName(name);
    if (!p || (p.kind !== 'manifest' && p.kind !== 'sealed') || !v.deleted) continue;
    const n = p.segment;
    if (n < a || n > b) continue;
    if (which !== undefined && p.kind !== which) continue;
    const kept = v.versions.length;
    marked.push(`${name}${kept ? ` (${kept} locked version${kept > 1 ? 's' : ''} still retained under it)` : ''}`);
  }
  return marked.length ? `; hidden by S3 delete markers: ${marked.join(', ')}` : '';
}


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
  if (n.unsigned_from_seq !== undefined && n.unsigned_entries) {
    const a = n.unsigned_from_seq;
    const b = a + n.unsigned_entries - 1;
    add({
      severity: 'note',
      kind: 'recovered, unsigned before',
      segment,
      index: note.index,
      seq: a,
      detail: `entries seq ${a}${b > a ? `–${b}` : ''} (${n.unsigned_entries}) were written after the last signed checkpoint of the open segment and recovered after the unclean stop: nothing signed vouched for them before this seal`,
    });
  }
  if (n.behind_checkpoint) {
    const c = n.behind_checkpoint;
    add({
      kind: 'truncated',
      segment,
      index: note.index,
      seq: note.seq,
      detail: `at restart the archive ended before its own signed checkpoint of ${c.time} (segment ${c.segment}, seq ${c.entries}): entries after seq ${note.seq - 1} up to ${c.entries} had been deleted`,
    });
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

/**
 * A checkpoint of the open segment that the archive reaches proves every entry
 * up to its seq: a rewritten run that it falls into starts after it.
 */
function narrowRewrittenRuns(findings: Finding[], outcomes: readonly CheckpointOutcome[]): void {
  for (const f of findings) {
    if (f.runEndSeq === undefined || f.seq === undefined || f.index === undefined) continue;
    const from = f.seq;
    const proven = outcomes
      .filter((o) => o.reached && o.checkpoint.state === 'open' && o.checkpoint.segment === f.segment && o.checkpoint.entries >= from && o.checkpoint.entries < f.runEndSeq!)
      .map((o) => o.checkpoint.entries);
    if (proven.length === 0) continue;
    const upTo = Math.max(...proven);
    f.index += upTo + 1 - from;
    f.seq = upTo + 1;
    f.detail = `${f.detail.replace(/^entries seq \d+–(\d+) \(index \d+–(\d+)\)/, `entries seq ${f.seq}–$1 (index ${f.index}–$2)`).replace(/at or after index \d+/, `at or after index ${f.index}`)} (a signed checkpoint of the open segment proves the entries up to seq ${upTo})`;
  }
}

/** The open segment: unsealed records are reported as such, never as valid; breaks in them are still named. */
async function checkUnsealed(source: ArchiveSource, g: SegmentFiles, head: Head | undefined, report: VerifyReport, add: Add): Promise<Head | undefined> {
  const name = g.open ?? g.sealed!;
  let content: Buffer;
  try {
    if (g.open) content = plaintextOf(await source.read(name), source.archiveKey, g.segment, 'open');
    else content = (await decompressPartial(formatOfName(name), plaintextOf(await source.read(name), source.archiveKey, g.segment, 'sealed'))).content;
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
  // Loaded only here: entries.ts brings the protobuf codecs (~0.1 s of CPU), which a sealed archive's check does without.
  const { splitEntries, viewEntry } = await import('./entries.js');
  let prev = head?.hash;
  let seq = head ? head.seq + 1 : undefined;
  let records = 0;
  let index = 0;
  for (const u of splitEntries(content)) {
    if (!u.complete) break; // an append in progress (or a torn tail the next start repairs)
    const v = viewEntry(u);
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
