// Every component type Vigil knows, by kind and type name. Adding a component
// means adding its factory here; the config loader and the service find it by
// `kind:type`.
import type { AnyFactory } from './pipeline/component.js';
import type { Registry } from './config/load.js';
import { debugExporterFactory } from './exporters/debug/debug.js';
import { fileExporterFactory } from './exporters/file/file.js';
import { healthCheckExtensionFactory } from './extensions/health_check/health_check.js';

export const factories: AnyFactory[] = [
  debugExporterFactory,
  fileExporterFactory,
  healthCheckExtensionFactory,
];

export function defaultRegistry(extra: AnyFactory[] = []): Registry {
  const m = new Map<string, AnyFactory>();
  for (const f of [...factories, ...extra]) m.set(`${f.kind}:${f.type}`, f);
  return m;
}
