// Scoring a simulation's alerts (pure): which alerts the anomaly processor
// emitted (read from its output: `vigil.anomaly` alert records, grouped by
// `anomaly.alert_id` when the processor sets one, and the records that carry
// that id), which injected attack each can be attributed to, and the figures
// an on-call engineer cares about: attacks detected, time to detect, false
// alerts per day. The attribution rule is in docs/alert-benchmark.md.
import { DAY } from './traffic.js';
import type { SimEvent } from './traffic.js';
import type { PlannedScenario } from './plan.js';

/** One alert as the processor emitted it: one per alert id (an episode), or one per alert record when there are no ids. */
export interface EmittedAlert {
  id: string;
  detector: string;
  key: string;
  /** Event time (ms) of the alert: its earliest alert record or record carrying its id. */
  first: number;
  /** Event times of the alert records and of the ordinary records carrying its id, ascending. */
  times: number[];
}

type JsonValue = { stringValue?: string; boolValue?: boolean; intValue?: string | number; doubleValue?: number; arrayValue?: { values?: JsonValue[] } };
type JsonKeyValue = { key: string; value?: JsonValue };
type JsonRecord = { timeUnixNano?: string | number; eventName?: string; attributes?: JsonKeyValue[] };
/** An ExportLogsServiceRequest as JSON.parse returns it from an OTLP JSON line. */
export type JsonRequest = { resourceLogs?: { scopeLogs?: { logRecords?: JsonRecord[] }[] }[] };

const ALERT_EVENT = 'vigil.anomaly';
const ALERT_ID = 'anomaly.alert_id';

function text(v: JsonValue | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return String(v.intValue);
  if (v.doubleValue !== undefined) return String(v.doubleValue);
  return undefined;
}

/** The strings of a string or an array of strings. */
function texts(v: JsonValue | undefined): string[] {
  if (v?.arrayValue) return (v.arrayValue.values ?? []).map(text).filter((s): s is string => s !== undefined);
  const s = text(v);
  return s === undefined ? [] : [s];
}

function millis(t: string | number | undefined): number {
  return t === undefined ? 0 : Math.floor(Number(t) / 1e6);
}

/** Collects the alerts from the processor's output, request by request (records in event-time order). */
export class AlertLog {
  private readonly alerts = new Map<string, EmittedAlert>();
  /** Times of records carrying an alert id whose alert record has not been seen yet (it may come later in the batch). */
  private readonly pending = new Map<string, number[]>();

  /** Whether an OTLP JSON line can hold alerts at all (a cheap test before parsing it). */
  static mayHoldAlerts(line: string): boolean {
    return line.includes(ALERT_EVENT) || line.includes(ALERT_ID);
  }

  add(req: JsonRequest): void {
    for (const rl of req.resourceLogs ?? []) {
      for (const sl of rl.scopeLogs ?? []) {
        for (const rec of sl.logRecords ?? []) this.addRecord(rec);
      }
    }
  }

  private addRecord(rec: JsonRecord): void {
    const t = millis(rec.timeUnixNano);
    if (rec.eventName !== ALERT_EVENT) {
      // Most records carry no alert id: find it without building a map of every attribute.
      for (const id of texts(rec.attributes?.find((kv) => kv.key === ALERT_ID)?.value)) {
        const a = this.alerts.get(id);
        if (a) note(a, t);
        else {
          const ts = this.pending.get(id);
          if (ts) ts.push(t);
          else this.pending.set(id, [t]);
        }
      }
      return;
    }
    const attrs = new Map((rec.attributes ?? []).map((kv) => [kv.key, kv.value]));
    const ids = texts(attrs.get(ALERT_ID));
    const detector = text(attrs.get('anomaly.detector')) ?? '?';
    const key = text(attrs.get('anomaly.key')) ?? '?';
    // Without alert ids every alert record is an alert of its own (today: one per detector and key per cooldown).
    const id = ids[0] ?? `record:${text(attrs.get('audit.record_id')) ?? `${detector}\u001f${key}\u001f${t}\u001f${this.alerts.size}`}`;
    let a = this.alerts.get(id);
    if (!a) {
      a = { id, detector, key, first: t, times: [] };
      this.alerts.set(id, a);
      for (const pt of this.pending.get(id) ?? []) note(a, pt);
      this.pending.delete(id);
    }
    note(a, t);
  }

  /** The alerts; an id seen only on records (no alert record named its detector and key) is an alert of detector "?" so that it is not lost. */
  list(): EmittedAlert[] {
    const orphans = [...this.pending].map(([id, ts]) => ({ id, detector: '?', key: id, first: Math.min(...ts), times: [...ts].sort((a, b) => a - b) }));
    return [...this.alerts.values(), ...orphans].sort((a, b) => a.first - b.first || a.id.localeCompare(b.id));
  }
}

function note(a: EmittedAlert, t: number): void {
  if (t < a.first) a.first = t;
  const ts = a.times;
  if (ts.length === 0 || t >= ts[ts.length - 1]) ts.push(t);
  else ts.splice(ts.findIndex((x) => x > t), 0, t);
}

