// A durable queue directory: one file per batch (see batch-file.ts).
//
// put:     create the file exclusively, write header + payload, fdatasync, close,
//          then fsync the directory (grouped with concurrent puts) so the entry
//          survives a crash too. Only then does the enqueue resolve.
// remove:  unlink. No fsync: if the unlink is lost in a crash, the batch is
//          delivered again (at-least-once), never lost.
// recover: every *.batch file in sequence order; files that fail validation were
//          torn by a crash before their enqueue resolved (never acknowledged), or
//          corrupted on disk: they are logged and deleted, the rest goes on.
import { mkdir, open, readFile, readdir, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../telemetry/logger.js';
import { batchFileName, decodeBatchFile, encodeBatchHeader, parseBatchFileName } from './batch-file.js';
import { DirLock } from './dir-lock.js';
import { DirSync } from './dir-sync.js';
import type { QueueStore, StoredBatch } from './queue-store.js';

export class FileQueueStore implements QueueStore {
  readonly durable = true;
  private nextSeq = 0;
  private closed = false;

  private constructor(
    readonly location: string,
    private readonly logger: Logger,
    private readonly dirSync: DirSync,
    private readonly lock: DirLock,
    private readonly onClose: () => void,
  ) {}

  /** Opens (creating if needed) and locks a queue directory. */
  static async open(dir: string, logger: Logger, onClose: () => void = () => undefined): Promise<FileQueueStore> {
    // Queued logs may be sensitive: owner-only, like the files in it.
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const lock = await DirLock.acquire(dir);
    try {
      return new FileQueueStore(dir, logger, await DirSync.open(dir), lock, onClose);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  private pathOf(seq: number): string {
    return join(this.location, batchFileName(seq));
  }

  async recover(): Promise<StoredBatch[]> {
    const seqs = (await readdir(this.location))
      .map(parseBatchFileName)
      .filter((s): s is number => s !== undefined)
      .sort((a, b) => a - b);
    const recovered: StoredBatch[] = [];
    let discarded = 0;
    for (const seq of seqs) {
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
      const path = this.pathOf(seq);
      let file: Buffer;
      try {
        file = await readFile(path);
      } catch (err) {
        // Unreadable now (EIO, permissions): leave it for an operator, do not guess.
        this.logger.error({ file: path, err: (err as Error).message }, 'cannot read queue file; leaving it in place and skipping it');
        continue;
      }
      const d = decodeBatchFile(file);
      if (!d.ok) {
        discarded++;
        this.logger.warn(
          { file: path, problem: d.problem, bytes: file.length },
          'discarding invalid queue file: a write torn by a crash before it was acknowledged, or on-disk corruption',
        );
        await unlink(path).catch(() => undefined);
        continue;
      }
      recovered.push({ seq, records: d.records });
    }
    if (recovered.length > 0 || discarded > 0) {
      this.logger.info(
        { dir: this.location, batches: recovered.length, records: recovered.reduce((n, b) => n + b.records, 0), discarded },
        'recovered queued batches from disk; delivering them first',
      );
    }
    return recovered;
  }

  async put(payload: Uint8Array, records: number): Promise<StoredBatch> {
    if (this.closed) throw new Error(`queue ${this.location} is closed`);
    const seq = this.nextSeq++;
    const path = this.pathOf(seq);
    const header = encodeBatchHeader(payload, records);
    let fh: FileHandle | undefined;
    try {
      fh = await open(path, 'wx', 0o600);
      await writeAll(fh, header, payload);
      await fh.datasync();
      const h = fh;
      fh = undefined;
      await h.close();
      await this.dirSync.sync();
    } catch (err) {
      await fh?.close().catch(() => undefined);
      // Not acknowledged: leave nothing behind that would be delivered later.
      await unlink(path).catch(() => undefined);
      throw err;
    }
    return { seq, records };
  }

  async read(batch: StoredBatch): Promise<Uint8Array | undefined> {
    const path = this.pathOf(batch.seq);
    let file: Buffer;
    try {
      file = await readFile(path);
    } catch (err) {
      this.logger.error({ file: path, err: (err as Error).message }, 'cannot read queued batch; skipping it');
      return undefined;
    }
    const d = decodeBatchFile(file);
    if (!d.ok) {
      this.logger.error({ file: path, problem: d.problem }, 'queued batch is corrupt on disk; discarding it');
      return undefined;
    }
    return d.payload;
  }

  async remove(batch: StoredBatch): Promise<void> {
    try {
      await unlink(this.pathOf(batch.seq));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.dirSync.close();
    } finally {
      await this.lock.release();
      this.onClose();
    }
  }
}

async function writeAll(fh: FileHandle, header: Buffer, payload: Uint8Array): Promise<void> {
  const total = header.length + payload.length;
  const { bytesWritten } = await fh.writev([header, payload]);
  if (bytesWritten === total) return;
  // Short write (rare): finish the rest from where it stopped.
  const all = Buffer.concat([header, payload]);
  let off = bytesWritten;
  while (off < total) off += (await fh.write(all, off, total - off)).bytesWritten;
}
