// Building exporters the way the service does (validated config → factory →
// start(host)), with logs captured for assertions and metrics read back.
import { pino } from 'pino';
import type { Exporter, Extension, Host } from '../../../src/pipeline/component.js';
import { otlpGrpcExporterFactory, otlpHttpExporterFactory } from '../../../src/exporters/otlp/otlp.js';
import { FileStorageExtension, fileStorageExtensionFactory } from '../../../src/extensions/file_storage/file_storage.js';
import type { Logger } from '../../../src/telemetry/logger.js';
import { Telemetry } from '../../../src/telemetry/metrics.js';

export interface LogLine {
  level: string;
  msg: string;
  [k: string]: unknown;
}

export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: 'debug', formatters: { level: (label) => ({ level: label }) } },
    { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) },
  );
  return { logger, lines };
}

/** A host that serves extensions by id, as the Service does. */
export function hostWith(extensions: Record<string, Extension> = {}): Host {
  return { state: 'ready', getExtension: <T extends Extension>(id: string) => extensions[id] as T | undefined };
}

export async function startFileStorage(directory: string, id = 'file_storage'): Promise<FileStorageExtension> {
  const ext = (await fileStorageExtensionFactory.create(fileStorageExtensionFactory.configSchema.parse({ directory }), {
    id,
    logger: pino({ level: 'silent' }),
    telemetry: new Telemetry({ processMetrics: false }),
  })) as FileStorageExtension;
  await ext.start();
  return ext;
}

export interface Built {
  exporter: Exporter;
  telemetry: Telemetry;
  lines: LogLine[];
}

export async function buildExporter(
  type: 'otlp_grpc' | 'otlp_http',
  raw: Record<string, unknown>,
  opts: { id?: string; host?: Host; telemetry?: Telemetry } = {},
): Promise<Built> {
  const factory = type === 'otlp_grpc' ? otlpGrpcExporterFactory : otlpHttpExporterFactory;
  const { logger, lines } = captureLogger();
  const telemetry = opts.telemetry ?? new Telemetry({ processMetrics: false });
  const config = factory.configSchema.parse(raw);
  const exporter = await (factory.create as (c: unknown, ctx: unknown) => Exporter)(config, { id: opts.id ?? type, logger, telemetry });
  await exporter.start?.(opts.host ?? hostWith());
  return { exporter, telemetry, lines };
}

export async function metric(telemetry: Telemetry, name: string, exporter: string): Promise<number> {
  const m = await telemetry.registry.getSingleMetric(name)!.get();
  return m.values.find((v) => v.labels.exporter === exporter)?.value ?? 0;
}

/** A shutdown deadline signal, aborted after `ms`. */
export function deadline(ms: number): AbortSignal {
  return AbortSignal.timeout(ms);
}

/** Fast retries for tests: the Collector's shape, millisecond intervals, no jitter. */
export const FAST_RETRY = { initial_interval: '5ms', max_interval: '20ms', randomization_factor: 0 };
