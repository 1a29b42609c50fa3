// What the status page shows, gathered from the running service: throughput
// from the Telemetry counters (sampled every second), exporter queue depths,
// the archive's state (an exporter's status(), see sources.ts), and what scoring
// processors report (notable scores, flags, alerts) in bounded memory.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Counter, Gauge } from 'prom-client';
import type { Service } from '../../pipeline/service.js';
import type { AlertEvent } from '../../processors/anomaly/scorer.js';
import { packageRoot } from '../../util/paths.js';
import type { Telemetry } from '../metrics.js';
import { type ArchiveStatus, archiveStatusOf, isScoreSource, type ScoreSource } from './sources.js';

export interface FlaggedKey {
  detector: string;
  key: string;
  /** Latest reason (observed vs baseline). */
  reason: string;
  maxScore: number;
  /** Flagged records seen. */
  count: number;
  /** Event times (ISO) of the first and latest flagged record. */
  firstAt: string;
  lastAt: string;
}

export interface HotKey {
  detector: string;
  key: string;
  score: number;
  flagged: boolean;
  at: string;
}

export interface AlertEntry {
  detector: string;
  key: string;
  score: number;
  severity: 'warning' | 'critical';
  reason: string;
  at: string;
}

export interface VerificationSummary {
  at: string;
  archive: string;
  ok: boolean;
  segments: number;
  records: number;
  breaks: number;
  summary: string;
}

export interface StatusSnapshot {
  vigil: { version: string; state: string; config: string; startedAt: string; now: string };
  throughput: {
    accepted: number;
    refused: number;
    sent: number;
    failed: number;
    inPerSecond: number;
    outPerSecond: number;
    /** One point a second, oldest first (at most HISTORY). */
    history: { t: string; in: number; out: number }[];
  };
  exporters: { id: string; sent: number; failed: number; queueSize: number | null; queueCapacity: number | null }[];
  archives: (ArchiveStatus & { id: string })[];
  lastVerification: VerificationSummary | null;
  anomalies: {
    /** The expert threshold override, null when the alert budget sets the thresholds (or no anomaly processor). */
    threshold: number | null;
    /** False alerts per 1,000 keys per day, per detector; null without an anomaly processor. */
    alertBudget: number | null;
    /** Per detector, keys still learning (no alerts from them yet) out of those tracked. */
    learning: { detector: string; learning: number; keys: number }[];
    /** The latest event time scored (the detectors' "now"). */
    latestEventAt: string | null;
    alertsByDetector: Record<string, number>;
    recent: FlaggedKey[];
    hotKeys: HotKey[];
    alerts: AlertEntry[];
  };
}

const HISTORY = 120;
const MAX_FLAGGED = 256;
const MAX_HOT = 512;
const MAX_ALERTS = 200;
/** Flagged keys pushed to the page; /status.json?all=1 gives every one kept. */
const SHOWN_RECENT = 60;
const SHOWN_HOT = 15;
/** A key is "hot right now" when it scored within this much event time of the latest record. */
const HOT_WINDOW_MS = 3_600_000;

const iso = (ms: number) => new Date(ms).toISOString();

/** A Map used as a bounded LRU: touching re-inserts, the oldest goes first. */
function touch<V>(m: Map<string, V>, k: string, v: V, max: number): void {
  m.delete(k);
  m.set(k, v);
  if (m.size > max) m.delete(m.keys().next().value as string);
}

async function sum(metric: Counter<string> | Gauge<string>, by?: string): Promise<{ total: number; byLabel: Map<string, number> }> {
  const byLabel = new Map<string, number>();
  let total = 0;
  for (const v of (await metric.get()).values) {
    total += v.value;
    if (by) {
      const k = String(v.labels[by] ?? '');
      byLabel.set(k, (byLabel.get(k) ?? 0) + v.value);
    }
  }
  return { total, byLabel };
}

