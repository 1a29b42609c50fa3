// Building audit processors and records for the audit tests.
import Long from 'long';
import { auditConfigSchema } from '../../../src/processors/audit/config.js';
import { type AuditProcessor, createAuditProcessor } from '../../../src/processors/audit/processor.js';
import type { AnyValue, KeyValue, ResourceContext, ScopeContext, VigilRecord } from '../../../src/pipeline/record.js';
import { scalarOf } from '../../../src/pipeline/record.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { Telemetry } from '../../../src/telemetry/metrics.js';

export function auditProcessor(config: unknown = {}, env?: NodeJS.ProcessEnv): AuditProcessor {
  return createAuditProcessor(auditConfigSchema.parse(config), 'audit', silentLogger(), new Telemetry({ processMetrics: false }), env ? { env } : {});
}

export function resource(attrs: Record<string, string> = {}): ResourceContext {
  return { resource: { attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: { stringValue: v } })) }, schemaUrl: '' };
}

export const scope: ScopeContext = { scope: { name: 'test' }, schemaUrl: '' };

/** A record as a receiver would hand it over: time 0 unless given, attributes as sent. */
export function record(body: AnyValue | string | undefined, attrs: KeyValue[] = [], res: ResourceContext = resource()): VigilRecord {
  return {
    resource: res,
    scope,
    log: {
      timeUnixNano: Long.UZERO,
      observedTimeUnixNano: Long.fromString('1700000000000000000', true),
      body: typeof body === 'string' ? { stringValue: body } : body,
      attributes: attrs,
    },
  };
}

/** The record's attributes as a plain object (scalars as JS values, arrays as arrays). */
export function attrsOf(rec: VigilRecord): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const kv of rec.log.attributes) {
    const v = kv.value;
    if (v?.arrayValue) o[kv.key] = v.arrayValue.values.map((e) => scalarOf(e));
    else o[kv.key] = scalarOf(v);
  }
  return o;
}
