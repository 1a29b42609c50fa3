// Segment data checks (decompression, every entry hash and link, Merkle root) are
// independent per segment: run them on worker threads, one per core, while the
// main thread walks the manifest chain. Under the TypeScript sources (tests) the
// checks run in-process instead: same code, same results.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Manifest } from './manifest.js';
import { type DataCheckResult, checkSegmentBytes } from './verify-segment.js';

export interface DataChecker {
  readonly parallel: number;
  check(segment: number, object: string, data: Buffer, m: Manifest): Promise<DataCheckResult>;
  close(): Promise<void>;
}

interface Job {
  id: number;
  resolve: (r: DataCheckResult) => void;
  reject: (e: unknown) => void;
}

/** `workers` 0 = in-process; undefined = one per core (at most 8) when running compiled code. */
export function createDataChecker(workers?: number): DataChecker {
  const compiled = import.meta.url.endsWith('.js');
  const n = workers ?? (compiled ? Math.min(8, availableParallelism()) : 0);
  if (n <= 0 || !compiled) return { parallel: 1, check: (s, o, d, m) => checkSegmentBytes(s, o, d, m), close: async () => {} };
  return new WorkerPool(n);
}

class WorkerPool implements DataChecker {
  private readonly workers: { worker: Worker; busy: number }[] = [];
  private readonly jobs = new Map<number, Job>();
  private nextId = 0;
  private failed: Error | undefined;

  constructor(readonly parallel: number) {
    for (let i = 0; i < parallel; i++) {
      const worker = new Worker(new URL('./verify-worker.js', import.meta.url));
      const slot = { worker, busy: 0 };
      worker.on('message', (msg: DataCheckResult & { id: number }) => {
        const job = this.jobs.get(msg.id);
        if (!job) return;
        this.jobs.delete(msg.id);
        slot.busy--;
        job.resolve(msg);
      });
      worker.on('error', (err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err))));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`verify worker exited with code ${code}`));
      });
      this.workers.push(slot);
    }
  }

  private fail(err: Error): void {
    this.failed ??= err;
    for (const job of this.jobs.values()) job.reject(err);
    this.jobs.clear();
  }

  check(segment: number, object: string, data: Buffer, m: Manifest): Promise<DataCheckResult> {
    if (this.failed) return Promise.reject(this.failed);
    const slot = this.workers.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    // Hand the bytes over without a copy when the buffer owns its memory.
    const own = data.byteOffset === 0 && data.buffer.byteLength === data.length && data.buffer instanceof ArrayBuffer;
    const bytes = own ? data : Buffer.from(data);
    return new Promise<DataCheckResult>((resolve, reject) => {
      this.jobs.set(id, { id, resolve, reject });
      slot.busy++;
      slot.worker.postMessage({ id, segment, object, data: bytes, manifest: m }, [bytes.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
