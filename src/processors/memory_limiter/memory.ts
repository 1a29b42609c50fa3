// Measuring memory: the process's own usage, and how much it may use at all
// (the machine's memory, or the container's cgroup limit when one is set).
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';

export interface MemorySample {
  /**
   * Live memory: V8 heap in use plus memory held outside it (Buffers and other
   * ArrayBuffers). The limits apply to this, as the Collector's apply to the Go
   * heap in use: it falls as soon as a collection frees data, whereas V8 keeps
   * freed pages resident, so a limit on RSS would keep refusing long after a flood.
   */
  live: number;
  /** Resident set size (what a container's OOM killer counts), for logs and metrics. */
  rss: number;
  /** V8 heap in use, for logs and metrics. */
  heapUsed: number;
}

export function sampleMemory(): MemorySample {
  const m = process.memoryUsage();
  return { live: m.heapUsed + m.external, rss: m.rss, heapUsed: m.heapUsed };
}

/**
 * A cgroup memory limit file's value in bytes, or undefined when it sets no
 * limit: cgroup v2 `memory.max` says "max", cgroup v1 `memory.limit_in_bytes`
 * says a page-rounded 2^63 or so.
 */
export function parseCgroupLimit(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (!/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  return n > 0 && n < 2 ** 60 ? n : undefined;
}

/** The smallest of the machine's memory and whatever limits apply to this process. */
export function availableMemory(machineBytes: number, limits: readonly (number | undefined)[]): number {
  let total = machineBytes;
  for (const l of limits) if (l !== undefined && Number.isFinite(l) && l > 0 && l < total) total = l;
  return total;
}

const CGROUP_LIMIT_FILES = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Memory available to this process: machine memory, capped by a cgroup limit (v2 or v1) and what libuv knows of one. */
export function totalMemoryBytes(): number {
  const fromFiles = CGROUP_LIMIT_FILES.map((f) => parseCgroupLimit(readIfExists(f)));
  return availableMemory(totalmem(), [...fromFiles, process.constrainedMemory()]);
}
