// The scoring engine: runs every detector over a record, writes anomaly.score,
// anomaly.detected, anomaly.alert_id, anomaly.reasons and anomaly.learning
// onto it, and keeps the alert episodes: per (detector, key) an episode opens
// when a test reaches the key's alert threshold (from the false-alert budget,
// or `threshold` when set), takes the records whose evidence stays strong, and
// closes after `cooldown` without any. One alert per episode. Pure: no I/O, no
// wall clock — time is the record's own event time, so replay and live agree.
import { type AnyValue, eventTimeMillis, type KeyValue, putAttribute, type Scalar, sharedAttribute, type VigilRecord } from '../../pipeline/record.js';
import { AttributeView, type AttrRef, parseAttrRef } from './attr-ref.js';
import { createHash } from 'node:crypto';
import { type AnomalyConfig, DEFAULT_ALERT_BUDGET, type DetectorConfig, defaultDetectors, kindOf } from './config.js';
import { BASE, CELL_COUNT, CELL_EPISODE, CELL_EVIDENCE, CELL_HOUR, CELL_HOUR_MAX, CELL_T_FIRST, CELL_T_LAST, DAY_MS, type Detector } from './detectors/detector.js';
import { KeyHourTail } from './key-hour-tail.js';
import { DistinctDetector } from './detectors/distinct.js';
import { HourOfWeekDetector } from './detectors/hour-of-week.js';
import { NoveltyDetector } from './detectors/novelty.js';
import { RateDetector } from './detectors/rate.js';
import { RatioDetector } from './detectors/ratio.js';
import { ValueDetector } from './detectors/value.js';
import { type Predicate, parseCondition } from './filter.js';
import { KeyTable } from './key-table.js';
import { scoreFromSurprise, surpriseForScore } from './math.js';

export const EVENT_NAME = 'vigil.anomaly';

export interface CompiledDetector {
  name: string;
  config: DetectorConfig;
  keyRefs: AttrRef[];
  /** The key as read from the record being scored, shared by the detectors keyed alike. */
  recordKey: RecordKey;
  where: Predicate | undefined;
  detector: Detector;
  table: KeyTable;
  /** The expert override: the score at which this detector alerts (undefined: the budget decides). */
  threshold: number | undefined;
  /** False alerts per key per day this detector may raise on ordinary traffic. */
  budgetPerKeyDay: number;
  /** The population's key-day maxima: raises the alert level where the model's tail is too thin. */
  tail: KeyHourTail;
  /** The open episode's id per slot, so that its later records do not hash it again. */
  episodeIds: EpisodeIds;
}

/** A (detector, key) that crossed the threshold and is out of its cooldown. */
export interface AlertEvent {
  detector: string;
  kind: string;
  key: string;
  keyAttributes: [string, Scalar][];
  score: number;
  reason: string;
  timeMs: number;
  sourceRecordId: string | undefined;
  /** The episode's id, also on each of its records (anomaly.alert_id). */
  alertId: string;
}

const WARMUP_DEFAULTS: Record<string, number> = { value: 300, rate: 10, ratio: 10, distinct: 10, novelty: 20, hour_of_week: 20 };
const MIN_COUNT_DEFAULT = 5;
const VALUE_SUPPRESS_DEFAULT = 8 * 3_600_000;

export function compileDetectors(cfg: AnomalyConfig): CompiledDetector[] {
  const list = cfg.detectors ?? defaultDetectors(cfg.sensitive_routes);
  const shared = new SharedReads(list);
  return list.map((d) => compileDetector(d, cfg, shared));
}

/**
 * What several detectors read from each record, read once per record: a key
 * (the default detectors use three keys among ten detectors) and a condition
 * (login failures, sensitive routes). Both are pure functions of the record.
 */
class SharedReads {
  private readonly keys = new Map<string, RecordKey>();
  private readonly conditions = new Map<string, Predicate>();
  private readonly conditionUses = new Map<string, number>();

