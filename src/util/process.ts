// Facts about other processes, for lock files that must tell a live owner from
// one that died (kill -9) and left its lock behind.
import { readFileSync } from 'node:fs';

/** True when a process with this pid exists (EPERM: it exists but belongs to another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A process's start time (clock ticks since boot, /proc/PID/stat field 22), where
 * /proc exists: with the pid it identifies a process even after pid reuse.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
