// The `worm` exporter: Vigil's durable, tamper-evident archive. A batch is
// acknowledged once its records are appended to the open segment and fsync'd;
// segments are sealed by size, age, heartbeat and at shutdown, signed, and (with
// s3 configured) uploaded with Object Lock. See README.md beside this file.
import { lstat, readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Exporter, ExporterFactory } from '../../pipeline/component.js';
import { Refusal, asRefusal } from '../../pipeline/errors.js';
import { type LogBatch, eventTimeMillis } from '../../pipeline/record.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Telemetry } from '../../telemetry/metrics.js';
import { type WormConfig, wormConfigSchema } from './config.js';
import { RecordJsonEncoder, recordPayload } from './entry.js';
import { MAX_RECORD_PAYLOAD } from './frame.js';
import { encodeRecordRequests } from '../../otlp/convert.js';
import { defaultCompressionLevel } from './compression.js';
import type { SegmentFormat } from './layout.js';
import { type SignedCheckpoint, checkpointRecord } from './checkpoint.js';
import { KeyError, loadOrCreateSigningKey, retirePublicKey, type SigningKey } from './keys.js';
import { parseSegmentFileName } from './layout.js';
import { type ArchiveKey, loadArchiveKey } from './encryption.js';
import { type ShredResult, shredArchive } from './shred.js';
import { WormMetrics } from './metrics.js';
import { describeRetention } from './retention.js';
import { type AppendItem, ArchiveDiskFullError, SegmentLog } from './segment-log.js';
import { Uploader, type UploaderStatus } from './uploader.js';

export interface WormStatus {
  directory: string;
  archiveId: string;
  keyId: string | undefined;
  /** The archive encryption key's id (never the key), when segments are encrypted. */
  encryptionKeyId?: string | undefined;
  openSegment: { segment: number; openedAt: string; records: number; bytes: number } | undefined;
  lastSealAt: string | undefined;
  sealsPending: number;
  s3: (UploaderStatus & { destination: string }) | undefined;
  /** The newest signed checkpoint (what an auditor keeps for `vigil verify --checkpoint`). */
  lastCheckpoint: string | undefined;
  /** Why the archive is not open (disk full at start-up), while degraded. */
  degraded: string | undefined;
}

export interface WormExporterOptions {
  /** Injected clock (tests drive seals and heartbeats with it). */
  clock?: () => number;
  /** Timer-driven seal checks (default on); tests turn them off and call tick(). */
  timers?: boolean;
  /** Hands the archive's checkpoints to the other exporters of its pipelines (CreateContext.publish). */
  publish?: ((batch: LogBatch) => Promise<void>) | undefined;
}

export class WormExporter implements Exporter {
  /** It publishes checkpoints to its siblings: the service starts it after them and stops it first. */
  readonly publishes = true;
  private log: SegmentLog | undefined;
  /** The newest checkpoint not yet taken by the sibling exporters (retried on each tick), and the delivery in flight. */
  private unpublished: SignedCheckpoint | undefined;
  private publishing: Promise<void> = Promise.resolve();
  /** Start-up found the disk full: the archive is not open, exports are refused (retryable), and the start is retried. */
  private degraded: ArchiveDiskFullError | undefined;
  private lastStartAttempt = 0;
  private lastCheckpoint: SignedCheckpoint | undefined;
  private uploader: Uploader | undefined;
  private key: (SigningKey & { created: boolean }) | undefined;
  private archiveKey: ArchiveKey | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopping = false;
  private readonly encoder = new RecordJsonEncoder();
  /** The entry format of the segments this exporter writes (worm.encoding). */
  private readonly format: SegmentFormat;
  private readonly metrics: WormMetrics;
  private readonly clock: () => number;
  readonly directory: string;

  constructor(
    private readonly id: string,
    private readonly config: WormConfig,
    private readonly telemetry: Telemetry | undefined,
    private readonly logger: Logger,
    private readonly options: WormExporterOptions = {},
  ) {
    this.metrics = new WormMetrics(telemetry, id);
    this.clock = options.clock ?? Date.now;
    this.directory = resolve(config.directory);
    this.format = config.encoding === 'json' ? 1 : 2;
  }

