// One owner per directory (archive, queue, anomaly state): an exclusive lock file
// naming the owner's pid and start time, plus this process's own set of held
// locks. A lock whose process is gone — or is an earlier incarnation of our own
// pid, as after kill -9 in a container where Vigil is always pid 1 — is stale
// and taken over.
import { constants } from 'node:fs';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { unlinkIfExists } from './durable.js';
import { isProcessAlive, processStartTime } from './process.js';

const held = new Set<string>();

export type LockResult =
  | { acquired: true; release: () => Promise<void> }
  | { acquired: false; /** Who holds it: this process, or another live process's pid. */ owner: 'this process' | number };

export async function tryLock(path: string, mode = 0o644): Promise<LockResult> {
  const key = resolve(path);
  if (held.has(key)) return { acquired: false, owner: 'this process' };
  await mkdir(dirname(key), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(key, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
      try {
        await fh.writeFile(`${process.pid} ${processStartTime(process.pid) ?? ''}\n`);
      } finally {
        await fh.close();
      }
      held.add(key);
      return {
        acquired: true,
        release: async () => {
          held.delete(key);
          await unlinkIfExists(key);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const [pidText, started] = (await readFile(key, 'utf8').catch(() => '')).trim().split(/\s+/);
      const pid = Number(pidText);
      const startedNow = Number.isInteger(pid) && pid > 0 ? processStartTime(pid) : undefined;
      const alive =
        Number.isInteger(pid) && pid > 0 && pid !== process.pid && isProcessAlive(pid) && (!started || startedNow === undefined || startedNow === started);
      if (alive) return { acquired: false, owner: pid };
      await unlinkIfExists(key); // stale
    }
  }
  // Someone else won the race for the stale lock twice in a row.
  return { acquired: false, owner: Number((await readFile(key, 'utf8').catch(() => '0')).trim().split(/\s+/)[0]) || 0 };
}
