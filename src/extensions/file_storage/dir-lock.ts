// One owner per queue directory. Two queues writing the same directory would
// deliver each other's batches and reuse sequence numbers, so opening a
// directory that is in use fails: within this process (a set of open paths)
// and across processes (a `.lock` file holding the owner's pid; a lock whose
// process is gone, or that holds our own pid, is stale and taken over, which
// covers kill -9 and containers where Vigil is always pid 1).
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isProcessAlive } from '../../util/process.js';

const heldInProcess = new Set<string>();

export const LOCK_FILE = '.lock';

export class DirLock {
  private constructor(private readonly key: string, private readonly path: string) {}

  static async acquire(dir: string): Promise<DirLock> {
    const key = resolve(dir);
    if (heldInProcess.has(key)) throw new Error(`queue directory ${dir} is already open in this process: each exporter needs its own`);
    const path = join(dir, LOCK_FILE);
    heldInProcess.add(key);
    try {
      try {
        await writeFile(path, `${process.pid}\n`, { flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
        if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isProcessAlive(owner)) {
          throw new Error(
            `queue directory ${dir} is in use by process ${owner}: two Vigil instances cannot share a file_storage directory ` +
              `(if no other Vigil runs, remove ${path})`,
          );
        }
        await writeFile(path, `${process.pid}\n`);
      }
    } catch (err) {
      heldInProcess.delete(key);
      throw err;
    }
    return new DirLock(key, path);
  }

  async release(): Promise<void> {
    await unlink(this.path).catch(() => undefined);
    heldInProcess.delete(this.key);
  }
}