/** An injected attack as the scorer sees it. */
export interface Attack {
  name: string;
  detector: string;
  key: string;
  from: number;
  to: number;
  /** Per detector, the keys the attack's own records present to it, with those records' event times: an alert one of them raised is a side effect, not false. */
  sideKeys: Map<string, Map<string, number[]>>;
}

/** Before an attack's first record: event times cross the wire in nanoseconds and may come back a hair earlier. */
export const EARLY_MS = 60_000;
/** After its last record, an alert on its expected detector and key still counts as detecting it (one 5-minute aggregation bucket). */
export const DETECT_LATE_MS = 5 * 60_000;
/** After its last record, an alert on its expected detector and key is still attributed to it (the longest default window, 1 h, as `vigil simulate --check`). */
export const ATTRIBUTE_LATE_MS = 3_600_000;
/** A side effect is raised by one of the attack's records: its alert time is that record's event time (1 s: times in a CLF line are whole seconds). */
export const RAISED_BY_MS = 1_000;

/** The key a detector (its key references, e.g. ["http.route|url.path"]) sees on an event, or undefined when one is missing or derived. */
export function keyOfEvent(refs: readonly string[], attrs: SimEvent['attrs']): string | undefined {
  const values: string[] = [];
  for (const ref of refs) {
    let v: string | undefined;
    for (const name of ref.split('|').map((s) => s.trim())) {
      if (name.includes('(')) return undefined;
      const x = attrs[name];
      if (x !== undefined && x !== '') {
        v = String(x);
        break;
      }
    }
    if (v === undefined) return undefined;
    values.push(v);
  }
  return values.join(', ');
}

/** The attacks of a plan, with the keys their records present to each detector (`detectorKeys`: detector name → key references). */
export function attacksOf(scenarios: readonly PlannedScenario[], events: readonly SimEvent[], detectorKeys: ReadonlyMap<string, readonly string[]>): Attack[] {
  const injected = events.filter((e) => e.scenario !== undefined);
  return scenarios.map((s) => {
    const own = injected.filter((e) => e.scenario === s.name);
    const sideKeys = new Map<string, Map<string, number[]>>();
    for (const [detector, refs] of detectorKeys) {
      const keys = new Map<string, number[]>();
      for (const e of own) {
        const k = keyOfEvent(refs, e.attrs);
        if (k === undefined) continue;
        const ts = keys.get(k);
        if (ts) ts.push(e.t);
        else keys.set(k, [e.t]);
      }
      sideKeys.set(detector, keys);
    }
    return { name: s.name, detector: s.detector, key: s.key, from: s.from, to: s.to, sideKeys };
  });
}

export interface AttackResult {
  name: string;
  detector: string;
  key: string;
  detected: boolean;
  /** Seconds from the attack's first record to the detecting alert (0 when the alert came in the early slack). */
  ttdSeconds?: number;
}

export interface RunScore {
  attacks: AttackResult[];
  detected: number;
  injected: number;
  medianTtdSeconds: number | undefined;
  alerts: number;
  /** Alerts excused as side effects: attributed to an attack, but not on its expected detector and key. */
  sideEffects: number;
  /** Alerts in the first 24 h of event time (no attack is injected then). */
  day1: number;
  falseAfterDay1: number;
  /** Days of event time after day 1 (the attack day counts in part). */
  daysAfterDay1: number;
  falsePerDay: number;
  falsePer1000KeysPerDay: number;
  falseByDetector: Map<string, number>;
  worstDetector: { detector: string; count: number } | undefined;
  /** The false alerts themselves (for a closer look). */
  falseAlerts: EmittedAlert[];
}

/**
 * Whether an alert is attributed to the attack: on its expected (detector, key)
 * from its start until an hour after it, or raised by one of its own records
 * (a key that record presents to the alert's detector, at that record's time).
 */
export function attributedTo(a: EmittedAlert, attack: Attack): boolean {
  if (a.detector === attack.detector && a.key === attack.key) return a.first >= attack.from - EARLY_MS && a.first <= attack.to + ATTRIBUTE_LATE_MS;
  return attack.sideKeys.get(a.detector)?.get(a.key)?.some((t) => Math.abs(t - a.first) <= RAISED_BY_MS) === true;
}

/** When the attack was detected: the first time its expected (detector, key) alerted, or an alert of it covered a record, within the attack. */
function detectionTime(alerts: readonly EmittedAlert[], attack: Attack): number | undefined {
  let best: number | undefined;
  for (const a of alerts) {
    if (a.detector !== attack.detector || a.key !== attack.key) continue;
    const t = a.times.find((x) => x >= attack.from - EARLY_MS && x <= attack.to + DETECT_LATE_MS);
    if (t !== undefined && (best === undefined || t < best)) best = t;
  }
  return best;
}