  constructor(list: readonly DetectorConfig[]) {
    const use = (text: string) => this.conditionUses.set(text, (this.conditionUses.get(text) ?? 0) + 1);
    for (const d of list) {
      const kind = kindOf(d);
      if (d.where !== undefined) use(d.where);
      if (kind === 'ratio') use(d.ratio!);
      if (kind === 'hour_of_week') sensitiveList(d.sensitive).forEach(use);
    }
  }

  key(refs: AttrRef[]): RecordKey {
    const id = refs.map((r) => r.text).join(KEY_SEPARATOR);
    let k = this.keys.get(id);
    if (k === undefined) this.keys.set(id, (k = new RecordKey(refs)));
    return k;
  }

  condition(text: string): Predicate {
    let p = this.conditions.get(text);
    if (p === undefined) {
      p = parseCondition(text);
      if (this.conditionUses.get(text)! > 1) p = oncePerRecord(p);
      this.conditions.set(text, p);
    }
    return p;
  }
}

/** A predicate evaluated at most once per record (the view's generation says which record). */
function oncePerRecord(p: Predicate): Predicate {
  let seen: AttributeView | undefined;
  let gen = -1;
  let result = false;
  return (view) => {
    if (view !== seen || view.generation !== gen) {
      seen = view;
      gen = view.generation;
      result = p(view);
    }
    return result;
  };
}

/** A detector key read from the record being scored: its string and its attribute values. */
export class RecordKey {
  /** The key's attribute values for the record (for reasons and alert attributes). */
  readonly values: Scalar[] = [];
  private key: string | undefined;
  private seen: AttributeView | undefined;
  private gen = -1;

  constructor(readonly refs: AttrRef[]) {}

  /** The record's key, or undefined when one of its attributes is missing. */
  of(view: AttributeView): string | undefined {
    if (view !== this.seen || view.generation !== this.gen) {
      this.seen = view;
      this.gen = view.generation;
      this.key = this.read(view);
    }
    return this.key;
  }

  /** The key as displayed in reasons and alerts. */
  display(): string {
    return this.values.length === 1 ? String(this.values[0]) : this.values.join(', ');
  }

  /** Lets go of the view (and so of its record). */
  release(): void {
    this.seen = undefined;
  }

  private read(view: AttributeView): string | undefined {
    const refs = this.refs;
    this.values.length = 0;
    if (refs.length === 1) {
      // The usual key: one attribute, whose value is the key (no string built).
      const v = refs[0].get(view);
      if (v === undefined || v === '') return undefined;
      this.values.push(v);
      return typeof v === 'string' ? v : String(v);
    }
    let key = '';
    for (let i = 0; i < refs.length; i++) {
      const v = refs[i].get(view);
      if (v === undefined || v === '') return undefined;
      this.values.push(v);
      key = i === 0 ? String(v) : `${key}${KEY_SEPARATOR}${String(v)}`;
    }
    return key;
  }
}

