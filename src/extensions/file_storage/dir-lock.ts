// One owner per queue directory. Two queues writing the same directory would
// deliver each other's batches and reuse sequence numbers, so opening a
// directory that is in use fails: within this process (a set of open paths)
// and across processes (a `.lock` file holding the owner's pid; a lock whose
// process is gone, or that holds our own pid, is stale and taken over, which
// covers kill -9 and containers where Vigil is always pid 1).
import { join } from 'node:path';
import { tryLock } from '../../util/lock-file.js';

export const LOCK_FILE = '.lock';

export class DirLock {
  private constructor(private readonly releaseLock: () => Promise<void>) {}

  static async acquire(dir: string): Promise<DirLock> {
    const path = join(dir, LOCK_FILE);
    const r = await tryLock(path, 0o600);
    if (r.acquired) return new DirLock(r.release);
    if (r.owner === 'this process') throw new Error(`queue directory ${dir} is already open in this process: each exporter needs its own`);
    throw new Error(
      `queue directory ${dir} is in use by process ${r.owner}: two Vigil instances cannot share a file_storage directory ` +
        `(if no other Vigil runs, remove ${path})`,
    );
  }

  async release(): Promise<void> {
    await this.releaseLock();
  }
}
