// What the status page asks of components, as interfaces: the page knows no
// component class. An exporter whose status() reports an archive shows in the
// Archive card; a processor that scores keys (budget, learning, listeners) feeds the
// anomaly cards. Any component can offer these by implementing them.
import type { WormStatus } from '../../exporters/worm/worm.js';
import type { AnomalyListener } from '../../processors/anomaly/processor.js';

/** A component's status() that describes a tamper-evident archive. */
export type ArchiveStatus = WormStatus;

/** A processor that scores keys and tells listeners about scores and alerts. */
export interface ScoreSource {
  /** The expert threshold override, null when the false-alert budget sets the alert levels. */
  readonly threshold: number | null;
  /** False alerts per 1,000 keys per day, per detector. */
  readonly alertBudget: number;
  /** Per detector, keys still learning out of those tracked. */
  learningKeys(): { detector: string; learning: number; keys: number }[];
  addListener(l: AnomalyListener): () => void;
}

/** The archive state a component reports through its optional status(), if it reports one. */
export function archiveStatusOf(component: { status?(): unknown }): ArchiveStatus | undefined {
  const s = typeof component.status === 'function' ? component.status() : undefined;
  if (!s || typeof s !== 'object') return undefined;
  const a = s as Partial<ArchiveStatus>;
  return typeof a.archiveId === 'string' && typeof a.directory === 'string' && typeof a.sealsPending === 'number' ? (s as ArchiveStatus) : undefined;
}

export function isScoreSource(component: unknown): component is ScoreSource {
  const c = component as Partial<ScoreSource> | null;
  return !!c && typeof c.alertBudget === 'number' && typeof c.learningKeys === 'function' && typeof c.addListener === 'function';
}
