// The archive's write side: the open segment, appends with fsync group commit,
// sealing (compression + signed manifest), and start-up recovery. Entries are
// written in the configured format (v2 framed protobuf, or v1 JSON lines); a
// segment holds one format, named by its file name (layout.ts).
//
// Appends go through one serial loop: every batch waiting when the loop comes
// round is chained onto the durable head and written with one write + one fsync
// (GroupCommitFile), and only then acknowledged. A failed write (disk full) is
// cut back by GroupCommitFile and refused; the chain head stays where the disk
// is, so nothing after it links to bytes that are not there.
//
// Sealing is two-phase so appends never wait for compression: the loop closes
// the segment (a durable seal intent records its times) and opens the next at
// once; compression and the manifest follow in the background, strictly in
// segment order since each manifest names the previous one's hash.
import { lstat, mkdir, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { GroupCommitFile } from '../../util/group-commit.js';
import type { Logger } from '../../telemetry/logger.js';
import { GENESIS_HASH, type Note, encodeEntry, notePayload, sha256Hex } from './entry.js';
import { KIND_NOTE, KIND_RECORD, V2_HEADER, frameSize, writeFrame } from './frame.js';
import { compressSegment, compressSegmentFile } from './compression.js';
import { fsyncDir, unlinkIfExists, writeFileDurably } from '../../util/durable.js';
import { tryLock } from '../../util/lock-file.js';
import type { SigningKey } from './keys.js';
import { ARCHIVE_INFO_FILE, LOCK_FILE, type SegmentFormat, formatOfName, groupListing, segmentFileName } from './layout.js';
import { type Manifest, MANIFEST_VERSION, type SealReason, checkManifest, manifestHash, serializeSignedManifest, signManifest } from './manifest.js';
import { IncrementalMerkle } from './merkle.js';
import type { WormMetrics } from './metrics.js';
import { type Retention, retainUntil } from './retention.js';
import { scanSegment } from './scan.js';
import { LocalCheckpoints, type SignedCheckpoint, signCheckpoint } from './checkpoint.js';
import { APPEND_NOFOLLOW, assertNoLinks, readFileNoFollow, truncateNoFollow } from './safe-fs.js';
import { type ArchiveKey, ENCRYPTED_MAGIC, type ManifestEncryption, SegmentCipher, decryptSegmentFile, isEncryptedFile, parseEncryptedFile } from './encryption.js';

/** A record already encoded for its format (v1: the UTF-8 of `"record":{…}`, entry.ts; v2: encodeRecordRequest's bytes), or a note (encoded here, for the open segment's format). */
export type AppendItem =
  | {
      kind: 'record';
      format: SegmentFormat;
      payload: Uint8Array;
      /** Event time in ms (0: use the append time). */
      eventTime: number;
    }
  | { kind: 'note'; note: Note };

export interface SegmentLogOptions {
  directory: string;
  maxBytes: number;
  maxAgeMs: number;
  heartbeatMs: number;
  /** The format of the segments this writer opens: 2 (framed protobuf, zstd) or 1 (JSON lines, gzip). */
  format: SegmentFormat;
  /** Level of the sealed segments' compression (gzip for v1, zstd for v2). */
  compressionLevel: number;
  key: SigningKey;
  retention: Retention | undefined;
  logger: Logger;
  metrics?: WormMetrics;
  clock?: () => number;
  /** Encrypt segments (open and sealed) with a data key each, wrapped by this key (encryption.ts). */
  encryption?: ArchiveKey | undefined;
  /** Called after a segment's manifest is durably written (the uploader listens). */
  onSealed?: (segment: number, manifest: Manifest) => void;
  /** Called with every signed checkpoint (at each seal, and of the open segment every heartbeat). */
  onCheckpoint?: (cp: SignedCheckpoint) => void;
  /** The operator asked for a key rotation (signing.rotate): accept a key other than the one that signed the newest manifest. */
  allowKeyRotation?: boolean;
}

/** What the loop knows of the open segment. */
interface OpenSegment {
  segment: number;
  format: SegmentFormat;
  file: GroupCommitFile;
  openedAt: number;
  firstSeq: number;
  chainPrev: string;
  entries: number;
  records: number;
  notes: number;
  bytes: number;
  firstHash: string | null;
  lastHash: string | null;
  merkle: IncrementalMerkle;
  timeMin: number | undefined;
  timeMax: number | undefined;
  /** With encryption: the segment's data key, and how many chunks the open file holds. */
  cipher?: SegmentCipher | undefined;
  chunks: number;
  /** Bytes of the file on disk (header and chunk frames when encrypted; else equal to bytes). */
  fileBytes: number;
}

/** Written (fsync'd) when a segment is closed, before the next opens: what its manifest will say. */
interface SealIntent {
  segment: number;
  opened_at: number;
  sealed_at: number;
  seal_reason: SealReason;
  first_seq: number;
  chain_prev: string;
}

interface PendingAppend {
  items: AppendItem[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface RecoveryReport {
  /** True when the previous run did not end with a clean shutdown seal. */
  unclean: boolean;
  truncatedBytes: number;
  truncatedLines: number;
  openSegmentFound: boolean;
  /** Segments whose seal the previous run had begun and this start finished. */
  finishedSeals: number[];
}

export class ArchiveLockedError extends Error {}
export class ArchiveStateError extends Error {}
/** The configured key is not the one that signed the archive, and no rotation was asked for. */
export class KeyChangedError extends Error {}
/** Start-up (recovery) ran out of space: `file` is what was being written. */
export class ArchiveDiskFullError extends Error {
  constructor(
    readonly file: string,
    cause: Error,
  ) {
    super(`no space left on the device holding ${file} (${cause.message})`);
  }
}

function isNoSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

const SEALING_SUFFIX = '.sealing.json';

export class SegmentLog {
  readonly directory: string;
  archiveId = '';
  private readonly clock: () => number;
  private open: OpenSegment | undefined;
  private headSeq = 0;
  private headHash = GENESIS_HASH;
  private prevManifestHash = GENESIS_HASH;
  private lastSealedAt: number | undefined;
  /** When the previous run last wrote (for the recovery note). */
  private lastEntryAt: number | undefined;
  private nextSegment = 1;
  private queue: PendingAppend[] = [];
  private sealRequests: { reason: SealReason; final: boolean; done: () => void; fail: (e: unknown) => void }[] = [];
  private pumping: Promise<void> | undefined;
  /** Background seal work, in segment order. */
  private sealChain: Promise<void> = Promise.resolve();
  private pendingSeals = 0;
  private closed = false;
  private broken: Error | undefined;
  recovery: RecoveryReport | undefined;
  private readonly checkpoints: LocalCheckpoints;
  /** Log records through the newest finished seal, and through the durable head. */
  private sealedRecords = 0;
  private headRecords = 0;
  /** When something was last signed (a manifest or an open-segment checkpoint). */
  private lastSignedAt = 0;
  /** Set when this start rotates the key: the key id that signed the newest manifest. */
  private rotatedFrom: string | undefined;
  /** Entries recovered from the open segment that no signed checkpoint covered. */
  private unsigned: { fromSeq: number; entries: number } | undefined;
  /** A signed checkpoint on disk that reaches further than the archive now does. */
  private behind: SignedCheckpoint | undefined;

  constructor(private readonly opts: SegmentLogOptions) {
    this.directory = opts.directory;
    this.clock = opts.clock ?? Date.now;
    this.checkpoints = new LocalCheckpoints(opts.directory);
  }

  // ---- start-up ---------------------------------------------------------------

  /** Takes the directory lock, recovers whatever the last run left, opens a segment. */
  async start(): Promise<RecoveryReport> {
    await mkdir(this.directory, { recursive: true });
    await this.lock().catch(async (err: unknown) => {
      if (isNoSpace(err)) throw new ArchiveDiskFullError(join(this.directory, LOCK_FILE), err as Error);
      throw err;
    });
    try {
      await assertNoLinks(this.directory);
      this.recovery = await this.recover();
      await this.openSegment(this.clock());
      const notes: Note[] = [];
      if (this.recovery.unclean) {
        // Say in the chain what happened, then seal it at once: the gap since
        // the last entry is named by a signed manifest, not left to guesswork.
        const note: Note = {
          kind: 'recovery',
          truncated_bytes: this.recovery.truncatedBytes,
          open_segment_found: this.recovery.openSegmentFound,
        };
        if (this.recovery.truncatedLines > 0) note.truncated_lines = this.recovery.truncatedLines;
        if (this.lastEntryAt !== undefined) note.last_entry_at = new Date(this.lastEntryAt).toISOString();
        if (!this.recovery.openSegmentFound) note.detail = 'the previous run stopped uncleanly and its open segment was missing';
        if (this.unsigned) {
          note.unsigned_from_seq = this.unsigned.fromSeq;
          note.unsigned_entries = this.unsigned.entries;
        }
        if (this.behind) note.behind_checkpoint = { segment: this.behind.segment, entries: this.behind.entries, time: this.behind.time };
        notes.push(note);
        this.opts.metrics?.repairs.inc(this.opts.metrics.labels);
      }
      if (this.rotatedFrom) {
        notes.push({ kind: 'key rotation', previous_key_id: this.rotatedFrom, key_id: this.opts.key.keyId });
      }
      if (notes.length > 0) {
        // The first manifest signed by a new key is sealed for reason `rotation`: verify accepts a key change only there.
        await this.append(notes.map((note) => ({ kind: 'note' as const, note })));
        await this.seal(this.rotatedFrom ? 'rotation' : 'recovery');
      }
    } catch (err) {
      const file = this.open ? this.openPath(this.open) : this.directory;
      await this.abandon();
      if (isNoSpace(err)) throw new ArchiveDiskFullError(file, err as Error);
      throw err;
    }
    return this.recovery;
  }

  /**
   * One writer per directory: a lock file naming the holder's pid and start time
   * (so that a container restarted with the same pid does not lock itself out),
   * plus this process's own set of held directories.
   */
  private async lock(): Promise<void> {
    const path = join(this.directory, LOCK_FILE);
    const r = await tryLock(path);
    if (!r.acquired) {
      const who = r.owner === 'this process' ? 'this process' : `process ${r.owner}`;
      throw new ArchiveLockedError(`archive ${this.directory} is in use by ${who} (${path}): one writer per archive directory`);
    }
    this.releaseLock = r.release;
  }

  private releaseLock: (() => Promise<void>) | undefined;

  private async unlock(): Promise<void> {
    await this.releaseLock?.();
    this.releaseLock = undefined;
  }

  private async recover(): Promise<RecoveryReport> {
    const dir = this.directory;
    const names = await readdir(dir);
    const local = await this.checkpoints.load(this.opts.key);
    for (const n of names) if (n.endsWith('.tmp')) await unlinkIfExists(join(dir, n));
    const intents = new Map<number, SealIntent>();
    for (const n of names.filter((x) => x.endsWith(SEALING_SUFFIX))) {
      const seg = Number(n.slice('segment-'.length, n.length - SEALING_SUFFIX.length));
      try {
        intents.set(seg, JSON.parse(await readFile(join(dir, n), 'utf8')) as SealIntent);
      } catch {
        await unlinkIfExists(join(dir, n)); // written atomically, so a bad one is a stray: the segment is then the open one
      }
    }
    const groups = groupListing(names.filter((n) => !n.endsWith('.tmp')).map((name) => ({ name })));
    const manifests = groups.filter((g) => g.manifest);
    const last = manifests[manifests.length - 1];
    let lastReason: SealReason | undefined;
    if (last) {
      const checked = checkManifest(await readFileNoFollow(join(dir, last.manifest!)), new Map([[this.opts.key.keyId, { keyId: this.opts.key.keyId, key: this.opts.key.publicKey, source: 'signing key' }]]));
      const m = checked.manifest;
      if (!m || (checked.problem && checked.problem.kind !== 'unknown key')) {
        throw new ArchiveStateError(`the newest manifest ${last.manifest} is not valid (${checked.problem?.detail}): run \`vigil verify ${dir}\`; Vigil will not extend a chain it cannot trust`);
      }
      if (m.key_id !== this.opts.key.keyId) {
        if (!this.opts.allowKeyRotation) {
          throw new KeyChangedError(
            `the archive ${dir} was signed by key ${m.key_id} (newest manifest ${last.manifest}), but the configured signing key is ${this.opts.key.keyId}: ` +
              'restore the archive\'s key file, or rotate deliberately with `vigil keys rotate --config FILE` or `signing.rotate: true` in the worm exporter\'s config; the rotation is then recorded in the chain',
          );
        }
        if (intents.size > 0) throw new ArchiveStateError(`a seal interrupted by a crash must be finished with key ${m.key_id} before rotating: start once with that key, then rotate`);
        this.rotatedFrom = m.key_id;
      }
      this.archiveId = m.archive_id;
      this.sealedRecords = await this.countSealedRecords(groups, m.segment, local.sealed);
      this.headSeq = m.first_seq + m.entries - 1;
      this.headHash = m.last_hash ?? m.chain_prev;
      this.prevManifestHash = checked.hash!;
      this.nextSegment = m.segment + 1;
      this.lastSealedAt = Date.parse(m.sealed_at);
      this.lastSignedAt = this.lastSealedAt;
      this.lastEntryAt = this.lastSealedAt;
      lastReason = m.seal_reason;
    } else {
      const info = await readFile(join(dir, ARCHIVE_INFO_FILE), 'utf8').then((t) => JSON.parse(t) as { archive_id?: string }).catch(() => undefined);
      this.archiveId = info?.archive_id ?? newArchiveId(this.clock());
      if (!info?.archive_id) {
        await writeFileDurably(dir, ARCHIVE_INFO_FILE, Buffer.from(`${JSON.stringify({ archive_id: this.archiveId, created_at: new Date(this.clock()).toISOString(), format: 'vigil-worm/1' }, null, 2)}\n`));
      }
    }
    // Leftovers of seals that completed (manifest written) but were not cleaned up.
    for (const g of groups) {
      if (g.segment < this.nextSegment && g.open) {
        if (!g.manifest || !g.sealed) throw new ArchiveStateError(`${g.open} sits below the newest manifest without its own sealed file and manifest: move it aside and run \`vigil verify ${dir}\``);
        await unlinkIfExists(join(dir, g.open));
      }
    }
    for (const seg of intents.keys()) if (seg < this.nextSegment) await unlinkIfExists(join(dir, sealingName(seg)));

    const pending = groups.filter((g) => g.segment >= this.nextSegment && g.open);
    const report: RecoveryReport = { unclean: false, truncatedBytes: 0, truncatedLines: 0, openSegmentFound: false, finishedSeals: [] };
    const fresh = !last && pending.length === 0;
    pending.forEach((g, i) => {
      if (g.segment !== this.nextSegment + i) {
        throw new ArchiveStateError(`unsealed segment files are out of sequence (expected ${segmentFileName(this.nextSegment + i, 'open')}, found ${g.open}): move the stray files aside and run \`vigil verify ${dir}\``);
      }
    });
    for (const g of pending) {
      const path = join(dir, g.open!);
      const opened = await this.readOpenFile(path, g.segment);
      const buf = opened.content;
      const scan = scanSegment(buf, this.headSeq + 1, this.headHash);
      const intent = intents.get(g.segment);
      if (scan.cutBytes > 0 || opened.tornBytes > 0) {
        if (intent) throw new ArchiveStateError(`${g.open} was closed for sealing but does not read back intact (${scan.problem ?? 'torn encrypted chunk'}): run \`vigil verify ${dir}\``);
        // An encrypted chunk is written whole or torn, never half-valid: a chain break inside one is not a torn write.
        if (opened.encrypted && scan.cutBytes > 0) throw new ArchiveStateError(`${g.open} holds an authentic encrypted chunk whose entries do not continue the chain (${scan.problem}): run \`vigil verify ${dir}\``);
        const cut = scan.cutBytes + opened.tornBytes;
        this.opts.logger.warn({ file: g.open, cut_bytes: cut, cut_lines: scan.cutLines, problem: scan.problem ?? 'torn encrypted chunk' }, 'cutting a torn tail left by an unclean stop');
        opened.fileBytes = opened.encrypted ? opened.fileBytes : scan.validBytes;
        await truncateNoFollow(path, opened.fileBytes);
        report.truncatedBytes += cut;
        report.truncatedLines += scan.cutLines;
      }
      if (g.sealed) await unlinkIfExists(join(dir, g.sealed)); // a seal that did not finish: redo it
      const merkle = new IncrementalMerkle();
      for (const h of scan.hashes) merkle.push(h);
      const firstSeq = this.headSeq + 1;
      const chainPrev = this.headHash;
      this.checkAgainstCheckpoint(local.open, g.open!, firstSeq, scan.hashes);
      this.headSeq += scan.entries;
      this.headRecords = this.sealedRecords + scan.records;
      this.headHash = scan.lastHash ?? this.headHash;
      if (scan.lastAt !== undefined) this.lastEntryAt = scan.lastAt;
      const openedAt = intent?.opened_at ?? (lastReason !== undefined && lastReason !== 'shutdown' && this.lastSealedAt !== undefined ? this.lastSealedAt : (scan.firstAt ?? this.clock()));
      const state: OpenSegment = {
        segment: g.segment,
        format: formatOfName(g.open!),
        file: undefined as unknown as GroupCommitFile,
        openedAt,
        firstSeq,
        chainPrev,
        entries: scan.entries,
        records: scan.records,
        notes: scan.notes,
        bytes: scan.validBytes,
        firstHash: scan.firstHash,
        lastHash: scan.lastHash,
        merkle,
        timeMin: scan.timeMin,
        timeMax: scan.timeMax,
        cipher: opened.cipher,
        chunks: opened.chunks,
        fileBytes: opened.fileBytes,
      };
      this.nextSegment = g.segment + 1;
      if (intent) {
        await this.finishSeal(state, intent);
        report.finishedSeals.push(g.segment);
        lastReason = intent.seal_reason;
      } else {
        // The segment the previous run had open: keep appending to it.
        report.openSegmentFound = true;
        state.file = await GroupCommitFile.open(path, APPEND_NOFOLLOW);
        if (this.opts.encryption && !state.cipher && state.fileBytes === 0) await this.writeHeader(state); // torn before its header was durable
        this.open = state;
        lastReason = undefined;
      }
    }
    // A seal the previous run had begun accounts for its open segment too.
    if (report.finishedSeals.length > 0) report.openSegmentFound = true;
    this.headRecords = Math.max(this.headRecords, this.sealedRecords);
    // Our own signed checkpoints reach further than the files do: the tail was deleted.
    for (const cp of [local.sealed, local.open]) {
      if (cp && cp.archive === this.archiveId && cp.entries > this.headSeq && (!this.behind || cp.entries > this.behind.entries)) this.behind = cp;
    }
    if (this.behind) {
      this.opts.logger.error(
        { checkpoint: this.behind.text, archive_head_seq: this.headSeq },
        'the archive ends before its own signed checkpoint: entries were deleted; the loss is recorded in the chain',
      );
    }
    report.unclean = (!fresh && lastReason !== 'shutdown') || this.behind !== undefined;
    return report;
  }

  /**
   * The unsealed tail must match the last signed checkpoint of its segment: a
   * rewrite of an entry it covers changes the hash at the checkpoint's seq.
   * Such a tail is never sealed (that would sign the forgery). Entries after
   * the checkpoint are sealed as recovered, unsigned before.
   */
  private checkAgainstCheckpoint(cp: SignedCheckpoint | undefined, file: string, firstSeq: number, hashes: Buffer[]): void {
    const lastSeq = firstSeq + hashes.length - 1;
    let covered = firstSeq - 1;
    if (cp && cp.archive === this.archiveId && cp.entries >= firstSeq && cp.entries <= lastSeq) {
      const found = hashes[cp.entries - firstSeq].toString('hex');
      if (found !== cp.head) {
        throw new ArchiveStateError(
          `${join(this.directory, file)} does not match the signed checkpoint of ${cp.time} (entry seq ${cp.entries} has hash ${found.slice(0, 16)}…, the checkpoint ${cp.head.slice(0, 16)}…): ` +
            'unsealed entries were rewritten after they were written. Vigil will not seal (sign) them. Keep the file aside as evidence, ' +
            `run \`vigil verify ${this.directory}\`, and move the file out of the archive to start again (the loss is then recorded in the chain)`,
        );
      }
      covered = cp.entries;
    }
    if (lastSeq > covered) {
      const fromSeq = this.unsigned?.fromSeq ?? covered + 1;
      this.unsigned = { fromSeq, entries: lastSeq - fromSeq + 1 };
    }
  }

  /** Log records in sealed segments up to `newest`: from our own sealed checkpoint when it is there, else by reading every manifest. */
  private async countSealedRecords(groups: ReturnType<typeof groupListing>, newest: number, cp: SignedCheckpoint | undefined): Promise<number> {
    let total = 0;
    let from = 1;
    if (cp && cp.archive === this.archiveId && cp.segment <= newest) {
      const g = groups.find((x) => x.segment === cp.segment && x.manifest);
      const bytes = g && (await readFileNoFollow(join(this.directory, g.manifest!)).catch(() => undefined));
      const mh = bytes && checkManifest(bytes, new Map()).hash;
      if (mh === cp.manifest) {
        total = cp.records;
        from = cp.segment + 1;
      }
    }
    for (const g of groups) {
      if (g.segment < from || g.segment > newest || !g.manifest) continue;
      const bytes = await readFileNoFollow(join(this.directory, g.manifest));
      total += checkManifest(bytes, new Map()).manifest?.records ?? 0;
    }
    return total;
  }

  /**
   * Signs a checkpoint of the open segment's durable head when a heartbeat has
   * passed since anything was last signed, so that an unsealed entry older than
   * one heartbeat cannot be rewritten unnoticed.
   */
  async checkpointOpen(now = this.clock()): Promise<void> {
    const s = this.open;
    if (!s || s.entries === 0 || now - this.lastSignedAt < this.opts.heartbeatMs) return;
    this.lastSignedAt = now;
    const cp = signCheckpoint(
      { archive: this.archiveId, segment: s.segment, state: 'open', entries: this.headSeq, records: this.headRecords, head: this.headHash, manifest: undefined, time: new Date(now).toISOString() },
      this.opts.key,
    );
    await this.checkpoints.record(cp);
    this.opts.onCheckpoint?.(cp);
  }

  /** An open segment file's plaintext: decrypted when encrypted (a torn last chunk left out), as is otherwise. */
  private async readOpenFile(path: string, segment: number): Promise<{ content: Buffer; encrypted: boolean; cipher: SegmentCipher | undefined; chunks: number; fileBytes: number; tornBytes: number }> {
    const buf = await readFileNoFollow(path);
    if (!isEncryptedFile(buf)) {
      // Shorter than the magic: a file torn before its header was durable.
      if (this.opts.encryption && buf.length < ENCRYPTED_MAGIC.length && ENCRYPTED_MAGIC.subarray(0, buf.length).equals(buf)) return { content: Buffer.alloc(0), encrypted: true, cipher: undefined, chunks: 0, fileBytes: 0, tornBytes: buf.length };
      return { content: buf, encrypted: false, cipher: undefined, chunks: 0, fileBytes: buf.length, tornBytes: 0 };
    }
    if (!this.opts.encryption) throw new ArchiveStateError(`${path} is encrypted but exporters.worm.encryption.key_file is not configured: configure the archive key to continue this archive`);
    if (!parseEncryptedFile(buf)) return { content: Buffer.alloc(0), encrypted: true, cipher: undefined, chunks: 0, fileBytes: 0, tornBytes: buf.length };
    const d = decryptSegmentFile(buf, this.opts.encryption, { archiveId: this.archiveId, segment, form: 'open' });
    return { content: d.content, encrypted: true, cipher: d.cipher, chunks: d.chunks, fileBytes: d.completeBytes, tornBytes: d.tornBytes };
  }

  /** Starts an encrypted open segment: a fresh data key, its header durable before any entry. */
  private async writeHeader(seg: OpenSegment): Promise<void> {
    seg.cipher = await SegmentCipher.create(this.opts.encryption!, this.archiveId, seg.segment, seg.openedAt);
    const header = seg.cipher.fileHeader('open');
    await seg.file.append(header);
    seg.fileBytes = header.length;
  }

  // ---- appends ------------------------------------------------------------------

  /** Appends entries; resolves once they are fsync'd. */
  append(items: AppendItem[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the archive is closed'));
    if (this.broken) return Promise.reject(this.broken);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      this.pump();
    });
  }

  /** Closes the open segment and seals it (even when empty); resolves once the segment is closed (the manifest follows in the background). */
  seal(reason: SealReason, final = false): Promise<void> {
    return new Promise<void>((done, fail) => {
      this.sealRequests.push({ reason, final, done, fail });
      this.pump();
    });
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = (async () => {
      try {
        while (this.queue.length > 0 || this.sealRequests.length > 0) {
          if (this.queue.length > 0) {
            const group = this.queue;
            this.queue = [];
            await this.writeGroup(group).catch((err: unknown) => {
              for (const p of group) p.reject(err); // an unexpected failure: refuse (retryable), never crash the loop
            });
            if (this.open && this.open.bytes >= this.opts.maxBytes) {
              await this.switchSegment('size', false).catch((err: Error) =>
                this.opts.logger.error({ err: err.message }, 'sealing a full segment failed; it stays open and is sealed on a later attempt'),
              );
            }
          } else {
            const req = this.sealRequests.shift()!;
            try {
              if (this.open) await this.switchSegment(req.reason, req.final);
              req.done();
            } catch (err) {
              req.fail(err);
            }
          }
        }
      } finally {
        this.pumping = undefined;
      }
    })();
  }

  private async writeGroup(group: PendingAppend[]): Promise<void> {
    if (!this.open && !this.closed) await this.openSegment(this.clock()).catch(() => undefined);
    const seg = this.open;
    if (!seg) {
      const err = new Error(this.closed ? 'the archive is closing' : 'no open segment could be created (is the disk full?)');
      for (const p of group) p.reject(err);
      return;
    }
    const at = this.clock();
    const { units, hashes, bytes, seq, prev } = encodeGroup(seg, group, at, this.headSeq, this.headHash);
    const plain = units.length === 1 ? units[0] : Buffer.concat(units, bytes);
    const onDisk = seg.cipher ? seg.cipher.chunk(plain, 'open', seg.chunks) : plain;
    try {
      await seg.file.append(onDisk);
    } catch (err) {
      // GroupCommitFile cut the file back to its durable size; make sure of it, since
      // the next group is chained onto the durable head.
      await this.ensureDurableSize(seg).catch((e: Error) => {
        this.broken = new Error(`the open segment could not be cut back after a failed write (${e.message}); restart Vigil to recover it`);
      });
      this.opts.metrics?.appendFailures.inc(this.opts.metrics.labels);
      for (const p of group) p.reject(err);
      return;
    }
    let i = 0;
    for (const p of group) {
      for (const it of p.items) {
        if (it.kind === 'record') this.headRecords++;
        const raw = hashes[i++];
        seg.merkle.push(raw);
        seg.firstHash ??= raw.toString('hex');
        seg.entries++;
        if (it.kind === 'record') {
          seg.records++;
          const t = it.eventTime > 0 ? it.eventTime : at;
          seg.timeMin = seg.timeMin === undefined ? t : Math.min(seg.timeMin, t);
          seg.timeMax = seg.timeMax === undefined ? t : Math.max(seg.timeMax, t);
        } else seg.notes++;
      }
    }
    if (hashes.length > 0) seg.lastHash = prev;
    seg.bytes += bytes;
    seg.fileBytes += onDisk.length;
    if (seg.cipher) seg.chunks++;
    this.headSeq = seq;
    this.headHash = prev;
    const m = this.opts.metrics;
    if (m) {
      m.appendedBytes.inc(m.labels, bytes);
      m.openSegmentBytes.set(m.labels, seg.bytes);
    }
    for (const p of group) p.resolve();
  }

  private async ensureDurableSize(seg: OpenSegment): Promise<void> {
    const path = this.openPath(seg);
    if ((await lstat(path)).size !== seg.fileBytes) await truncateNoFollow(path, seg.fileBytes);
  }

  private openPath(seg: OpenSegment): string {
    return join(this.directory, segmentFileName(seg.segment, 'open', seg.format));
  }

  // ---- sealing --------------------------------------------------------------------

  /** How long the open segment has been open, and whether it holds entries. */
  openSegmentState(): { segment: number; openedAt: number; entries: number; records: number; bytes: number } | undefined {
    const s = this.open;
    return s && { segment: s.segment, openedAt: s.openedAt, entries: s.entries, records: s.records, bytes: s.bytes };
  }

  /** Whether a timer-driven seal is due now: age for a segment with entries, heartbeat for an empty one. */
  sealDue(now = this.clock()): SealReason | undefined {
    const s = this.open;
    if (!s) return undefined;
    if (s.entries > 0 && now - s.openedAt >= this.opts.maxAgeMs) return 'age';
    if (s.entries === 0 && now - s.openedAt >= this.opts.heartbeatMs) return 'heartbeat';
    return undefined;
  }

  /** Closes the open segment, records the seal intent, opens the next, and queues the background seal. */
  private async switchSegment(reason: SealReason, final: boolean): Promise<void> {
    const seg = this.open!;
    const sealedAt = this.clock();
    const intent: SealIntent = {
      segment: seg.segment,
      opened_at: seg.openedAt,
      sealed_at: sealedAt,
      seal_reason: reason,
      first_seq: seg.firstSeq,
      chain_prev: seg.chainPrev,
    };
    await seg.file.close();
    try {
      await writeFileDurably(this.directory, sealingName(seg.segment), Buffer.from(JSON.stringify(intent)));
    } catch (err) {
      // Not closed after all: keep appending to it and try sealing again later.
      seg.file = await GroupCommitFile.open(this.openPath(seg), APPEND_NOFOLLOW);
      this.opts.metrics?.sealFailures.inc(this.opts.metrics.labels);
      throw err;
    }
    this.open = undefined;
    // The next segment exists before this one's seal can finish: after a crash, a
    // non-final manifest without a successor file can then only mean a deletion.
    if (!final) await this.openSegment(sealedAt).catch((err: Error) => this.opts.logger.error({ err: err.message }, 'cannot open the next segment yet; appends are refused until it opens'));
    this.pendingSeals++;
    this.sealChain = this.sealChain.then(() => this.finishSealWithRetry(seg, intent));
  }

  private async openSegment(openedAt: number): Promise<void> {
    if (this.open) return;
    const n = this.nextSegment;
    const format = this.opts.format;
    const path = join(this.directory, segmentFileName(n, 'open', format));
    const file = await GroupCommitFile.open(path, APPEND_NOFOLLOW);
    try {
      await fsyncDir(this.directory);
    } catch (err) {
      // fsyncDir needs a descriptor of its own: out of them (EMFILE), do not leak the segment's on every retry.
      await file.close().catch(() => undefined);
      throw err;
    }
    this.nextSegment++;
    const seg: OpenSegment = {
      segment: n,
      format,
      file,
      openedAt,
      firstSeq: this.headSeq + 1,
      chainPrev: this.headHash,
      entries: 0,
      records: 0,
      notes: 0,
      bytes: 0,
      firstHash: null,
      lastHash: null,
      merkle: new IncrementalMerkle(),
      timeMin: undefined,
      timeMax: undefined,
      chunks: 0,
      fileBytes: 0,
    };
    if (this.opts.encryption) await this.writeHeader(seg);
    this.open = seg;
    this.opts.metrics?.openSegmentBytes.set(this.opts.metrics.labels, 0);
  }

  private async finishSealWithRetry(seg: OpenSegment, intent: SealIntent): Promise<void> {
    let delay = 500;
    for (;;) {
      try {
        await this.finishSeal(seg, intent);
        this.pendingSeals--;
        return;
      } catch (err) {
        this.opts.metrics?.sealFailures.inc(this.opts.metrics.labels);
        this.opts.logger.error({ segment: seg.segment, err: (err as Error).message }, 'sealing failed; retrying');
        if (this.closed && delay > 8000) {
          this.pendingSeals--;
          this.opts.logger.error({ segment: seg.segment }, 'giving up sealing at shutdown; the next start finishes it');
          return;
        }
        await new Promise((r) => setTimeout(r, delay).unref());
        delay = Math.min(delay * 2, 30_000);
      }
    }
  }

  /** Compresses the closed segment, writes its signed manifest, removes the plain file. */
  private async finishSeal(seg: OpenSegment, intent: SealIntent): Promise<void> {
    const started = performance.now();
    const dir = this.directory;
    const plain = this.openPath(seg);
    const sealedName = segmentFileName(seg.segment, 'sealed', seg.format);
    const size = (await lstat(plain)).size;
    if (size !== seg.fileBytes) throw new ArchiveStateError(`${plain} is ${size} bytes where ${seg.fileBytes} were written: it was changed while open`);
    let sealedFile: { sha256: string; bytes: number; encryption?: ManifestEncryption };
    if (this.opts.encryption) sealedFile = await this.sealEncrypted(seg, plain, sealedName);
    else {
      sealedFile = await compressSegmentFile(seg.format, plain, join(dir, `${sealedName}.tmp`), this.opts.compressionLevel);
      await renameDurably(dir, `${sealedName}.tmp`, sealedName);
    }
    const { sha256, bytes } = sealedFile;
    const manifest: Manifest = {
      version: MANIFEST_VERSION,
      archive_id: this.archiveId,
      segment: seg.segment,
      file: sealedName,
      segment_sha256: sha256,
      segment_bytes: bytes,
      content_bytes: seg.bytes,
      first_seq: intent.first_seq,
      entries: seg.entries,
      records: seg.records,
      notes: seg.notes,
      chain_prev: intent.chain_prev,
      first_hash: seg.firstHash,
      last_hash: seg.lastHash,
      merkle_root: seg.merkle.root().toString('hex'),
      time_min: seg.timeMin === undefined ? null : new Date(seg.timeMin).toISOString(),
      time_max: seg.timeMax === undefined ? null : new Date(seg.timeMax).toISOString(),
      opened_at: new Date(intent.opened_at).toISOString(),
      sealed_at: new Date(intent.sealed_at).toISOString(),
      seal_reason: intent.seal_reason,
      heartbeat_ms: this.opts.heartbeatMs,
      max_age_ms: this.opts.maxAgeMs,
      retain_until: this.opts.retention ? new Date(retainUntil(this.opts.retention, intent.sealed_at)).toISOString() : null,
      prev_manifest: this.prevManifestHash,
      key_id: this.opts.key.keyId,
    };
    if (sealedFile.encryption) manifest.encryption = sealedFile.encryption;
    const signed = signManifest(manifest, this.opts.key.privateKey);
    await writeFileDurably(dir, segmentFileName(seg.segment, 'manifest'), serializeSignedManifest(signed));
    this.prevManifestHash = manifestHash(manifest);
    this.lastSealedAt = intent.sealed_at;
    this.sealedRecords += seg.records;
    this.lastSignedAt = Math.max(this.lastSignedAt, intent.sealed_at);
    const cp = signCheckpoint(
      {
        archive: this.archiveId,
        segment: seg.segment,
        state: 'sealed',
        entries: intent.first_seq + seg.entries - 1,
        records: this.sealedRecords,
        head: seg.lastHash ?? intent.chain_prev,
        manifest: this.prevManifestHash,
        time: manifest.sealed_at,
      },
      this.opts.key,
    );
    // The manifest is written: a failure to keep the local copy must not redo the seal.
    await this.checkpoints.record(cp).catch((err: Error) => this.opts.logger.warn({ err: err.message }, 'could not write the local checkpoint file'));
    await unlinkIfExists(plain);
    await unlinkIfExists(join(dir, sealingName(seg.segment)));
    await fsyncDir(dir);
    const m = this.opts.metrics;
    if (m) {
      m.sealedSegments.inc({ ...m.labels, reason: intent.seal_reason });
      m.sealSeconds.observe(m.labels, (performance.now() - started) / 1000);
      m.lastSealTime.set(m.labels, intent.sealed_at / 1000);
    }
    this.opts.logger.debug({ segment: seg.segment, entries: seg.entries, reason: intent.seal_reason }, 'segment sealed');
    this.opts.onSealed?.(seg.segment, manifest);
    this.opts.onCheckpoint?.(cp);
  }

  /** Encrypted seal: decrypt the open file in memory, compress, encrypt with the segment's data key, write durably. */
  private async sealEncrypted(seg: OpenSegment, path: string, sealedName: string): Promise<{ sha256: string; bytes: number; encryption: ManifestEncryption }> {
    const stored = await readFileNoFollow(path);
    // A segment opened before encryption was configured is plaintext; it is sealed encrypted all the same.
    const content = seg.cipher ? decryptSegmentFile(stored, this.opts.encryption!, { archiveId: this.archiveId, segment: seg.segment, form: 'open' }).content : stored;
    const cipher = seg.cipher ?? (await SegmentCipher.create(this.opts.encryption!, this.archiveId, seg.segment, seg.openedAt));
    const sealed = cipher.sealedFile(await compressSegment(seg.format, content, this.opts.compressionLevel));
    await writeFileDurably(this.directory, sealedName, sealed);
    return { sha256: sha256Hex(sealed), bytes: sealed.length, encryption: cipher.manifestEntry() };
  }

  /** Resolves once every background seal queued so far has finished. */
  async flushSeals(): Promise<void> {
    let chain: Promise<void>;
    do {
      chain = this.sealChain;
      await chain;
    } while (chain !== this.sealChain);
  }

  get sealsPending(): number {
    return this.pendingSeals;
  }

  get lastSealTime(): number | undefined {
    return this.lastSealedAt;
  }

  // ---- shutdown -------------------------------------------------------------------

  /** Seals the open segment as the run's last (`shutdown`), waits for every seal, releases the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.seal('shutdown', true);
    while (this.pumping) await this.pumping;
    await this.flushSeals();
    await this.unlock();
  }

  /** Drops everything without sealing (start-up failure, or a test simulating a crash). */
  async abandon(): Promise<void> {
    this.closed = true;
    while (this.pumping) await this.pumping.catch(() => undefined);
    await this.open?.file?.close().catch(() => undefined);
    this.open = undefined;
    await this.unlock().catch(() => undefined);
  }

  get head(): { seq: number; hash: string } {
    return { seq: this.headSeq, hash: this.headHash };
  }
}

function sealingName(segment: number): string {
  return `segment-${String(segment).padStart(12, '0')}${SEALING_SUFFIX}`;
}

function newArchiveId(now: number): string {
  const d = new Date(now).toISOString().slice(0, 10).replaceAll('-', '');
  return `${d}-${randomBytes(4).toString('hex')}`;
}



async function renameDurably(dir: string, from: string, to: string): Promise<void> {
  await rename(join(dir, from), join(dir, to));
  await fsyncDir(dir);
}

/**
 * Chains a group's entries onto the durable head in the open segment's format:
 * the bytes to append (the v2 header first when the segment is still empty),
 * each entry's hash, and the new head.
 */
function encodeGroup(seg: OpenSegment, group: PendingAppend[], at: number, headSeq: number, headHash: string): { units: Buffer[]; hashes: Buffer[]; bytes: number; seq: number; prev: string } {
  let seq = headSeq;
  const units: Buffer[] = [];
  const hashes: Buffer[] = [];
  let bytes = 0;
  if (seg.format === 2) {
    if (seg.bytes === 0) bytes += V2_HEADER.length;
    // Every entry of the group is written in place into one buffer: no buffer per entry, no concatenation.
    const payloads: Uint8Array[] = [];
    for (const p of group) {
      for (const it of p.items) {
        if (it.kind === 'record' && it.format !== 2) throw new ArchiveStateError(`a v${it.format} record cannot be appended to the v2 segment ${seg.segment}`);
        const payload = it.kind === 'record' ? it.payload : Buffer.from(JSON.stringify(it.note));
        payloads.push(payload);
        bytes += frameSize(payload.length);
      }
    }
    const out = Buffer.allocUnsafe(bytes);
    let pos = 0;
    if (seg.bytes === 0) pos = V2_HEADER.copy(out, 0);
    let prev: Buffer = Buffer.from(headHash, 'hex');
    let k = 0;
    for (const p of group) {
      for (const it of p.items) {
        const payload = payloads[k++];
        prev = writeFrame(out, pos, it.kind === 'record' ? KIND_RECORD : KIND_NOTE, ++seq, at, prev, payload);
        hashes.push(prev);
        pos += frameSize(payload.length);
      }
    }
    units.push(out);
    return { units, hashes, bytes, seq, prev: prev.toString('hex') };
  }
  let prev = headHash;
  for (const p of group) {
    for (const it of p.items) {
      if (it.kind === 'record' && it.format !== 1) throw new ArchiveStateError(`a v${it.format} record cannot be appended to the v1 segment ${seg.segment}`);
      const e = encodeEntry(++seq, at, prev, it.kind === 'record' ? (it.payload as Buffer) : notePayload(it.note));
      units.push(e.line);
      hashes.push(e.raw);
      bytes += e.line.length;
      prev = e.hash;
    }
  }
  return { units, hashes, bytes, seq, prev };
}
