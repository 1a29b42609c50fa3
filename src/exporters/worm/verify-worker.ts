// A verify worker thread: checks one segment (its bytes, or its local file) against its manifest per message.
import { parentPort } from 'node:worker_threads';
import type { Manifest } from './manifest.js';
import { runJob } from './verify-pool.js';

parentPort!.on('message', (job: { id: number; segment: number; object: string; manifest: Manifest; data?: Uint8Array; path?: string }) => {
  const data = job.data && Buffer.from(job.data.buffer, job.data.byteOffset, job.data.byteLength);
  const input = data ? { ...job, data, path: undefined } : { ...job, path: job.path!, data: undefined };
  // A check that throws (a manifest it cannot use: verify starts checks before it has read their
  // manifests) fails its own job, as on the main thread; the worker goes on with the next.
  runJob(input).then(
    (result) => parentPort!.postMessage({ id: job.id, result }),
    (err: unknown) => parentPort!.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) }),
  );
});
