// Group commit for directory fsyncs: a new file's directory entry is durable
// only once its directory is fsync'd. Callers that ask while an fsync runs
// share the next one, so N concurrent enqueues cost one directory fsync, and
// every caller's promise resolves only after an fsync that started after it asked.
import { type FileHandle, open } from 'node:fs/promises';

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class DirSync {
  private waiting: Waiter[] = [];
  private running: Promise<void> | undefined;

  private constructor(
    readonly dir: string,
    private handle: FileHandle | undefined,
  ) {}

  static async open(dir: string): Promise<DirSync> {
    return new DirSync(dir, await open(dir, 'r'));
  }

  /** Resolves once the directory's entries as of this call are durable. */
  sync(): Promise<void> {
    if (!this.handle) return Promise.reject(new Error(`${this.dir} is closed`));
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.running ??= this.loop();
    });
  }

  private async loop(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const group = this.waiting;
        this.waiting = [];
        try {
          await this.handle!.sync();
          for (const w of group) w.resolve();
        } catch (err) {
          for (const w of group) w.reject(err);
        }
      }
    } finally {
      this.running = undefined;
    }
  }

  async close(): Promise<void> {
    while (this.running) await this.running;
    await this.handle?.close();
    this.handle = undefined;
  }
}