  describe(): string[] {
    const c = this.config;
    const lines = [
      `worm ${c.directory} (sealed every ${fmtMs(c.segment.max_age)} or ${fmtBytes(c.segment.max_bytes)}, heartbeat ${fmtMs(c.heartbeat)}, ${this.format === 2 ? 'v2 protobuf entries, zstd' : 'v1 OTLP/JSON lines, gzip'}, Ed25519 key ${this.key?.keyId ?? '?'} from ${c.signing.key_file})`,
    ];
    if (this.archiveKey) lines.push(`worm segments encrypted (AES-256-GCM, a data key per segment wrapped by archive key ${this.archiveKey.keyId})`);
    if (this.uploader) {
      lines.push(`worm ${this.uploader.describe()} (Object Lock ${c.s3!.object_lock.mode}, retention ${c.retention ? describeRetention(c.retention) : 'none'})`);
    }
    return lines;
  }

  async start(): Promise<void> {
    const c = this.config;
    const keyFile = resolve(c.signing.key_file);
    const keyMissing = await lstat(keyFile).then(
      () => false,
      (err: NodeJS.ErrnoException) => err.code === 'ENOENT',
    );
    const newest = keyMissing ? await newestManifest(this.directory) : undefined;
    if (newest && !c.signing.rotate) {
      throw new KeyError(
        `exporters.${this.id}: the signing key ${keyFile} (signing.key_file) is missing, but the archive ${this.directory} holds signed manifests (newest ${newest}). ` +
          'Restore the key file from your backup; if it is lost, rotate to a new key deliberately: `vigil keys rotate --config FILE`, or signing.rotate: true for one start (the rotation is recorded in the chain; give auditors both public keys)',
      );
    }
    if (newest) {
      const retired = await retirePublicKey(keyFile);
      this.logger.warn({ key_file: keyFile, retired_public_key: retired }, 'rotating the archive signing key as configured (signing.rotate): the old key file is missing');
    }
    this.key = await loadOrCreateSigningKey(keyFile, c.signing.generate || newest !== undefined);
    if (c.encryption) {
      this.archiveKey = await loadArchiveKey(resolve(c.encryption.key_file), undefined, c.encryption.keyring ? resolve(c.encryption.keyring) : undefined);
    }
    if (this.key.created) this.logger.warn({ key_file: c.signing.key_file, public_key: this.key.publicKeyPath, key_id: this.key.keyId }, 'generated a new archive signing key: keep the public key where auditors can get it');
    if (c.s3) {
      // The bucket is checked before anything is written: a refused start leaves the archive untouched.
      this.uploader = new Uploader({
        directory: this.directory,
        archiveId: '',
        s3: c.s3,
        logger: this.logger,
        metrics: this.metrics,
        localRetentionMs: c.local_retention,
        clock: this.clock,
      });
      try {
        await this.uploader.preflight();
      } catch (err) {
        await this.uploader.stop().catch(() => undefined);
        this.uploader = undefined;
        throw err;
      }
    }
    try {
      await this.startLog();
    } catch (err) {
      if (!(err instanceof ArchiveDiskFullError)) {
        await this.uploader?.stop().catch(() => undefined);
        throw err;
      }
      // Refusing to start would also stop every other exporter, such as a persistent
      // queue that could still deliver downstream: run without the archive instead.
      this.degraded = err;
      this.lastStartAttempt = this.clock();
      this.logger.error(
        { component: this.id, file: err.file, err: err.message },
        `exporters.${this.id}: cannot open the archive, the disk is full; running degraded: exports are refused with a retryable status until space is freed (retried every few seconds), other exporters keep delivering`,
      );
    }
    if (this.options.timers !== false) {
      const every = Math.max(50, Math.min(1000, Math.floor(Math.min(c.heartbeat, c.segment.max_age) / 10)));
      this.timer = setInterval(() => void this.tick(), every);
      this.timer.unref();
    }
  }

  /** Opens (recovers) the segment log; then the uploader can start. */
  private async startLog(): Promise<void> {
    const c = this.config;
    const log = new SegmentLog({
      directory: this.directory,
      maxBytes: c.segment.max_bytes,
      maxAgeMs: c.segment.max_age,
      heartbeatMs: c.heartbeat,
      format: this.format,
      compressionLevel: c.compression_level ?? defaultCompressionLevel(this.format),
      key: this.key!,
      retention: c.retention,
      encryption: this.archiveKey,
      logger: this.logger,
      metrics: this.metrics,
      clock: this.clock,
      onSealed: (segment) => this.uploader?.enqueue(segment),
      onCheckpoint: (cp) => this.checkpointed(cp),
      allowKeyRotation: c.signing.rotate,
    });
    const recovery = await log.start();
    this.log = log;
    if (recovery.unclean) {
      this.logger.warn(
        { truncated_bytes: recovery.truncatedBytes, truncated_lines: recovery.truncatedLines, open_segment_found: recovery.openSegmentFound },
        'recovered the archive after an unclean stop; the recovery is recorded in the chain',
      );
    }
    if (c.signing.rotate) this.logger.warn({ key_id: this.key!.keyId }, 'signing.rotate is on: turn it off after this start, so that a lost or replaced key refuses the start again');
    if (this.uploader) await this.uploader.start(log.archiveId);
  }

