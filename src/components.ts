// Every component type Vigil knows, by kind and type name. Adding a component
// means adding its factory here; the config loader and the service find it by
// `kind:type`.
import type { AnyFactory } from './pipeline/component.js';
import type { Registry } from './config/load.js';
import { debugExporterFactory } from './exporters/debug/debug.js';
import { fileExporterFactory } from './exporters/file/file.js';
import { wormExporterFactory } from './exporters/worm/worm.js';
import { otlpGrpcExporterFactory, otlpHttpExporterFactory } from './exporters/otlp/otlp.js';
import { fileStorageExtensionFactory } from './extensions/file_storage/file_storage.js';
import { healthCheckExtensionFactory } from './extensions/health_check/health_check.js';
import { bearerTokenAuthExtensionFactory } from './extensions/bearertokenauth/bearertokenauth.js';
import { memoryLimiterProcessorFactory } from './processors/memory_limiter/memory_limiter.js';
import { auditProcessorFactory } from './processors/audit/processor.js';
import { anomalyProcessorFactory } from './processors/anomaly/processor.js';
import { alertmanagerExporterFactory } from './exporters/alertmanager/alertmanager.js';
import { otlpReceiverFactory } from './receivers/otlp/otlp.js';

export const factories: AnyFactory[] = [
  otlpReceiverFactory,
  debugExporterFactory,
  fileExporterFactory,
  wormExporterFactory,
  otlpGrpcExporterFactory,
  otlpHttpExporterFactory,
  fileStorageExtensionFactory,
  healthCheckExtensionFactory,
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
