// Noticing that files changed, by polling their metadata. Polling (rather than
// fs.watch) also sees the atomic symlink swap Kubernetes uses to update mounted
// secrets, works on every file system, and costs one stat per file per interval.
import { stat } from 'node:fs/promises';

/** What identifies a version of a file; any difference means it changed. */
async function fingerprint(path: string): Promise<string> {
  try {
    const s = await stat(path);
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch (err) {
    return `missing:${(err as NodeJS.ErrnoException).code ?? 'error'}`;
  }
}

export class FileWatcher {
  private timer: NodeJS.Timeout | undefined;
  private last = '';
  private checking = false;

  /**
   * @param paths the files to watch (a change in any of them fires once)
   * @param intervalMs how often to look; 0 never looks
   * @param onChange called after a change was seen; a rejection is the caller's to log
   */
  constructor(
    private readonly paths: readonly string[],
    private readonly intervalMs: number,
    private readonly onChange: () => Promise<void> | void,
  ) {}

  /** Records the files' current state (call right after loading them) and starts polling. */
  async start(): Promise<void> {
    this.last = await this.current();
    if (this.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.check().catch(() => undefined), this.intervalMs);
    // Watching must never keep the process alive on its own.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Looks once; resolves after onChange finished when something changed, rejects when onChange failed. */
  async check(): Promise<boolean> {
    if (this.checking) return false;
    this.checking = true;
    try {
      const now = await this.current();
      if (now === this.last) return false;
      this.last = now;
      try {
        await this.onChange();
      } catch (err) {
        // Look again next time even if nothing changes meanwhile (e.g. a key
        // file that was briefly unreadable during a rotation).
        this.last = '';
        throw err;
      }
      return true;
    } finally {
      this.checking = false;
    }
  }

  private async current(): Promise<string> {
    return (await Promise.all(this.paths.map(fingerprint))).join('|');
  }
}