function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function scoreRun(input: { alerts: readonly EmittedAlert[]; attacks: readonly Attack[]; from: number; to: number; keys: number }): RunScore {
  const { alerts, attacks, from, to, keys } = input;
  const results: AttackResult[] = attacks.map((atk) => {
    const t = detectionTime(alerts, atk);
    return { name: atk.name, detector: atk.detector, key: atk.key, detected: t !== undefined, ttdSeconds: t === undefined ? undefined : Math.max(0, t - atk.from) / 1000 };
  });
  const day1End = from + DAY;
  const falseAlerts = alerts.filter((a) => !attacks.some((atk) => attributedTo(a, atk)));
  const sideEffects = alerts.filter((a) => !falseAlerts.includes(a) && !attacks.some((atk) => a.detector === atk.detector && a.key === atk.key)).length;
  const after = falseAlerts.filter((a) => a.first >= day1End);
  const daysAfterDay1 = Math.max(0, (to - day1End) / DAY);
  const falseByDetector = new Map<string, number>();
  for (const a of after) falseByDetector.set(a.detector, (falseByDetector.get(a.detector) ?? 0) + 1);
  const worst = [...falseByDetector].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
  const falsePerDay = daysAfterDay1 > 0 ? after.length / daysAfterDay1 : 0;
  return {
    attacks: results,
    detected: results.filter((r) => r.detected).length,
    injected: results.length,
    medianTtdSeconds: median(results.filter((r) => r.detected).map((r) => r.ttdSeconds!)),
    alerts: alerts.length,
    sideEffects,
    day1: alerts.filter((a) => a.first < day1End).length,
    falseAfterDay1: after.length,
    daysAfterDay1,
    falsePerDay,
    falsePer1000KeysPerDay: keys > 0 ? falsePerDay / (keys / 1000) : 0,
    falseByDetector,
    worstDetector: worst ? { detector: worst[0], count: worst[1] } : undefined,
    falseAlerts,
  };
}

/** The targets of issue 11 for an organisation of `keys` keys. */
export interface Targets {
  maxTtdSeconds: number;
  /** False alerts a day after day 1: 1 per 1,000 keys, but at most 2 a day for an organisation of ≤ 1,000 keys. */
  falsePerDay: number;
  /** Alerts on day 1: 5× the daily allowance. */
  day1: number;
}

export function targetsFor(keys: number): Targets {
  const falsePerDay = keys <= 1_000 ? 2 : keys / 1_000;
  return { maxTtdSeconds: 60, falsePerDay, day1: 5 * falsePerDay };
}

/** The targets a run misses (empty: it passes). */
export function missedTargets(s: RunScore, t: Targets): string[] {
  const out: string[] = [];
  if (s.detected < s.injected) out.push(`missed ${s.attacks.filter((a) => !a.detected).map((a) => `${a.name} (${a.detector})`).join(', ')}`);
  if (s.medianTtdSeconds !== undefined && s.medianTtdSeconds > t.maxTtdSeconds) out.push(`median time to detect ${s.medianTtdSeconds.toFixed(0)} s > ${t.maxTtdSeconds} s`);
  if (s.falsePerDay > t.falsePerDay) out.push(`${fmt(s.falsePerDay)} false alerts a day > ${fmt(t.falsePerDay)}`);
  if (s.day1 > t.day1) out.push(`${s.day1} alerts on day 1 > ${fmt(t.day1)}`);
  return out;
}

function fmt(x: number): string {
  return x >= 10 ? x.toFixed(0) : x.toFixed(1).replace(/\.0$/, '');
}

export interface ScoredRow {
  org: string;
  seed: number;
  keys: number;
  records: number;
  seconds: number;
  score: RunScore;
  targets: Targets;
}

const HEAD = ['organisation', 'seed', 'keys', 'records', 'detected', 'median TTD s (≤60)', 'false/day (target)', 'false/1k keys/day', 'day 1 (target)', 'worst detector', 'result'];

/** One table row per run, with the target beside each figure. */
export function formatRow(r: ScoredRow): string[] {
  const s = r.score;
  const missed = missedTargets(s, r.targets);
  return [
    r.org,
    String(r.seed),
    r.keys.toLocaleString('en-US'),
    r.records.toLocaleString('en-US'),
    `${s.detected}/${s.injected}`,
    s.medianTtdSeconds === undefined ? '-' : s.medianTtdSeconds.toFixed(0),
    `${fmt(s.falsePerDay)} (≤${fmt(r.targets.falsePerDay)})`,
    fmt(s.falsePer1000KeysPerDay),
    `${s.day1} (≤${fmt(r.targets.day1)})`,
    s.worstDetector ? `${s.worstDetector.detector} ${s.worstDetector.count}` : '-',
    missed.length === 0 ? 'PASS' : 'FAIL',
  ];
}

/** The table of rows, columns padded. */
export function formatTable(rows: readonly ScoredRow[]): string {
  const cells = [HEAD, ...rows.map(formatRow)];
  const widths = HEAD.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(cells[0]), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}
