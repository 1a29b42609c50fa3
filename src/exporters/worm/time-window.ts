// The time window of `vigil query` and `vigil export` (--from/--to) in one
// place. A record's time is its event time: its timestamp, else its observed
// time, else when the archive appended it — the time a manifest's signed
// time_min/time_max bound, so a sealed segment whose range lies wholly outside
// the window holds no record inside it and need not be read. The window is
// half-open: from ≤ time < to.
import { eventTimeMillis } from '../../pipeline/record.js';
import { type EntryView, recordRequest } from './entries.js';

export interface TimeWindow {
  /** Milliseconds since the epoch; records at or after it. */
  from?: number | undefined;
  /** Milliseconds since the epoch; records before it. */
  to?: number | undefined;
}

export function isBounded(w: TimeWindow): boolean {
  return w.from !== undefined || w.to !== undefined;
}

export function inWindow(t: number, w: TimeWindow): boolean {
  return (w.from === undefined || t >= w.from) && (w.to === undefined || t < w.to);
}

/** True when a sealed segment's signed range (null: no records) has nothing in the window. */
export function segmentOutside(m: { time_min: string | null; time_max: string | null }, w: TimeWindow): boolean {
  if (!isBounded(w)) return false;
  const lo = m.time_min ? Date.parse(m.time_min) : Infinity;
  const hi = m.time_max ? Date.parse(m.time_max) : -Infinity;
  return (w.from !== undefined && hi < w.from) || (w.to !== undefined && lo >= w.to);
}

const NANOS_RE = { time: /"timeUnixNano":"(\d{1,20})"/, observed: /"observedTimeUnixNano":"(\d{1,20})"/ };

/** A record entry's event time in ms (see above); a v2 payload that cannot be decoded falls back to the append time. */
export function entryEventTime(v: EntryView): number {
  let t = 0;
  if (v.format === 1) {
    const text = v.payload.toString('latin1');
    for (const re of [NANOS_RE.time, NANOS_RE.observed]) {
      const m = re.exec(text);
      if (m && m[1] !== '0') {
        t = Number(BigInt(m[1]) / 1_000_000n);
        break;
      }
    }
  } else {
    try {
      const log = recordRequest(v).resourceLogs?.[0]?.scopeLogs?.[0]?.logRecords?.[0];
      if (log) t = eventTimeMillis(log);
    } catch {
      /* unreadable: the append time below */
    }
  }
  return t > 0 ? t : Date.parse(v.at);
}

interface JsonTimes {
  resourceLogs?: { scopeLogs?: { logRecords?: Record<string, unknown>[] }[] }[];
}

/** The same event time from a record already parsed from OTLP JSON (what `query` holds), without decoding again. */
export function jsonRecordTime(rec: JsonTimes, archivedAt: string): number {
  const log = rec.resourceLogs?.[0]?.scopeLogs?.[0]?.logRecords?.[0];
  for (const k of ['timeUnixNano', 'observedTimeUnixNano']) {
    const t = log?.[k];
    if (typeof t === 'string' && /^\d+$/.test(t) && t !== '0') return Number(BigInt(t) / 1_000_000n);
  }
  return Date.parse(archivedAt);
}
