// The `file_storage` extension, after the Collector's: a directory under which
// each exporter that names it in `sending_queue.storage` keeps its own durable
// queue (`<directory>/<exporter id>`, with `/` in the id written as `~`).
import { access, constants, mkdir, stat } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from '../../config/errors.js';
import type { ExtensionFactory } from '../../pipeline/component.js';
import type { Logger } from '../../telemetry/logger.js';
import { FileQueueStore } from './file-queue-store.js';
import type { QueueStorageExtension, QueueStore } from './queue-store.js';

export const fileStorageConfigSchema = z
  .object({
    directory: z.string().min(1, 'set the directory that holds the queues, e.g. ./vigil-data/queue').default('./vigil-data/queue'),
    create_directory: z.boolean().default(true),
  })
  .strict();
export type FileStorageConfig = z.infer<typeof fileStorageConfigSchema>;

/** The queue directory name of a component id: `otlp_grpc/eu` → `otlp_grpc~eu` (ids never contain `~`). */
export function queueDirName(ownerId: string): string {
  return ownerId.replaceAll('/', '~');
}

export class FileStorageExtension implements QueueStorageExtension {
  private readonly open = new Map<string, QueueStore>();

  constructor(
    private readonly id: string,
    private readonly config: FileStorageConfig,
  ) {}

  get directory(): string {
    return this.config.directory.replace(/\/+$/, '') || '/';
  }

  describe(): string[] {
    return [`queues in ${this.directory} (${this.id})`];
  }

  async start(): Promise<void> {
    const dir = this.directory;
    const where = `extensions.${this.id}.directory`;
    try {
      if (this.config.create_directory) await mkdir(dir, { recursive: true });
      if (!(await stat(dir)).isDirectory()) throw new Error('not a directory');
      await access(dir, constants.R_OK | constants.W_OK);
    } catch (err) {
      throw new ConfigError([{ path: where, message: `cannot use ${dir} for queues: ${(err as Error).message}` }]);
    }
  }

  async openQueue(ownerId: string, logger: Logger): Promise<QueueStore> {
    const store = await FileQueueStore.open(`${this.directory}/${queueDirName(ownerId)}`, logger, () => this.open.delete(ownerId));
    this.open.set(ownerId, store);
    return store;
  }

  /** Exporters close their queues first; this only releases what one left open. */
  async shutdown(): Promise<void> {
    for (const store of [...this.open.values()]) await store.close();
  }
}

export const fileStorageExtensionFactory: ExtensionFactory<FileStorageConfig> = {
  kind: 'extension',
  type: 'file_storage',
  configSchema: fileStorageConfigSchema,
  create: (config, ctx) => new FileStorageExtension(ctx.id, config),
};
