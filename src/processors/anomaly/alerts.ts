// Alerts as log records (event name `vigil.anomaly`), appended to the batch so
// they are archived and forwarded like everything else. They come under a
// resource and scope of their own (service.name=vigil, scope vigil.anomaly),
// their time is the triggering record's event time (replay gives the same
// alerts), and their audit.record_id is derived from their content, so a
// replayed or retried alert is recognisably the same alert.
import { createHash } from 'node:crypto';
import {
  anyValue,
  type KeyValue,
  millisToNanos,
  type ResourceContext,
  type ScopeContext,
  type VigilRecord,
} from '../../pipeline/record.js';
import { type AlertEvent, EVENT_NAME, stringArray } from './scorer.js';

export const ALERT_SCOPE = 'vigil.anomaly';
/** At or above this score an alert is critical, below it a warning. */
export const CRITICAL_SCORE = 0.99;

export function severityOf(score: number): 'warning' | 'critical' {
  return score >= CRITICAL_SCORE ? 'critical' : 'warning';
}

export class AlertRecords {
  private readonly resource: ResourceContext;
  private readonly scope: ScopeContext;

  constructor(processorId: string) {
    this.resource = {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'vigil' } }] },
      schemaUrl: '',
    };
    this.scope = {
      scope: { name: ALERT_SCOPE, version: '1', attributes: [{ key: 'vigil.processor', value: { stringValue: processorId } }] },
      schemaUrl: '',
    };
  }

  build(a: AlertEvent, cooldownMs: number): VigilRecord {
    const severity = severityOf(a.score);
    const id = createHash('sha256')
      .update(`${a.detector}\u001f${a.key}\u001f${a.timeMs}\u001f${a.sourceRecordId ?? ''}`)
      .digest('hex')
      .slice(0, 32);
    const attributes: KeyValue[] = [
      { key: 'audit.record_id', value: { stringValue: `anomaly-${id}` } },
      { key: 'anomaly.alert_id', value: { stringValue: a.alertId } },
      { key: 'anomaly.detector', value: { stringValue: a.detector } },
      { key: 'anomaly.kind', value: { stringValue: a.kind } },
      { key: 'anomaly.key', value: { stringValue: a.key } },
      { key: 'anomaly.score', value: { doubleValue: a.score } },
      { key: 'anomaly.detected', value: { boolValue: true } },
      { key: 'anomaly.severity', value: { stringValue: severity } },
      { key: 'anomaly.reasons', value: stringArray([a.reason]) },
      { key: 'anomaly.cooldown_seconds', value: { doubleValue: cooldownMs / 1000 } },
    ];
    if (a.sourceRecordId !== undefined) attributes.push({ key: 'anomaly.source_record_id', value: { stringValue: a.sourceRecordId } });
    // The key's attributes too, for routing and grouping downstream (first name of a|b; not derived ones like net()).
    for (const [ref, v] of a.keyAttributes) {
      const name = ref.split('|')[0].trim();
      if (name.includes('(') || attributes.some((kv) => kv.key === name)) continue;
      attributes.push({ key: name, value: anyValue(v) });
    }
    const time = millisToNanos(a.timeMs);
    return {
      resource: this.resource,
      scope: this.scope,
      log: {
        timeUnixNano: time,
        observedTimeUnixNano: time,
        severityNumber: severity === 'critical' ? 17 : 13,
        severityText: severity === 'critical' ? 'ERROR' : 'WARN',
        eventName: EVENT_NAME,
        body: { stringValue: `anomaly: ${a.reason}` },
        attributes,
      },
    };
  }
}
