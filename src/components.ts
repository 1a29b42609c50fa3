// Every component type Vigil knows, by kind and type name. Adding a component
// means adding its factory here; the config loader and the service find it by
// `kind:type`.
import type { AnyFactory, CreateContext } from './pipeline/component.js';
import type { Registry } from './config/load.js';
import { debugExporterFactory } from './exporters/debug/debug.js';
import { fileExporterFactory } from './exporters/file/file.js';
import { wormConfigSchema } from './exporters/worm/config.js';
import { otlpGrpcConfigSchema, otlpHttpConfigSchema } from './exporters/otlp/config.js';
import { fileStorageExtensionFactory } from './extensions/file_storage/file_storage.js';
import { healthCheckConfigSchema } from './extensions/health_check/config.js';
import { bearerTokenAuthExtensionFactory } from './extensions/bearertokenauth/bearertokenauth.js';
import { memoryLimiterProcessorFactory } from './processors/memory_limiter/memory_limiter.js';
import { auditProcessorFactory } from './processors/audit/processor.js';
import { anomalyProcessorFactory } from './processors/anomaly/processor.js';
import { alertmanagerExporterFactory } from './exporters/alertmanager/alertmanager.js';
import { otlpReceiverConfigSchema } from './receivers/otlp/config.js';

/**
 * A factory whose implementation is imported by its first `create`: loading
 * and validating a config needs only the schema, and the archive, the OTLP
 * exporters, the receiver and the health check pull in gRPC, node:http and
 * dozens of modules that `vigil replay` or `vigil validate` never run. What it
 * declares (kind, type, mutatesData, the schema) must be the loaded factory's:
 * test/config/lazy-components.test.ts compares them.
 */
function loadedOnCreate<F extends AnyFactory>(declared: Omit<F, 'create'>, load: () => Promise<F>): F {
  return {
    ...declared,
    create: async (config: unknown, ctx: CreateContext) => (await load()).create(config, ctx),
  } as F;
}

/** The factories loaded on first create, and where from: compared with what they declare by a test. */
export const lazyFactories = {
  otlpReceiver: loadedOnCreate({ kind: 'receiver', type: 'otlp', configSchema: otlpReceiverConfigSchema }, async () => (await import('./receivers/otlp/otlp.js')).otlpReceiverFactory),
  wormExporter: loadedOnCreate({ kind: 'exporter', type: 'worm', mutatesData: false, configSchema: wormConfigSchema }, async () => (await import('./exporters/worm/worm.js')).wormExporterFactory),
  otlpGrpcExporter: loadedOnCreate(
    { kind: 'exporter', type: 'otlp_grpc', mutatesData: false, configSchema: otlpGrpcConfigSchema },
    async () => (await import('./exporters/otlp/otlp.js')).otlpGrpcExporterFactory,
  ),
  otlpHttpExporter: loadedOnCreate(
    { kind: 'exporter', type: 'otlp_http', mutatesData: false, configSchema: otlpHttpConfigSchema },
    async () => (await import('./exporters/otlp/otlp.js')).otlpHttpExporterFactory,
  ),
  healthCheckExtension: loadedOnCreate(
    { kind: 'extension', type: 'health_check', configSchema: healthCheckConfigSchema },
    async () => (await import('./extensions/health_check/health_check.js')).healthCheckExtensionFactory,
  ),
};

export const factories: AnyFactory[] = [
  lazyFactories.otlpReceiver,
  debugExporterFactory,
  fileExporterFactory,
  lazyFactories.wormExporter,
  lazyFactories.otlpGrpcExporter,
  lazyFactories.otlpHttpExporter,
  fileStorageExtensionFactory,
  lazyFactories.healthCheckExtension,
  bearerTokenAuthExtensionFactory,
  memoryLimiterProcessorFactory,
  auditProcessorFactory,
  anomalyProcessorFactory,
  alertmanagerExporterFactory,
];

export function defaultRegistry(extra: AnyFactory[] = []): Registry {
  const m = new Map<string, AnyFactory>();
  for (const f of [...factories, ...extra]) m.set(`${f.kind}:${f.type}`, f);
  return m;
}
