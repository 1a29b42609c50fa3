// The `file` exporter: OTLP JSON lines (one ExportLogsServiceRequest per line,
// the Collector file exporter's format), fsync'd before the batch is
// acknowledged, rotated by size like the Collector's (lumberjack) rotation.
import { mkdir, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { z } from 'zod';
import type { Exporter, ExporterFactory } from '../../pipeline/component.js';
import type { ReadonlyBatch } from '../../pipeline/record.js';
import { asRefusal } from '../../pipeline/errors.js';
import { batchToRequest } from '../../otlp/convert.js';
import { encodeJsonLine } from '../../otlp/json.js';
import { GroupCommitFile } from '../../util/group-commit.js';
import type { Telemetry } from '../../telemetry/metrics.js';

export const fileConfigSchema = z
  .object({
    path: z.string().min(1, 'set the file to write, e.g. ./vigil-data/archive.jsonl'),
    rotation: z
      .object({
        max_megabytes: z.number().positive().default(100),
        max_backups: z.number().int().nonnegative().default(100),
      })
      .strict()
      .optional(),
  })
  .strict();
export type FileConfig = z.infer<typeof fileConfigSchema>;

export class FileExporter implements Exporter {
  private file: GroupCommitFile | undefined;
  private rotating: Promise<void> | undefined;

  constructor(
    private readonly id: string,
    private readonly config: FileConfig,
    private readonly telemetry: Telemetry,
  ) {}

  describe(): string[] {
    return [`file ${this.config.path}`];
  }

  async start(): Promise<void> {
    await mkdir(dirname(this.config.path), { recursive: true });
    this.file = await GroupCommitFile.open(this.config.path);
  }

  async consume(batch: ReadonlyBatch): Promise<void> {
    if (!this.file) throw asRefusal(new Error('file exporter is not started'));
    const line = encodeJsonLine(batchToRequest(batch));
    try {
      while (this.rotating) await this.rotating;
      await this.file.append(line);
    } catch (err) {
      throw asRefusal(err);
    }
    this.telemetry.exporterSent.inc({ exporter: this.id }, batch.length);
    const max = this.config.rotation ? this.config.rotation.max_megabytes * 1024 * 1024 : Infinity;
    if (this.file.size >= max && !this.rotating) {
      this.rotating = this.rotate().finally(() => (this.rotating = undefined));
    }
  }

  private async rotate(): Promise<void> {
    const path = this.config.path;
    await this.file!.close();
    const ext = extname(path);
    const stamp = new Date().toISOString().replace(/:/g, '-').replace('Z', '');
    await rename(path, join(dirname(path), `${basename(path, ext)}-${stamp}${ext}`));
    this.file = await GroupCommitFile.open(path);
    const keep = this.config.rotation!.max_backups;
    if (keep > 0) {
      const prefix = `${basename(path, ext)}-`;
      const backups = (await readdir(dirname(path))).filter((f) => f.startsWith(prefix) && f.endsWith(ext)).sort();
      for (const old of backups.slice(0, Math.max(0, backups.length - keep))) await unlink(join(dirname(path), old));
    }
  }

  async shutdown(): Promise<void> {
    while (this.rotating) await this.rotating;
    await this.file?.close();
  }
}

export const fileExporterFactory: ExporterFactory<FileConfig> = {
  kind: 'exporter',
  type: 'file',
  mutatesData: false,
  configSchema: fileConfigSchema,
  create: (config, ctx) => new FileExporter(ctx.id, config, ctx.telemetry),
};