function compileDetector(d: DetectorConfig, cfg: AnomalyConfig, shared: SharedReads): CompiledDetector {
  const kind = kindOf(d);
  const warmup = d.warmup ?? cfg.warmup ?? WARMUP_DEFAULTS[kind];
  const halfLifeMs = d.half_life ?? cfg.half_life;
  const minCount = d.min_count ?? MIN_COUNT_DEFAULT;
  const threshold = d.threshold ?? cfg.threshold;
  let detector: Detector;
  switch (kind) {
    case 'value':
      detector = new ValueDetector({
        attr: parseAttrRef(d.value!),
        halfLifeMs,
        warmup,
        suppressMs: d.suppress ?? VALUE_SUPPRESS_DEFAULT,
        scale: d.scale ?? 'linear',
        direction: d.direction ?? 'both',
        aggregateMs: d.aggregate,
        minCount,
      });
      break;
    case 'rate':
      detector = new RateDetector({
        weight: d.weight === undefined ? undefined : parseAttrRef(d.weight),
        windowMs: d.rate!,
        halfLifeMs,
        warmup,
        minCount,
      });
      break;
    case 'ratio':
      detector = new RatioDetector({
        condition: shared.condition(d.ratio!),
        conditionText: d.ratio!,
        windowMs: d.window ?? 300_000,
        halfLifeMs,
        warmup,
        minCount,
      });
      break;
    case 'distinct':
      detector = new DistinctDetector({
        attr: parseAttrRef(d.distinct!),
        windowMs: d.window ?? 600_000,
        halfLifeMs,
        warmup,
        minCount,
      });
      break;
    case 'novelty':
      detector = new NoveltyDetector({ attr: parseAttrRef(d.novelty!), halfLifeMs, warmup });
      break;
    case 'hour_of_week':
      detector = new HourOfWeekDetector({ halfLifeMs, warmup, sensitive: sensitiveList(d.sensitive).map((text) => shared.condition(text)), sensitiveText: sensitiveList(d.sensitive) });
      break;
  }
  const keyRefs = d.key.map(parseAttrRef);
  return {
    name: d.name,
    config: d,
    keyRefs,
    recordKey: shared.key(keyRefs),
    where: d.where === undefined ? undefined : shared.condition(d.where),
    detector,
    table: new KeyTable(d.max_keys ?? cfg.max_keys, BASE + detector.f64Cells, detector.u32Cells),
    threshold,
    budgetPerKeyDay: (d.alert_budget ?? cfg.alert_budget) / 1000,
    tail: new KeyHourTail(halfLifeMs / Math.LN2),
    episodeIds: new EpisodeIds(d.name),
  };
}

