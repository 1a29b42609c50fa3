// The `debug` exporter: a one-line summary per batch on stdout (basic), or one
// line per record too (detailed). For trying pipelines out, not for production.
import { z } from 'zod';
import type { Exporter, ExporterFactory } from '../../pipeline/component.js';
import type { ReadonlyBatch } from '../../pipeline/record.js';
import { logRecordJsonText } from '../../otlp/json.js';

export const debugConfigSchema = z
  .object({ verbosity: z.enum(['basic', 'normal', 'detailed']).default('basic') })
  .strict();
export type DebugConfig = z.infer<typeof debugConfigSchema>;

export class DebugExporter implements Exporter {
  constructor(
    private readonly id: string,
    private readonly config: DebugConfig,
    private readonly write: (line: string) => void,
  ) {}

  async consume(batch: ReadonlyBatch): Promise<void> {
    const resources = new Set(batch.map((r) => r.resource)).size;
    this.write(`${this.id}: ${batch.length} log records, ${resources} resources`);
    if (this.config.verbosity !== 'basic') {
      for (const r of batch) this.write(logRecordJsonText(r.log));
    }
  }
}

export const debugExporterFactory: ExporterFactory<DebugConfig> = {
  kind: 'exporter',
  type: 'debug',
  mutatesData: false,
  configSchema: debugConfigSchema,
  create: (config, ctx) => new DebugExporter(ctx.id, config, (line) => process.stdout.write(`${line}\n`)),
};
