// Segment data checks (decompression, every entry hash and link, Merkle root) are
// independent per segment: run them on every core, the main thread taking its
// share between reading files and walking the manifest chain (a check works
// piece by piece, so it never holds the event loop for long) and a worker
// thread per other core. A worker costs ~0.1 s of CPU to start, so the main
// thread checking too saves one; `vigil verify` starts the workers ahead, while
// the CLI loads (prestartWorkers). Under the TypeScript sources (tests) the checks
// run in-process only: same code, same results.
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Manifest } from './manifest.js';
import { type FileCheckResult, checkSegmentBytes, checkSegmentFile } from './verify-data.js';
import type { DataCheckResult } from './verify-segment.js';

export interface DataChecker {
  /** Segments checked at the same time. */
  readonly parallel: number;
  check(segment: number, object: string, data: Buffer, m: Manifest): Promise<DataCheckResult>;
  /** checkSegmentFile on one of the threads: the local file proven intact as it is read, else undefined. */
  checkFile(segment: number, object: string, path: string, m: Manifest): Promise<FileCheckResult | undefined>;
  close(): Promise<void>;
}

/** What a thread is asked: one segment's bytes (`data`) or its local file (`path`). */
export type JobInput = { segment: number; object: string; manifest: Manifest } & ({ data: Buffer; path?: undefined } | { path: string; data?: undefined });
type JobResult = DataCheckResult | FileCheckResult | undefined;
/** A worker's answer to job `id`: its result, or why its check failed (that job only). */
type JobMessage = { id: number; result: JobResult; error?: undefined } | { id: number; error: string; result?: undefined };
const failure = (message: string) => new Error(`verify: a segment check failed on a worker thread: ${message}`);

/** Runs a job in this thread. */
export function runJob(job: JobInput): Promise<JobResult> {
  return job.path !== undefined ? checkSegmentFile(job.path, job.object, job.manifest) : checkSegmentBytes(job.segment, job.object, job.data, job.manifest);
}

type Job = JobInput & {
  id: number;
  resolve: (r: JobResult) => void;
  reject: (e: unknown) => void;
};

const compiled = import.meta.url.endsWith('.js');

/** Whether worker threads pay for an archive of `segments` sealed segments holding `sealedBytes`: enough data to amortise their start-up. */
export function workersPay(sealedBytes: number, segments: number): boolean {
  return sealedBytes >= 16 * 1024 * 1024 && segments >= 3;
}

/** A worker started ahead by prestartWorkers (not keeping the process alive until a pool takes it), and the segment it checks meanwhile. */
interface Spare {
  worker: Worker;
  job: Job | undefined;
  /** Settle `job` until a pool takes the worker (and with it the job). */
  listen: (message: JobMessage) => void;
  fail: (err: Error) => void;
  /** A worker that stopped before a pool took it is dropped (a pool would wait on it forever). */
  exited: () => void;
}
const spares: Spare[] = [];
/** Checks of segment files started ahead, by file and manifest: taken by the first checkFile asking for exactly that. */
const started = new Map<string, Promise<JobResult>>();
let nextJobId = 0;

const startedKey = (path: string, m: Manifest) => `${resolve(path)}\n${JSON.stringify(m)}`;

/**
 * Starts the worker threads a default-sized pool will take, before the caller
 * loads the rest of `vigil verify` (cli/verify-prestart.ts): their start-up
 * (~0.1 s of CPU, half a second of wall time on a loaded machine) then overlaps
 * the main thread's instead of delaying the first segments, and each checks one
 * of `ahead` (the first segment files, with the manifests as read, unverified:
 * as verify's own jobs take them) meanwhile. Under the TypeScript sources: nothing.
 */
export function prestartWorkers(ahead: readonly { object: string; path: string; manifest: Manifest }[] = []): void {
  if (!compiled) return;
  for (let i = spares.length; i < defaultThreads() - 1; i++) {
    const worker = newWorker();
    const spare: Spare = {
      worker,
      job: undefined,
      listen: ({ id, result, error }) => {
        if (spare.job?.id !== id) return;
        if (error === undefined) spare.job.resolve(result);
        else spare.job.reject(failure(error));
        spare.job = undefined;
      },
      fail: (err) => {
        spare.job?.reject(err);
        spare.job = undefined;
      },
      exited: () => {
        if (spares.includes(spare)) spares.splice(spares.indexOf(spare), 1);
        spare.fail(new Error('a verify worker started ahead exited'));
      },
    };
    worker.on('message', spare.listen).on('error', spare.fail).on('exit', spare.exited);
    // After the listeners: adding a 'message' listener refs the worker again, and a verify that stops
    // before taking it into a pool (a usage error) would then never exit.
    worker.unref();
    const input = ahead[i];
    if (input) {
      const early = new Promise<JobResult>((resolve, reject) => {
        spare.job = { segment: input.manifest.segment, object: input.object, manifest: input.manifest, path: input.path, id: nextJobId++, resolve, reject };
      });
      early.catch(() => undefined); // only ever awaited by the checkFile that takes it
      started.set(startedKey(input.path, input.manifest), early);
      post(worker, spare.job!);
    }
    spares.push(spare);
  }
}

