// The `worm` exporter: Vigil's durable, tamper-evident archive. A batch is
// acknowledged once its records are appended to the open segment and fsync'd;
// segments are sealed by size, age, heartbeat and at shutdown, signed, and (with
// s3 configured) uploaded with Object Lock. See README.md beside this file.
import { resolve } from 'node:path';
import type { Exporter, ExporterFactory } from '../../pipeline/component.js';
import { Refusal, asRefusal } from '../../pipeline/errors.js';
import { type LogBatch, eventTimeMillis } from '../../pipeline/record.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Telemetry } from '../../telemetry/metrics.js';
import { type WormConfig, wormConfigSchema } from './config.js';
import { RecordJsonEncoder, recordPayload } from './entry.js';
import { loadOrCreateSigningKey, type SigningKey } from './keys.js';
import { type ArchiveKey, loadArchiveKey } from './encryption.js';
import { notePayload } from './entry.js';
import { type ShredResult, shredArchive } from './shred.js';
import { WormMetrics } from './metrics.js';
import { describeRetention } from './retention.js';
import { type AppendItem, SegmentLog } from './segment-log.js';
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
}

export interface WormExporterOptions {
  /** Injected clock (tests drive seals and heartbeats with it). */
  clock?: () => number;
  /** Timer-driven seal checks (default on); tests turn them off and call tick(). */
  timers?: boolean;
}

export class WormExporter implements Exporter {
  private log: SegmentLog | undefined;
  private uploader: Uploader | undefined;
  private key: (SigningKey & { created: boolean }) | undefined;
  private archiveKey: ArchiveKey | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopping = false;
  private readonly encoder = new RecordJsonEncoder();
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
  }

  describe(): string[] {
    const c = this.config;
    const lines = [
      `worm ${c.directory} (sealed every ${fmtMs(c.segment.max_age)} or ${fmtBytes(c.segment.max_bytes)}, heartbeat ${fmtMs(c.heartbeat)}, Ed25519 key ${this.key?.keyId ?? '?'} from ${c.signing.key_file})`,
    ];
    if (this.archiveKey) lines.push(`worm segments encrypted (AES-256-GCM, a data key per segment wrapped by archive key ${this.archiveKey.keyId})`);
    if (this.uploader) {
      lines.push(`worm ${this.uploader.describe()} (Object Lock ${c.s3!.object_lock.mode}, retention ${c.retention ? describeRetention(c.retention) : 'none'})`);
    }
    return lines;
  }

  async start(): Promise<void> {
    const c = this.config;
    this.key = await loadOrCreateSigningKey(resolve(c.signing.key_file), c.signing.generate);
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
    const log = new SegmentLog({
      directory: this.directory,
      maxBytes: c.segment.max_bytes,
      maxAgeMs: c.segment.max_age,
      heartbeatMs: c.heartbeat,
      compressionLevel: c.compression_level,
      key: this.key,
      retention: c.retention,
      encryption: this.archiveKey,
      logger: this.logger,
      metrics: this.metrics,
      clock: this.clock,
      onSealed: (segment) => this.uploader?.enqueue(segment),
    });
    let recovery;
    try {
      recovery = await log.start();
    } catch (err) {
      await this.uploader?.stop().catch(() => undefined);
      throw err;
    }
    this.log = log;
    if (recovery.unclean) {
      this.logger.warn(
        { truncated_bytes: recovery.truncatedBytes, truncated_lines: recovery.truncatedLines, open_segment_found: recovery.openSegmentFound },
        'recovered the archive after an unclean stop; the recovery is recorded in the chain',
      );
    }
    if (this.uploader) await this.uploader.start(log.archiveId);
    if (this.options.timers !== false) {
      const every = Math.max(50, Math.min(1000, Math.floor(Math.min(c.heartbeat, c.segment.max_age) / 10)));
      this.timer = setInterval(() => void this.tick(), every);
      this.timer.unref();
    }
  }

  /** Seals the open segment when its age or the heartbeat says so. */
  tick(): Promise<void> {
    if (this.ticking || this.stopping || !this.log) return this.ticking ?? Promise.resolve();
    const reason = this.log.sealDue(this.clock());
    if (!reason) return Promise.resolve();
    this.ticking = this.log
      .seal(reason)
      .catch((err: Error) => this.logger.error({ err: err.message }, 'timed seal failed; retrying on the next tick'))
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  async consume(batch: LogBatch): Promise<void> {
    if (!this.log || this.stopping) throw Refusal.unavailable(this.stopping ? 'the archive is shutting down' : 'the archive is not started');
    if (batch.length === 0) return;
    const items: AppendItem[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const rec = batch[i];
      items[i] = { payload: recordPayload(this.encoder.encode(rec)), kind: 'record', eventTime: eventTimeMillis(rec.log) };
    }
    try {
      await this.log.append(items);
    } catch (err) {
      this.telemetry?.exporterSendFailed.inc({ exporter: this.id }, batch.length);
      throw asRefusal(err);
    }
    this.metrics.appendedRecords.inc(this.metrics.labels, batch.length);
    this.telemetry?.exporterSent.inc({ exporter: this.id }, batch.length);
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
    return shredArchive({ directory: this.directory, keyring, before, now: this.clock(), append: (note) => log.append([{ payload: notePayload(note), kind: 'note', eventTime: 0 }]) });
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
    };
  }

  /** Seals the last segment (reason shutdown), then tries to upload what waits, until the deadline. */
  async shutdown(signal: AbortSignal): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    await this.log?.close();
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
  create: (config, ctx) => new WormExporter(ctx.id, config, ctx.telemetry, ctx.logger),
};
