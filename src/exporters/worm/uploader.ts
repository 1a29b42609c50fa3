// Uploads sealed segments and their manifests to S3 with Object Lock, in
// segment order, one at a time, retrying with backoff. While S3 is down the
// sealed segments simply wait in the local directory (the backlog); nothing is
// acknowledged on S3's account, so an outage never refuses data.
//
// Each object is a single PUT with Content-MD5 (AWS requires an integrity
// header on PUTs carrying lock parameters), the lock mode and retain-until
// date, optional legal hold and server-side encryption. Keys are unique
// (prefix/archive-id/segment-N…) and never overwritten: an existing object with
// the same content is taken as already uploaded (a retry after a crash), one
// with different content stops the uploader with an error. After the PUT the
// lock is read back; only then is a local receipt written and the local copy
// eligible for pruning.
import { createHash } from 'node:crypto';
import { readFile, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '../../telemetry/logger.js';
import type { S3Config } from './config.js';
import { writeFileDurably } from '../../util/durable.js';
import { groupListing, parseSegmentFileName, segmentFileName } from './layout.js';
import { readFileNoFollow } from './safe-fs.js';
import type { Manifest } from './manifest.js';
import type { WormMetrics } from './metrics.js';
import { bucketObjectLock, createS3Client, describeS3Error, errorName, headObjectLock, normalizePrefix, s3sdk } from './s3.js';
import { EncryptionRefusedError, describeEncryption, encryptionMismatch, encryptionOf, probeEncryption, ssePutParams } from './sse.js';

export class UploadRefusedError extends Error {}

export interface UploaderOptions {
  directory: string;
  archiveId: string;
  s3: S3Config;
  logger: Logger;
  metrics?: WormMetrics | undefined;
  localRetentionMs?: number | undefined;
  clock?: () => number;
  client?: S3Client;
}

export interface UploadReceipt {
  bucket: string;
  segment: { key: string; version_id: string | null; md5: string; bytes: number };
  manifest: { key: string; version_id: string | null; md5: string; bytes: number };
  lock: { mode: string | null; retain_until: string | null; legal_hold: boolean };
  uploaded_at: string;
}

export interface UploaderStatus {
  backlog: number;
  lastUploadAt: number | undefined;
  lastError: string | undefined;
  bucketLocked: boolean | undefined;
}

export class Uploader {
  private s3client: S3Client | undefined;
  readonly bucket: string;
  private archiveId: string;
  private readonly clock: () => number;
  private backlog: number[] = [];
  private loop: Promise<void> | undefined;
  private stopped = false;
  private readonly abort = new AbortController();
  private wakeUp: (() => void) | undefined;
  private readonly attemptListeners = new Set<() => void>();
  private bucketLocked: boolean | undefined;
  /** Whether the configured server-side encryption was probed and honoured. */
  private encryptionProbed = false;
  private failuresInARow = 0;
  private lastUploadAt: number | undefined;
  private lastError: string | undefined;

  constructor(private readonly opts: UploaderOptions) {
    this.s3client = opts.client;
    this.bucket = opts.s3.bucket;
    this.archiveId = opts.archiveId;
    this.clock = opts.clock ?? Date.now;
  }

  get client(): S3Client {
    if (!this.s3client) throw new Error('the uploader is not started (preflight first)');
    return this.s3client;
  }

  /** prefix/archive-id/: keys are unique per archive, so several Vigil instances can share a prefix. */
  get keyPrefix(): string {
    return `${normalizePrefix(this.opts.s3.prefix)}${this.archiveId}/`;
  }

  /** Where this archive's objects go. */
  describe(): string {
    return `s3://${this.bucket}/${this.keyPrefix}`;
  }

  /**
   * Checks the bucket's Object Lock before anything is written, refusing an
   * unlocked bucket unless allowed. An unreachable S3 does not stop Vigil: the
   * check is retried before the first upload.
   */
  async preflight(): Promise<void> {
    const o = this.opts.s3;
    this.s3client ??= await createS3Client({ endpoint: o.endpoint, region: o.region, forcePathStyle: o.force_path_style, timeoutMs: o.timeout });
    try {
      await this.checkBucket();
      await this.checkEncryption();
    } catch (err) {
      if (err instanceof UploadRefusedError) throw err;
      this.opts.logger.warn({ bucket: this.bucket, err: describeS3Error(err) }, 'cannot reach S3 to check Object Lock and encryption; sealed segments wait locally until it answers');
    }
  }

  /** Loads the backlog from the directory and starts uploading, as archive `archiveId`. */
  async start(archiveId: string): Promise<void> {
    this.archiveId = archiveId;
    const names = await readdir(this.opts.directory);
    const found = groupListing(names.map((name) => ({ name })))
      .filter((g) => g.manifest && !g.receipt)
      .map((g) => g.segment);
    // Keep what was enqueued meanwhile (a seal finishing while the directory was read).
    this.backlog = [...new Set([...found, ...this.backlog])].sort((a, b) => a - b);
    this.updateBacklogMetric();
    await this.prune().catch((err: Error) => this.opts.logger.warn({ err: err.message }, 'pruning local copies failed'));
    this.loop = this.run();
  }

  private async checkBucket(): Promise<void> {
    let lock;
    try {
      lock = await bucketObjectLock(this.client, this.bucket, this.abort.signal);
    } catch (err) {
      const name = errorName(err);
      if (name === 'NoSuchBucket') throw new UploadRefusedError(`S3 bucket ${this.bucket} does not exist: create it with Object Lock enabled (aws s3api create-bucket --bucket ${this.bucket} --object-lock-enabled-for-bucket)`);
      if (name === 'AccessDenied' || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch') {
        throw new UploadRefusedError(`S3 refused access to bucket ${this.bucket} (${describeS3Error(err)}): check the AWS credentials and that they allow s3:GetBucketObjectLockConfiguration, s3:PutObject, s3:PutObjectRetention, s3:GetObjectRetention`);
      }
      throw err;
    }
    if (!lock.enabled) {
      if (!this.opts.s3.allow_unlocked_bucket) {
        throw new UploadRefusedError(
          `S3 bucket ${this.bucket} does not have Object Lock enabled, so uploaded segments could be deleted or overwritten: use a bucket created with Object Lock (aws s3api create-bucket --object-lock-enabled-for-bucket), or set s3.allow_unlocked_bucket: true to accept that`,
        );
      }
      this.opts.logger.warn({ bucket: this.bucket }, 'bucket has no Object Lock and s3.allow_unlocked_bucket is set: uploaded segments are NOT write-once');
    }
    this.bucketLocked = lock.enabled;
  }

  /** Probes the configured server-side encryption with a tiny object (see sse.ts); a refusal is an UploadRefusedError. */
  private async checkEncryption(): Promise<void> {
    if (this.encryptionProbed || this.opts.s3.encryption.mode === 'none') return;
    try {
      await probeEncryption(this.client, this.bucket, normalizePrefix(this.opts.s3.prefix), this.opts.s3.encryption, this.abort.signal);
    } catch (err) {
      if (err instanceof EncryptionRefusedError) throw new UploadRefusedError(err.message);
      throw err;
    }
    this.encryptionProbed = true;
  }

  /** A segment was sealed: queue it. */
  enqueue(segment: number): void {
    if (!this.backlog.includes(segment)) {
      this.backlog.push(segment);
      this.backlog.sort((a, b) => a - b);
      this.updateBacklogMetric();
    }
    if (this.failuresInARow === 0) this.wakeUp?.();
  }

  status(): UploaderStatus {
    return { backlog: this.backlog.length, lastUploadAt: this.lastUploadAt, lastError: this.lastError, bucketLocked: this.bucketLocked };
  }

  get pending(): number {
    return this.backlog.length;
  }

  /**
   * Tries to empty the backlog now (shutdown): returns once it is empty, an
   * attempt failed, or the signal aborts. Returns how many segments remain.
   */
  async drain(signal?: AbortSignal): Promise<number> {
    this.failuresInARow = 0;
    this.wakeUp?.();
    while (this.backlog.length > 0 && !signal?.aborted && !this.stopped) {
      const before = this.failuresInARow;
      await new Promise<void>((resolve) => {
        const done = () => {
          this.attemptListeners.delete(done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        this.attemptListeners.add(done);
        signal?.addEventListener('abort', done, { once: true });
      });
      if (this.failuresInARow > before) break;
    }
    return this.backlog.length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort(new Error('uploader stopped'));
    this.wakeUp?.();
    await this.loop;
    this.s3client?.destroy();
  }

  private async run(): Promise<void> {
    let delay = this.opts.s3.retry.initial_interval;
    while (!this.stopped) {
      if (this.backlog.length === 0) {
        await this.sleep(Infinity);
        continue;
      }
      const segment = this.backlog[0];
      try {
        if (this.bucketLocked === undefined) await this.checkBucket();
        await this.checkEncryption();
        await this.uploadSegment(segment);
        this.backlog.shift();
        this.updateBacklogMetric();
        if (this.failuresInARow > 0) this.opts.logger.info({ bucket: this.bucket, backlog: this.backlog.length }, 'S3 uploads resumed');
        this.failuresInARow = 0;
        this.lastError = undefined;
        delay = this.opts.s3.retry.initial_interval;
        await this.prune().catch((err: Error) => this.opts.logger.warn({ err: err.message }, 'pruning local copies failed'));
      } catch (err) {
        if (this.stopped) break;
        this.failuresInARow++;
        this.lastError = err instanceof UploadRefusedError ? err.message : describeS3Error(err);
        this.opts.metrics?.uploadFailures.inc(this.opts.metrics.labels);
        // Log the first failure of an outage, then every tenth, not every retry.
        if (this.failuresInARow === 1 || this.failuresInARow % 10 === 0) {
          this.opts.logger.warn({ segment, bucket: this.bucket, attempt: this.failuresInARow, backlog: this.backlog.length, err: this.lastError }, 'S3 upload failed; retrying (sealed segments wait locally)');
        }
        this.notifyAttempt();
        await this.sleep(delay * (0.8 + Math.random() * 0.4));
        delay = Math.min(delay * 2, this.opts.s3.retry.max_interval);
        continue;
      }
      this.notifyAttempt();
    }
  }

  private notifyAttempt(): void {
    for (const l of [...this.attemptListeners]) l();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(() => done(), ms) : undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = done;
    });
  }

  private updateBacklogMetric(): void {
    this.opts.metrics?.uploadBacklog.set(this.opts.metrics.labels, this.backlog.length);
  }

  private async uploadSegment(segment: number): Promise<void> {
    const dir = this.opts.directory;
    const manifestName = segmentFileName(segment, 'manifest');
    // Never through a link: a link planted under a sealed name must not send another file to the bucket.
    const manifestBytes = await readFileNoFollow(join(dir, manifestName));
    const manifest = (JSON.parse(manifestBytes.toString('utf8')) as { manifest: Manifest }).manifest;
    // The sealed file the signed manifest names (its name says its format: .jsonl.gz or .vlog.zst).
    const sealedName = manifest.file;
    const named = parseSegmentFileName(sealedName);
    if (named?.kind !== 'sealed' || named.segment !== segment) throw new UploadRefusedError(`manifest ${manifestName} names ${sealedName}, not a sealed file of segment ${segment}`);
    const data = await readFileNoFollow(join(dir, sealedName));
    const lock = this.bucketLocked
      ? {
          mode: this.opts.s3.object_lock.mode,
          retainUntil: manifest.retain_until ? new Date(manifest.retain_until) : undefined,
          legalHold: this.opts.s3.object_lock.legal_hold,
        }
      : undefined;
    if (lock && !lock.retainUntil) throw new UploadRefusedError(`manifest ${manifestName} carries no retain_until (it was sealed without a retention configured)`);
    // Data first, manifest last: a manifest in S3 means its segment is there too.
    const seg = await this.putOnce(sealedName, data, manifest.encryption ? 'application/octet-stream' : named.format === 2 ? 'application/zstd' : 'application/gzip', manifest.segment_sha256, lock);
    const man = await this.putOnce(manifestName, manifestBytes, 'application/json', undefined, lock);
    const receipt: UploadReceipt = {
      bucket: this.bucket,
      segment: seg,
      manifest: man,
      lock: { mode: lock?.mode ?? null, retain_until: lock?.retainUntil?.toISOString() ?? null, legal_hold: lock?.legalHold ?? false },
      uploaded_at: new Date(this.clock()).toISOString(),
    };
    await writeFileDurably(dir, segmentFileName(segment, 'receipt'), Buffer.from(`${JSON.stringify(receipt, null, 2)}\n`));
    this.lastUploadAt = this.clock();
    const m = this.opts.metrics;
    if (m) {
      m.uploadedSegments.inc(m.labels);
      m.uploadedBytes.inc(m.labels, data.length + manifestBytes.length);
    }
    this.opts.logger.debug({ segment, key: seg.key, version: seg.version_id }, 'segment uploaded and locked');
  }

  private async putOnce(
    name: string,
    body: Buffer,
    contentType: string,
    sha256: string | undefined,
    lock: { mode: 'COMPLIANCE' | 'GOVERNANCE'; retainUntil: Date | undefined; legalHold: boolean } | undefined,
  ): Promise<UploadReceipt['segment']> {
    const { PutObjectCommand } = await s3sdk();
    const key = this.keyPrefix + name;
    const md5 = createHash('md5').update(body).digest();
    const signal = this.abort.signal;
    let versionId: string | undefined;
    const existing = await headObjectLock(this.client, this.bucket, key, undefined, signal);
    if (existing) {
      const same = existing.metadata['vigil-md5'] === md5.toString('hex') || existing.etag === md5.toString('hex');
      if (!same) {
        throw new UploadRefusedError(`s3://${this.bucket}/${key} already exists with different content: Vigil never overwrites archive objects (is another archive writing the same prefix and archive id?)`);
      }
      versionId = existing.versionId; // uploaded before a crash: keep that version
      this.checkObjectEncryption(key, existing.sse, existing.kmsKeyId);
    } else {
      const input: PutObjectCommandInput = {
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentMD5: md5.toString('base64'),
        ContentType: contentType,
        Metadata: { 'vigil-md5': md5.toString('hex'), ...(sha256 ? { 'vigil-sha256': sha256 } : {}) },
      };
      if (lock) {
        input.ObjectLockMode = lock.mode;
        input.ObjectLockRetainUntilDate = lock.retainUntil;
        if (lock.legalHold) input.ObjectLockLegalHoldStatus = 'ON';
      }
      Object.assign(input, ssePutParams(this.opts.s3.encryption));
      const out = await this.client.send(new PutObjectCommand(input), { abortSignal: signal });
      versionId = out.VersionId;
      // Read back what the store did: a header accepted but not honoured must not pass for encryption.
      const stored = await headObjectLock(this.client, this.bucket, key, versionId, signal);
      this.checkObjectEncryption(key, stored?.sse, stored?.kmsKeyId);
    }
    if (lock) await this.confirmLock(key, versionId, lock);
    return { key, version_id: versionId ?? null, md5: md5.toString('hex'), bytes: body.length };
  }

  /** Fails (the upload is retried, loudly) when an object does not carry the configured encryption. */
  private checkObjectEncryption(key: string, sse: string | undefined, kmsKeyId: string | undefined): void {
    const actual = encryptionOf(sse, kmsKeyId);
    const wrong = encryptionMismatch(this.opts.s3.encryption, actual);
    if (wrong) throw new UploadRefusedError(`s3://${this.bucket}/${key}: ${wrong} (exporters.worm.s3.encryption; stored as ${describeEncryption(actual)})`);
  }

  /** Reads the lock back; sets it on the version if the store dropped it; fails if it still is not there. */
  private async confirmLock(key: string, versionId: string | undefined, lock: { mode: string; retainUntil: Date | undefined; legalHold: boolean }): Promise<void> {
    const { PutObjectLegalHoldCommand, PutObjectRetentionCommand } = await s3sdk();
    const signal = this.abort.signal;
    const wanted = lock.retainUntil!.getTime();
    const ok = (h: Awaited<ReturnType<typeof headObjectLock>>) =>
      h !== undefined && h.mode === lock.mode && h.retainUntil !== undefined && h.retainUntil.getTime() >= wanted - 1000 && (!lock.legalHold || h.legalHold === 'ON');
    let h = await headObjectLock(this.client, this.bucket, key, versionId, signal);
    if (ok(h)) return;
    this.opts.logger.warn({ key, mode: h?.mode, retain_until: h?.retainUntil }, 'uploaded object does not carry the expected lock; setting it');
    if (!(h?.mode === lock.mode && h.retainUntil && h.retainUntil.getTime() >= wanted - 1000)) {
      await this.client.send(
        new PutObjectRetentionCommand({ Bucket: this.bucket, Key: key, VersionId: versionId, Retention: { Mode: lock.mode as 'COMPLIANCE', RetainUntilDate: lock.retainUntil } }),
        { abortSignal: signal },
      );
    }
    if (lock.legalHold && h?.legalHold !== 'ON') {
      await this.client.send(new PutObjectLegalHoldCommand({ Bucket: this.bucket, Key: key, VersionId: versionId, LegalHold: { Status: 'ON' } }), { abortSignal: signal });
    }
    h = await headObjectLock(this.client, this.bucket, key, versionId, signal);
    if (!ok(h)) throw new Error(`s3://${this.bucket}/${key} does not keep its Object Lock (mode ${h?.mode ?? 'none'}, until ${h?.retainUntil?.toISOString() ?? 'none'})`);
  }

  /** Removes local copies of segments uploaded and locked longer ago than local_retention (manifests and receipts stay). */
  async prune(): Promise<void> {
    const keepMs = this.opts.localRetentionMs;
    if (keepMs === undefined) return;
    const dir = this.opts.directory;
    const groups = groupListing((await readdir(dir)).map((name) => ({ name })));
    const now = this.clock();
    for (const g of groups) {
      if (!g.receipt || !g.sealed || !g.manifest) continue;
      const m = (JSON.parse(await readFile(join(dir, g.manifest), 'utf8')) as { manifest: Manifest }).manifest;
      if (Date.parse(m.sealed_at) + keepMs > now) break; // in order: the rest are newer
      await unlink(join(dir, g.sealed));
      this.opts.metrics?.prunedSegments.inc(this.opts.metrics.labels);
      this.opts.logger.debug({ segment: g.segment }, 'local copy pruned (held in S3)');
    }
  }
}
