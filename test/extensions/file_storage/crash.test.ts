// kill -9 while enqueueing: every batch whose put resolved must come back
// intact; a batch torn mid-write must be discarded, never delivered half.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileQueueStore } from '../../../src/extensions/file_storage/file-queue-store.js';
import { tempDir } from '../../helpers/tmp.js';
import { captureLogger } from '../../exporters/otlp/harness.js';

const compiled = resolve('dist/src/extensions/file_storage/file-queue-store.js');
const writer = resolve('test/extensions/file_storage/crash-writer.mjs');

const payloadOf = (n: number) => Buffer.alloc(1000 + (n % 7) * 5000, n % 251);

const built = existsSync(compiled);
const why = built ? '' : ` (skipped: spawns the compiled store; run npm run build, ${compiled} is missing)`;

describe(`file queue store under kill -9${why}`, () => {
  it.skipIf(!built)('recovers every acknowledged batch intact', async () => {
    const dir = join(tempDir(), 'q');
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, [writer, compiled, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      const acked = new Set<number>();
      let buf = '';
      const exited = new Promise<void>((r) => child.on('exit', () => r()));
      await new Promise<void>((resolveKill, reject) => {
        const timer = setTimeout(() => reject(new Error('the writer acknowledged too few batches in time')), 30_000);
        child.stdout!.on('data', (chunk: Buffer) => {
          buf += chunk.toString('utf8');
          const lines = buf.split('\n');
          buf = lines.pop()!;
          for (const l of lines) acked.add(Number(l));
          // Kill at a different point each round while puts are in flight.
          if (acked.size >= 40 + round * 25 && !child.killed) {
            child.kill('SIGKILL');
            clearTimeout(timer);
            resolveKill();
          }
        });
      });
      await exited;

      const { logger } = captureLogger();
      const store = await FileQueueStore.open(dir, logger);
      const recovered = await store.recover();
      const byRecords = new Map(recovered.map((b) => [b.records, b]));
      expect(byRecords.size).toBe(recovered.length);
      for (const n of acked) {
        const b = byRecords.get(n);
        expect(b, `acknowledged batch ${n} is missing after kill -9`).toBeDefined();
        expect(Buffer.from((await store.read(b!))!).equals(payloadOf(n))).toBe(true);
      }
      // Whatever else survived is complete too (it was written, just not yet acknowledged).
      for (const b of recovered) expect(Buffer.from((await store.read(b))!).equals(payloadOf(b.records))).toBe(true);
      for (const b of recovered) await store.remove(b);
      await store.close();
    }
  });
});
