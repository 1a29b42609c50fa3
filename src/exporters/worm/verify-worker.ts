// A verify worker thread: checks one segment's bytes against its manifest per message.
import { parentPort } from 'node:worker_threads';
import type { Manifest } from './manifest.js';
import { checkSegmentBytes } from './verify-data.js';

parentPort!.on('message', (job: { id: number; segment: number; object: string; data: Uint8Array; manifest: Manifest }) => {
  const data = Buffer.from(job.data.buffer, job.data.byteOffset, job.data.byteLength);
  checkSegmentBytes(job.segment, job.object, data, job.manifest).then(
    (r) => parentPort!.postMessage({ id: job.id, ...r }),
    (err: Error) => {
      throw err;
    },
  );
});
