// Components whose implementation is imported on first create (src/components.ts)
// declare their kind, type, mutatesData and schema up front: those must be the
// implementation's own, else the config would be validated against one thing
// and run as another.
import { describe, expect, it } from 'vitest';
import { defaultRegistry, lazyFactories } from '../../src/components.js';
import { otlpReceiverFactory } from '../../src/receivers/otlp/otlp.js';
import { wormExporterFactory } from '../../src/exporters/worm/worm.js';
import { otlpGrpcExporterFactory, otlpHttpExporterFactory } from '../../src/exporters/otlp/otlp.js';
import { healthCheckExtensionFactory } from '../../src/extensions/health_check/health_check.js';
import type { AnyFactory } from '../../src/pipeline/component.js';

const declared = (f: AnyFactory) => ({ kind: f.kind, type: f.type, mutatesData: f.mutatesData, configSchema: f.configSchema });

describe('components loaded on first create', () => {
  it('declare what their implementation declares, and are the ones registered', () => {
    const pairs: [AnyFactory, AnyFactory][] = [
      [lazyFactories.otlpReceiver, otlpReceiverFactory],
      [lazyFactories.wormExporter, wormExporterFactory],
      [lazyFactories.otlpGrpcExporter, otlpGrpcExporterFactory],
      [lazyFactories.otlpHttpExporter, otlpHttpExporterFactory],
      [lazyFactories.healthCheckExtension, healthCheckExtensionFactory],
    ];
    const registry = defaultRegistry();
    for (const [lazy, real] of pairs) {
      expect(declared(lazy)).toEqual(declared(real));
      expect(lazy.configSchema).toBe(real.configSchema);
      expect(registry.get(`${real.kind}:${real.type}`)).toBe(lazy);
    }
    expect(Object.keys(lazyFactories)).toHaveLength(pairs.length);
  });
});
