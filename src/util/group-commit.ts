// Group commit: many concurrent writers share one fsync. Each caller's bytes are
// appended in arrival order; the caller's promise resolves only after an fsync
// that covered its bytes completed, so an acknowledgement always follows durability.
import { type FileHandle, open } from 'node:fs/promises';

/** Bytes handed to one write call. */
const MAX_WRITE = 1 << 30;

interface Pending {
  chunks: Uint8Array[];
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

export class GroupCommitFile {
  private handle: FileHandle | undefined;
  private pending: Pending | undefined;
  private flushing: Promise<void> | undefined;
  /** Bytes durably written (and fsync'd) so far. */
  size = 0;

  private constructor(readonly path: string) {}

  /** Opens (creating if needed) for appending; `size` starts at the current length. `flags` lets a caller add e.g. O_NOFOLLOW. */
  static async open(path: string, flags: string | number = 'a'): Promise<GroupCommitFile> {
    const f = new GroupCommitFile(path);
    const handle = await open(path, flags);
    try {
      f.size = (await handle.stat()).size;
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
    f.handle = handle;
    return f;
  }

  /** Appends and resolves once fsync'd. Writes from concurrent calls are batched into one write + one fsync. */
  append(bytes: Uint8Array): Promise<void> {
    if (!this.handle) return Promise.reject(new Error(`${this.path} is closed`));
    return new Promise<void>((resolve, reject) => {
      if (!this.pending) this.pending = { chunks: [], waiters: [] };
      this.pending.chunks.push(bytes);
      this.pending.waiters.push({ resolve, reject });
      if (!this.flushing) this.flushing = this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending) {
        const batch = this.pending;
        this.pending = undefined;
        try {
          const buf = batch.chunks.length === 1 ? batch.chunks[0] : Buffer.concat(batch.chunks);
          let off = 0;
          while (off < buf.length) {
            // One write takes at most 2 GiB (ERR_OUT_OF_RANGE beyond): a huge group goes in pieces.
            const { bytesWritten } = await this.handle!.write(buf, off, Math.min(buf.length - off, MAX_WRITE));
            off += bytesWritten;
          }
          await this.handle!.datasync();
          this.size += buf.length;
          for (const w of batch.waiters) w.resolve();
        } catch (err) {
          // A failed write (e.g. ENOSPC) may have left a partial tail; cut it so the file
          // holds only acknowledged bytes, then refuse this group.
          await this.handle!.truncate(this.size).catch(() => undefined);
          for (const w of batch.waiters) w.reject(err);
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /** Waits for in-flight appends, then closes. */
  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
    await this.handle?.close();
    this.handle = undefined;
  }
}