function sensitiveList(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** An episode's id: stable for the same detector, key and opening time (replay gives the same ids). */
export function episodeId(detector: string, key: string, openedAt: number): string {
  return `${detector}-${createHash('sha256').update(`${detector}\u001f${key}\u001f${openedAt}`).digest('hex').slice(0, 16)}`;
}

/**
 * episodeId of the latest episode per slot: every record of an episode carries
 * its id, and a SHA-256 per record was a measurable share of the scorer's time.
 * Checked against the key and the opening time, so a slot reused by another key
 * or a new episode of the same key gets its own id.
 */
class EpisodeIds {
  private readonly keys: string[] = [];
  private readonly openedAt: number[] = [];
  private readonly ids: string[] = [];

  constructor(private readonly detector: string) {}

  get(slot: number, key: string, openedAt: number): string {
    if (this.keys[slot] === key && this.openedAt[slot] === openedAt) return this.ids[slot];
    const id = episodeId(this.detector, key, openedAt);
    // Filled in slot order as episodes appear; holes would turn the arrays into slow dictionaries.
    while (this.ids.length < slot) {
      this.keys.push('');
      this.openedAt.push(-1);
      this.ids.push('');
    }
    this.keys[slot] = key;
    this.openedAt[slot] = openedAt;
    this.ids[slot] = id;
    return id;
  }
}

const HOUR_MS = 3_600_000;

/** Records per day of a key, from its count and the time it has been seen (at least an hour: young keys count high). */
function recordsPerDay(n: number, spanMs: number): number {
  return (n * DAY_MS) / Math.max(spanMs, HOUR_MS);
}

/** The default budget per key-day: where robust learning slows, whatever the configured alert decision. */
const DEFAULT_BUDGET_PER_KEY_DAY = DEFAULT_ALERT_BUDGET / 1000;

/** Extra evidence (decades) asked while the population's tail is unknown. */
const COLD_START_DECADES = 2;

/** Evidence that keeps an episode going: at least this share of the opening surprise (and p ≤ 0.01). */
const CONTINUE_SHARE = 0.5;
const CONTINUE_MIN = 2;

const KEY_SEPARATOR = '\u001f';
const DETECTED = sharedAttribute('anomaly.detected', true);
/** Most records score 0: they share one frozen attribute (sharedAttribute would make 0 an int). */
const ZERO_SCORE: KeyValue = Object.freeze({ key: 'anomaly.score', value: Object.freeze({ doubleValue: 0 }) });
const NOT_DETECTED = sharedAttribute('anomaly.detected', false);
const LEARNING = sharedAttribute('anomaly.learning', true);

/** Scores at or above this are reported to a ScoreListener (the status page's "keys scoring highest"). */
export const NOTABLE_SCORE = 0.5;

/** Sees every (detector, key) score at or above NOTABLE_SCORE; `reason` is set when it reached the detector's threshold. */
export type ScoreListener = (detector: string, key: string, score: number, reason: string | undefined, timeMs: number) => void;

export class Scorer {
  /** The latest event time seen: the time of records that carry none. */
  lastTime = 0;
  private readonly view = new AttributeView();
  /** Optional observer of notable scores (off the hot path: called only for scores ≥ NOTABLE_SCORE). */
  listener: ScoreListener | undefined;
  /** Records scored while a key of theirs was still learning (anomaly.learning), since start. */
  learningRecords = 0;

  constructor(
    readonly detectors: CompiledDetector[],
    /** An episode closes after this long without evidence. */
    readonly cooldownMs: number,
  ) {}

  /** Called after a batch's last record: the scorer keeps no reference to any record between batches. */
  endBatch(): void {
    this.view.release();
    for (const c of this.detectors) c.recordKey.release();
  }

  /** Scores a record in place and appends the alerts it raises; returns its score. */
  score(rec: VigilRecord, alerts: AlertEvent[]): number {
    let t = eventTimeMillis(rec.log);
    if (t > 0) {
      if (t > this.lastTime) this.lastTime = t;
    } else t = this.lastTime;
    const view = this.view.reset(rec);
    let max = 0;
    let detected = false;
    let learning = false;
    // Built as the attributes' values directly (no list of strings mapped afterwards).
    let reasons: AnyValue[] | undefined;
    let alertIds: AnyValue[] | undefined;
    for (const c of this.detectors) {
      if (c.where !== undefined && !c.where(view)) continue;
      const recordKey = c.recordKey;
      const key = recordKey.of(view);
      if (key === undefined) continue;
      const d = c.detector;
      const x = d.input(view);
      if (Number.isNaN(x)) continue;
      const table = c.table;
      let slot = table.find(key);
      if (slot < 0) slot = table.add(key);
      const o = slot * table.f64Stride;
      const f = table.f64;
      const n = ++f[o + CELL_COUNT];
      let dt = 0;
      if (n === 1) {
        f[o + CELL_T_FIRST] = t;
        f[o + CELL_T_LAST] = t;
      } else {
        dt = Math.max(0, t - f[o + CELL_T_LAST]);
        if (t > f[o + CELL_T_LAST]) f[o + CELL_T_LAST] = t;
      }
      // A new hour for the key: its strongest evidence in it goes to the population's tail as it comes (below).
      const hour = Math.floor(t / HOUR_MS) + 1;
      if (f[o + CELL_HOUR] !== hour) {
        f[o + CELL_HOUR] = hour;
        f[o + CELL_HOUR_MAX] = -1;
      }
      // Robust learning slows at the default budget's level, whatever alert_budget or threshold
      // say: the models (and so every score) do not depend on how alerts are decided.
      const perDay = recordsPerDay(n, t - f[o + CELL_T_FIRST]);
      const anomalousAt = this.level(c, perDay, DEFAULT_BUDGET_PER_KEY_DAY);
      const alertAt =
        c.threshold !== undefined ? surpriseForScore(c.threshold, d.k) : c.budgetPerKeyDay === DEFAULT_BUDGET_PER_KEY_DAY ? anomalousAt : this.level(c, perDay, c.budgetPerKeyDay);
      // The evidence decides alerts; the score reports it, or the kind's own shaping of it (value: onsets).
      const surprise = d.observe(table, slot, t, dt, n, x, anomalousAt);
      const score = scoreFromSurprise(d.scoreSurprise ? d.scoreSurprise() : surprise, d.k);
      if (score > max) max = score;
      const keyLearning = d.learning(table, slot, n, t);
      if (keyLearning) learning = true;
      else {
        // The key-hour counts in the population's tail from its first record past learning; its highest surprise as it rises.
        if (f[o + CELL_HOUR_MAX] < 0) {
          c.tail.open(t);
          f[o + CELL_HOUR_MAX] = 0;
        }
        if (surprise > f[o + CELL_HOUR_MAX]) {
          c.tail.raise(f[o + CELL_HOUR_MAX], surprise, t);
          f[o + CELL_HOUR_MAX] = surprise;
        }
      }

      // The episode: open while evidence keeps coming, closed after cooldown without any.
      let openedAt = f[o + CELL_EPISODE] - 1; // CELL_EPISODE holds time + 1, so that 0 means "none".
      if (openedAt >= 0 && t - f[o + CELL_EVIDENCE] >= this.cooldownMs) {
        f[o + CELL_EPISODE] = 0;
        openedAt = -1;
      }
      const opening = openedAt < 0 && surprise >= alertAt;
      const inEpisode = opening || (openedAt >= 0 && surprise >= Math.max(CONTINUE_MIN, CONTINUE_SHARE * alertAt));
      if (!inEpisode) {
        if (score >= NOTABLE_SCORE && this.listener) this.listener(c.name, recordKey.display(), score, undefined, t);
        continue;
      }
      if (opening) {
        openedAt = t;
        f[o + CELL_EPISODE] = t + 1;
      }
      f[o + CELL_EVIDENCE] = t;
      detected = true;
      const display = recordKey.display();
      const reason = `${c.name} [${display}]: ${d.explain()} (score ${score.toFixed(3)})`;
      const alertId = c.episodeIds.get(slot, key, openedAt);
      (reasons ??= []).push({ stringValue: reason });
      (alertIds ??= []).push({ stringValue: alertId });
      this.listener?.(c.name, display, score, reason, t);
      if (opening) {
        alerts.push({
          detector: c.name,
          kind: d.kind,
          key: display,
          keyAttributes: c.keyRefs.map((r, i) => [r.text, recordKey.values[i]]),
          score,
          reason,
          timeMs: t,
          sourceRecordId: stringOrUndefined(view.get('audit.record_id')),
          alertId,
        });
      }
    }
    const attrs = rec.log.attributes;
    put(view, attrs, max === 0 ? ZERO_SCORE : { key: 'anomaly.score', value: { doubleValue: max } });
    put(view, attrs, detected ? DETECTED : NOT_DETECTED);
    if (reasons) put(view, attrs, { key: 'anomaly.reasons', value: { arrayValue: { values: reasons } } });
    if (alertIds) put(view, attrs, { key: 'anomaly.alert_id', value: { arrayValue: { values: alertIds } } });
    if (learning) {
      put(view, attrs, LEARNING);
      this.learningRecords++;
    }
    return max;
  }

  /**
   * The surprise a key opens an episode at, for a budget (false alerts per key-day): the model's
   * level, raised to the population's where its tail is heavier; while the population has not yet
   * shown its tail (a cold start), a hundredth of the budget's p.
   */
  private level(c: CompiledDetector, recordsPerDay: number, budget: number): number {
    const model = c.detector.budgetSurprise(recordsPerDay, budget);
    if (!c.tail.settled) return model + COLD_START_DECADES;
    return c.detector.judgedPerKeyDayAgainstPeers ? model : Math.max(model, c.tail.level(budget / 24));
  }
}

/** Sets an anomaly.* attribute: replaced where the record already carries it (sent by the sender), else appended. */
function put(view: AttributeView, attrs: KeyValue[], kv: KeyValue): void {
  if (view.has(kv.key)) putAttribute(attrs, kv);
  else attrs.push(kv);
}

function stringOrUndefined(v: Scalar | undefined): string | undefined {
  return v === undefined ? undefined : String(v);
}

export function stringArray(values: readonly string[]): AnyValue {
  return { arrayValue: { values: values.map((s) => ({ stringValue: s })) } };
}