export class StatusState {
  private readonly startedAt = Date.now();
  private readonly version = readVersion();
  private readonly flagged = new Map<string, { detector: string; key: string; reason: string; maxScore: number; count: number; first: number; last: number }>();
  private readonly hot = new Map<string, { detector: string; key: string; score: number; flagged: boolean; at: number }>();
  private readonly alerts: AlertEntry[] = [];
  private readonly alertCounts = new Map<string, number>();
  private readonly history: { t: number; accepted: number; sent: number }[] = [];
  private latestEvent = 0;
  private verification: VerificationSummary | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly service: Service,
    private readonly telemetry: Telemetry,
  ) {
    for (const { instance } of service.processors) {
      if (!isScoreSource(instance)) continue;
      this.unsubscribe.push(
        instance.addListener({
          score: (detector, key, score, reason, t) => this.noteScore(detector, key, score, reason, t),
          alert: (e) => this.noteAlert(e),
        }),
      );
    }
  }

  private get scoreSource(): ScoreSource | undefined {
    for (const { instance } of this.service.processors) if (isScoreSource(instance)) return instance;
    return undefined;
  }

  private noteScore(detector: string, key: string, score: number, reason: string | undefined, t: number): void {
    if (t > this.latestEvent) this.latestEvent = t;
    const id = `${detector}\u001f${key}`;
    touch(this.hot, id, { detector, key, score, flagged: reason !== undefined, at: t }, MAX_HOT);
    if (reason === undefined) return;
    const f = this.flagged.get(id);
    if (f) {
      f.count++;
      f.reason = reason;
      f.maxScore = Math.max(f.maxScore, score);
      f.last = Math.max(f.last, t);
      f.first = Math.min(f.first, t);
      touch(this.flagged, id, f, MAX_FLAGGED);
    } else touch(this.flagged, id, { detector, key, reason, maxScore: score, count: 1, first: t, last: t }, MAX_FLAGGED);
  }

  private noteAlert(e: AlertEvent): void {
    this.alerts.push({ detector: e.detector, key: e.key, score: e.score, severity: e.score >= 0.99 ? 'critical' : 'warning', reason: e.reason, at: iso(e.timeMs) });
    if (this.alerts.length > MAX_ALERTS) this.alerts.shift();
    this.alertCounts.set(e.detector, (this.alertCounts.get(e.detector) ?? 0) + 1);
  }

  /** Records the outcome of an archive verification (the demo, or whoever runs one in-process). */
  recordVerification(v: Omit<VerificationSummary, 'at'>): void {
    this.verification = { at: new Date().toISOString(), ...v };
  }

  /** Starts the once-a-second throughput sampling and the push to subscribers. */
  start(): void {
    if (this.timer) return;
    void this.sample();
    this.timer = setInterval(() => {
      void this.sample().then(() => {
        for (const l of this.listeners) l();
      });
    }, 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const u of this.unsubscribe.splice(0)) u();
    this.listeners.clear();
  }

  /** Called after each sample (once a second); returns the function that stops it. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async sample(): Promise<void> {
    const accepted = (await sum(this.telemetry.receiverAccepted)).total;
    const sent = (await sum(this.telemetry.exporterSent)).total;
    this.history.push({ t: Date.now(), accepted, sent });
    if (this.history.length > HISTORY + 1) this.history.shift();
  }

  async snapshot(opts: { allFlagged?: boolean } = {}): Promise<StatusSnapshot> {
    const t = this.telemetry;
    const [accepted, refused, sent, failed, qSize, qCap] = await Promise.all([
      sum(t.receiverAccepted),
      sum(t.receiverRefused),
      sum(t.exporterSent, 'exporter'),
      sum(t.exporterSendFailed, 'exporter'),
      sum(t.exporterQueueSize, 'exporter'),
      sum(t.exporterQueueCapacity, 'exporter'),
    ]);
    const h = this.history;
    const points: { t: string; in: number; out: number }[] = [];
    for (let i = 1; i < h.length; i++) {
      const dt = Math.max(0.001, (h[i].t - h[i - 1].t) / 1000);
      points.push({ t: iso(h[i].t), in: Math.max(0, (h[i].accepted - h[i - 1].accepted) / dt), out: Math.max(0, (h[i].sent - h[i - 1].sent) / dt) });
    }
    const last = points.at(-1);
    const now = this.latestEvent;
    return {
      vigil: { version: this.version, state: this.service.state, config: this.service.config.source, startedAt: iso(this.startedAt), now: new Date().toISOString() },
      throughput: {
        accepted: accepted.total,
        refused: refused.total,
        sent: sent.total,
        failed: failed.total,
        inPerSecond: last?.in ?? 0,
        outPerSecond: last?.out ?? 0,
        history: points,
      },
      exporters: this.service.exporters.map(({ id }) => ({
        id,
        sent: sent.byLabel.get(id) ?? 0,
        failed: failed.byLabel.get(id) ?? 0,
        queueSize: qSize.byLabel.get(id) ?? null,
        queueCapacity: qCap.byLabel.get(id) ?? null,
      })),
      archives: this.service.exporters.flatMap(({ id, instance }) => {
        const a = archiveStatusOf(instance);
        return a ? [{ id, ...a }] : [];
      }),
      lastVerification: this.verification,
      anomalies: {
        threshold: this.scoreSource?.threshold ?? null,
        alertBudget: this.scoreSource?.alertBudget ?? null,
        learning: this.scoreSource?.learningKeys() ?? [],
        latestEventAt: now > 0 ? iso(now) : null,
        alertsByDetector: Object.fromEntries([...this.alertCounts].sort((a, b) => b[1] - a[1])),
        recent: [...this.flagged.values()]
          .sort((a, b) => b.last - a.last)
          .slice(0, opts.allFlagged ? MAX_FLAGGED : SHOWN_RECENT)
          .map((f) => ({ detector: f.detector, key: f.key, reason: f.reason, maxScore: f.maxScore, count: f.count, firstAt: iso(f.first), lastAt: iso(f.last) })),
        hotKeys: [...this.hot.values()]
          .filter((k) => k.at >= now - HOT_WINDOW_MS)
          .sort((a, b) => b.score - a.score)
          .slice(0, SHOWN_HOT)
          .map((k) => ({ detector: k.detector, key: k.key, score: k.score, flagged: k.flagged, at: iso(k.at) })),
        alerts: [...this.alerts].reverse(),
      },
    };
  }
}

function readVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