function defaultThreads(): number {
  return compiled ? Math.min(8, availableParallelism()) : 1;
}

function newWorker(): Worker {
  return new Worker(new URL('./verify-worker.js', import.meta.url));
}

function stopSpares(): Promise<unknown> {
  started.clear();
  return Promise.all(spares.splice(0).map((s) => s.worker.terminate()));
}

/** Sends a job to a worker; throws when it cannot be sent. */
function post(worker: Worker, job: Job): void {
  const { id, segment, object, manifest, path, data } = job;
  if (data === undefined) {
    worker.postMessage({ id, segment, object, manifest, path });
    return;
  }
  // Hand the bytes over without a copy when the buffer owns its memory. A copy must own its
  // memory too: Buffer.from would put a small one in the shared pool, which cannot be transferred.
  const own = data.byteOffset === 0 && data.buffer.byteLength === data.length && data.buffer instanceof ArrayBuffer;
  const bytes = own ? data : Buffer.allocUnsafeSlow(data.length);
  if (!own) data.copy(bytes);
  worker.postMessage({ id, segment, object, manifest, data: bytes }, [bytes.buffer as ArrayBuffer]);
}

/**
 * `threads`: how many threads check segment data, the main thread one of them
 * (0 or 1: the main thread alone); undefined = one per core (at most 8) when
 * running compiled code.
 */
export function createDataChecker(threads?: number): DataChecker {
  const n = threads ?? defaultThreads();
  if (n <= 1 || !compiled) {
    void stopSpares();
    return { parallel: 1, check: (s, o, d, m) => checkSegmentBytes(s, o, d, m), checkFile: (_s, o, p, m) => checkSegmentFile(p, o, m), close: async () => {} };
  }
  return new ThreadPool(n);
}

interface Slot {
  job: Job | undefined;
  run(job: Job): void;
}

/**
 * Each thread holds at most one job; the others wait here and go to whichever
 * thread finishes first (a job queued on a busy worker as soon as it arrived
 * let the last segments pile up on one worker while another sat idle).
 */
class ThreadPool implements DataChecker {
  private readonly slots: Slot[] = [];
  private readonly workers: Worker[] = [];
  private readonly waiting: Job[] = [];
  private failed: Error | undefined;

  constructor(readonly parallel: number) {
    const main: Slot = {
      job: undefined,
      run: (job) =>
        void runJob(job).then(
          (r) => this.done(main, job, r),
          (err: unknown) => this.done(main, job, undefined, err ?? new Error('verify: a segment check failed')),
        ),
    };
    this.slots.push(main);
    for (let i = 1; i < parallel; i++) {
      // A worker started ahead comes with the segment it is checking, if it still is: its slot holds that job.
      const spare = spares.shift();
      const worker = spare?.worker ?? newWorker();
      if (spare) worker.off('message', spare.listen).off('error', spare.fail).off('exit', spare.exited);
      worker.ref();
      const slot: Slot = {
        job: spare?.job,
        run: (job) => {
          try {
            post(worker, job);
          } catch (err) {
            queueMicrotask(() => this.done(slot, job, undefined, err)); // after dispatch has finished with this slot
          }
        },
      };
      worker.on('message', ({ id, result, error }: JobMessage) => {
        if (slot.job?.id === id) this.done(slot, slot.job, result, error === undefined ? undefined : failure(error));
      });
      worker.on('error', (err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err))));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`verify worker exited with code ${code}`));
      });
      this.slots.push(slot);
      this.workers.push(worker);
    }
  }

  private done(slot: Slot, job: Job, r: JobResult, err?: unknown): void {
    slot.job = undefined;
    this.dispatch();
    if (err === undefined) job.resolve(r);
    else job.reject(err);
  }

  private fail(err: Error): void {
    this.failed ??= err;
    for (const slot of this.slots.slice(1)) {
      slot.job?.reject(err);
      slot.job = undefined;
    }
    for (const job of this.waiting.splice(0)) job.reject(err);
  }

  /** Idle workers first: the main thread also reads the files that feed them. */
  private dispatch(): void {
    for (const slot of [...this.slots.slice(1), this.slots[0]]) {
      if (slot.job || this.failed) continue;
      const job = this.waiting.shift();
      if (!job) return;
      slot.job = job;
      slot.run(job);
    }
  }

  check(segment: number, object: string, data: Buffer, m: Manifest): Promise<DataCheckResult> {
    return this.submit({ segment, object, manifest: m, data }) as Promise<DataCheckResult>;
  }

  checkFile(segment: number, object: string, path: string, m: Manifest): Promise<FileCheckResult | undefined> {
    const key = startedKey(path, m);
    const early = started.get(key);
    if (early) {
      started.delete(key);
      return early as Promise<FileCheckResult | undefined>;
    }
    return this.submit({ segment, object, manifest: m, path }) as Promise<FileCheckResult | undefined>;
  }

  private submit(input: JobInput): Promise<JobResult> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise<JobResult>((resolve, reject) => {
      this.waiting.push({ ...input, id: nextJobId++, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.workers.map((w) => w.terminate()), stopSpares()]);
  }
}
