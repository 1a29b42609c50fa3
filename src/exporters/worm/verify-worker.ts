// A verify worker thread: checks one segment (its bytes, or its local file) against its manifest per message.
import { parentPort } from 'node:worker_threads';
import type { Manifest } from './manifest.js';
import { runJob } from './verify-pool.js';

parentPort!.on('message', (job: { id: number; segment: number; object: string; manifest: Manifest; data?: Uint8Array; path?: string }) => {
  const data = job.data && Buffer.from(job.data.buffer, job.data.byteOffset, job.data.byteLength);
  const input = data ? { ...job, data, path: undefined } : { ...job, path: job.path!, data: undefined };
  runJob(input).then(
    (result) => parentPort!.postMessage({ id: job.id, result }),
    (err: Error) => {
      throw err;
    },
  );
});
