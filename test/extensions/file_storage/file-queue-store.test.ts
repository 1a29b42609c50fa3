import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConfigError } from '../../../src/config/errors.js';
import { FileQueueStore } from '../../../src/extensions/file_storage/file-queue-store.js';
import { fileStorageConfigSchema, queueDirName } from '../../../src/extensions/file_storage/file_storage.js';
import { tempDir } from '../../helpers/tmp.js';
import { captureLogger, startFileStorage } from '../../exporters/otlp/harness.js';

const payload = (i: number) => Buffer.alloc(100 + i * 10, i);

describe('file queue store', () => {
  it('stores batches durably and recovers them in queue order after a reopen', async () => {
    const dir = join(tempDir(), 'q');
    const { logger } = captureLogger();
    const a = await FileQueueStore.open(dir, logger);
    expect(await a.recover()).toEqual([]);
    // Concurrent puts share directory fsyncs; every one resolves once durable.
    const stored = await Promise.all(Array.from({ length: 20 }, (_, i) => a.put(payload(i), i + 1)));
    expect(stored.map((b) => b.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    await a.remove(stored[3]);
    await a.remove(stored[3]); // removing twice is harmless
    await a.close();

    const b = await FileQueueStore.open(dir, logger);
    const recovered = await b.recover();
    expect(recovered.map((r) => r.seq)).toEqual(stored.map((s) => s.seq).filter((s) => s !== 3));
    expect(recovered.every((r) => r.payload === undefined)).toBe(true);
    for (const r of recovered) {
      expect(r.records).toBe(r.seq + 1);
      expect(Buffer.from((await b.read(r))!).equals(payload(r.seq))).toBe(true);
    }
    // Sequence numbers continue after what is on disk.
    expect((await b.put(payload(1), 1)).seq).toBe(20);
    await b.close();
    await expect(b.put(payload(1), 1)).rejects.toThrow(/closed/);
  });

  it('ignores files that are not batches and leaves no lock behind when closed', async () => {
    const dir = join(tempDir(), 'q');
    const { logger } = captureLogger();
    const a = await FileQueueStore.open(dir, logger);
    await a.recover();
    writeFileSync(join(dir, 'README'), 'operator notes');
    await a.put(payload(1), 1);
    expect(existsSync(join(dir, '.lock'))).toBe(true);
    await a.close();
    expect(readdirSync(dir).sort()).toEqual(['0000000000000000.batch', 'README']);
    // Queued logs are readable by their owner only.
    expect(statSync(join(dir, '0000000000000000.batch')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('locks the directory: a second open in this process or a live other process is refused, a stale lock is taken over', async () => {
    const dir = join(tempDir(), 'q');
    const { logger } = captureLogger();
    const a = await FileQueueStore.open(dir, logger);
    await expect(FileQueueStore.open(dir, logger)).rejects.toThrow(/already open in this process/);
    await a.close();

    // A live process that is not us (our parent) holds it.
    writeFileSync(join(dir, '.lock'), `${process.ppid}\n`);
    await expect(FileQueueStore.open(dir, logger)).rejects.toThrow(`in use by process ${process.ppid}`);

    // A process that has exited held it (kill -9 leaves its lock behind).
    const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    writeFileSync(join(dir, '.lock'), gone.stdout);
    const b = await FileQueueStore.open(dir, logger);
    await b.close();
  });

  it('file_storage gives each exporter its own directory', async () => {
    const dir = tempDir();
    expect(queueDirName('otlp_grpc')).toBe('otlp_grpc');
    expect(queueDirName('otlp_http/eu-west')).toBe('otlp_http~eu-west');
    expect(fileStorageConfigSchema.parse({})).toEqual({ directory: './vigil-data/queue', create_directory: true });
    expect(fileStorageConfigSchema.safeParse({ directory: '/x', compaction: {} }).success).toBe(false);
    const ext = await startFileStorage(join(dir, 'queues/'));
    const { logger } = captureLogger();
    const a = await ext.openQueue('otlp_grpc', logger);
    const b = await ext.openQueue('otlp_http/eu', logger);
    expect(a.location).toBe(join(dir, 'queues', 'otlp_grpc'));
    expect(b.location).toBe(join(dir, 'queues', 'otlp_http~eu'));
    expect(ext.describe()).toEqual([`queues in ${join(dir, 'queues')} (file_storage)`]);
    // The extension releases what an exporter left open.
    await ext.shutdown();
    const again = await ext.openQueue('otlp_grpc', logger);
    await again.close();
  });

  it('file_storage refuses a directory it cannot use, naming the key', async () => {
    const dir = tempDir();
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    const err = await startFileStorage(file, 'file_storage/x').catch((e: unknown) => e);
    expect((err as ConfigError).issues[0]).toMatchObject({ path: 'extensions.file_storage/x.directory', message: expect.stringContaining(`cannot use ${file}`) });
  });
});