  /** Degraded (disk full at start-up): tries to open the archive again, every few seconds. */
  private retryStart(): Promise<void> {
    if (this.clock() - this.lastStartAttempt < 2000) return Promise.resolve();
    this.lastStartAttempt = this.clock();
    this.ticking = this.startLog()
      .then(() => {
        this.degraded = undefined;
        this.logger.warn({ component: this.id }, 'the archive opened: disk space is back, exports are taken again');
      })
      .catch((err: Error) => {
        if (err instanceof ArchiveDiskFullError) this.degraded = err;
        else this.logger.error({ component: this.id, err: err.message }, 'the archive still cannot be opened');
      })
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  /** Seals the open segment when its age or the heartbeat says so; otherwise signs a checkpoint of it once a heartbeat. */
  tick(): Promise<void> {
    if (this.ticking || this.stopping) return this.ticking ?? Promise.resolve();
    if (this.degraded) return this.retryStart();
    if (!this.log) return Promise.resolve();
    if (this.unpublished) this.publishCheckpoint(this.unpublished);
    const reason = this.log.sealDue(this.clock());
    if (!reason) {
      this.ticking = this.log
        .checkpointOpen(this.clock())
        .catch((err: Error) => this.logger.error({ err: err.message }, 'signing a checkpoint of the open segment failed; retrying on the next tick'))
        .finally(() => (this.ticking = undefined));
      return this.ticking;
    }
    this.ticking = this.log
      .seal(reason)
      .catch((err: Error) => this.logger.error({ err: err.message }, 'timed seal failed; retrying on the next tick'))
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  /**
   * Not async, so that the batch is not held while the group commit and its
   * fsync are awaited: only the encoded entries are. A batch still referenced
   * at a young-generation collection is promoted to the old space, and most
   * of what V8 promoted under steady load was batches waiting for fsync.
   */
  consume(batch: LogBatch): Promise<void> {
    if (this.degraded) return Promise.reject(Refusal.unavailable(`exporters.${this.id}: the archive is not open, its disk is full (${this.degraded.file}); free space there`, 5000));
    if (!this.log || this.stopping) return Promise.reject(Refusal.unavailable(this.stopping ? 'the archive is shutting down' : 'the archive is not started'));
    if (batch.length === 0) return Promise.resolve();
    let items: AppendItem[];
    try {
      items = this.entriesOf(batch);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.append(this.log, items);
  }

  /** The batch's archive entries (their payloads encoded now). */
  private entriesOf(batch: LogBatch): AppendItem[] {
    const items: AppendItem[] = new Array(batch.length);
    const format = this.format;
    if (format === 2) {
      // All of the batch's entry payloads in one buffer; each item is a view of its part.
      const { bytes, ends } = encodeRecordRequests(batch);
      for (let i = 0; i < batch.length; i++) {
        const payload = bytes.subarray(i === 0 ? 0 : ends[i - 1], ends[i]);
        this.checkPayloadSize(payload.length, i);
        items[i] = { kind: 'record', format, payload, eventTime: eventTimeMillis(batch[i].log) };
      }
    } else {
      for (let i = 0; i < batch.length; i++) {
        const rec = batch[i];
        const payload = recordPayload(this.encoder.encode(rec));
        this.checkPayloadSize(payload.length, i);
        items[i] = { kind: 'record', format, payload, eventTime: eventTimeMillis(rec.log) };
      }
    }
    return items;
  }

  /**
   * Refuses (not retryable, nothing of the batch stored) a record too large for one archive
   * entry: written, it would be acknowledged and then refused by every reader as corrupt framing.
   */
  private checkPayloadSize(bytes: number, index: number): void {
    if (bytes <= MAX_RECORD_PAYLOAD) return;
    throw new Refusal(
      'RESOURCE_EXHAUSTED',
      `exporters.${this.id}: record ${index} of the request encodes to ${bytes} bytes, more than one archive entry holds (${MAX_RECORD_PAYLOAD}); ` +
        'split the record, or lower the receiver\'s max_recv_msg_size_mib / max_request_body_size so that such requests are refused on arrival',
    );
  }

  private async append(log: SegmentLog, items: AppendItem[]): Promise<void> {
    const records = items.length;
    try {
      await log.append(items);
    } catch (err) {
      this.telemetry?.exporterSendFailed.inc({ exporter: this.id }, records);
      throw asRefusal(err);
    }
    this.metrics.appendedRecords.inc(this.metrics.labels, records);
    this.telemetry?.exporterSent.inc({ exporter: this.id }, records);
  }

  private checkpointed(cp: SignedCheckpoint): void {
    this.lastCheckpoint = cp;
    if (cp.state === 'sealed') {
      this.metrics.checkpointSegment.set(this.metrics.labels, cp.segment);
      this.metrics.checkpointTime.set(this.metrics.labels, Date.parse(cp.time) / 1000);
    }
    this.logger.debug({ checkpoint: cp.text }, 'archive checkpoint');
    this.publishCheckpoint(cp);
  }

  /** Sends a checkpoint through the sibling exporters; the newest that failed is retried on the next tick. */
  private publishCheckpoint(cp: SignedCheckpoint): void {
    const publish = this.options.publish;
    if (!publish) return;
    if (this.unpublished === cp) this.unpublished = undefined;
    this.publishing = this.publishing.then(() =>
      publish([checkpointRecord(cp, this.id)]).catch((err: Error) => {
        if (!this.unpublished || this.unpublished.entries <= cp.entries) this.unpublished = cp;
        this.logger.warn({ err: err.message, segment: cp.segment }, 'the archive checkpoint was not taken by the other exporters; retrying on the next tick');
      }),
    );
  }

  /** Seals the open segment and waits for its manifest (for tests and tools). */
  async sealNow(): Promise<void> {
    await this.log?.seal('age');
    await this.log?.flushSeals();
  }

  /** Crypto-shredding (shred.ts): records it in the chain, then destroys the day keys of segments retained until before `before`. */
  async shredKeys(before: number): Promise<ShredResult> {
    const keyring = this.archiveKey?.keyring;
    if (!this.log || !keyring) throw new Error('worm: exporters.worm.encryption.key_file is not configured, so there are no data keys to shred');
    const log = this.log;
    return shredArchive({ directory: this.directory, keyring, before, now: this.clock(), append: (note) => log.append([{ kind: 'note', note }]) });
  }

  /** Waits until the S3 backlog is empty or an upload attempt fails; returns what remains. */
  async drainUploads(signal?: AbortSignal): Promise<number> {
    return this.uploader ? this.uploader.drain(signal) : 0;
  }

  status(): WormStatus {
    const open = this.log?.openSegmentState();
    const last = this.log?.lastSealTime;
    return {
      directory: this.directory,
      archiveId: this.log?.archiveId ?? '',
      keyId: this.key?.keyId,
      encryptionKeyId: this.archiveKey?.keyId,
      openSegment: open && { segment: open.segment, openedAt: new Date(open.openedAt).toISOString(), records: open.records, bytes: open.bytes },
      lastSealAt: last === undefined ? undefined : new Date(last).toISOString(),
      sealsPending: this.log?.sealsPending ?? 0,
      s3: this.uploader && { ...this.uploader.status(), destination: this.uploader.describe() },
      lastCheckpoint: this.lastCheckpoint?.text,
      degraded: this.degraded?.message,
    };
  }

  /** Seals the last segment (reason shutdown), then tries to upload what waits, until the deadline. */
  async shutdown(signal: AbortSignal): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    await this.log?.close();
    await this.publishing; // the shutdown checkpoint reaches the sibling exporters before they stop
    if (this.uploader) {
      const left = await this.uploader.drain(signal);
      if (left > 0) this.logger.warn({ backlog: left }, 'segments not yet uploaded to S3; they go up on the next start');
      await this.uploader.stop();
    }
  }

  /** For tests: stop as a crash would, without sealing. */
  async crashForTest(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.uploader?.stop();
    await this.log?.abandon();
  }
}

/** The newest manifest's file name in an archive directory, if it holds any. */
async function newestManifest(directory: string): Promise<string | undefined> {
  const names = await readdir(directory).catch(() => [] as string[]);
  return names.filter((n) => parseSegmentFileName(n)?.kind === 'manifest').sort().pop();
}

function fmtMs(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

function fmtBytes(n: number): string {
  if (n % (1024 * 1024) === 0) return `${n / (1024 * 1024)}MiB`;
  if (n % 1024 === 0) return `${n / 1024}KiB`;
  return `${n}B`;
}

export const wormExporterFactory: ExporterFactory<WormConfig> = {
  kind: 'exporter',
  type: 'worm',
  mutatesData: false,
  configSchema: wormConfigSchema,
  create: (config, ctx) => new WormExporter(ctx.id, config, ctx.telemetry, ctx.logger, { publish: ctx.publish }),
};
