// Did the running Vigil flag each injected anomaly with the expected detector?
// Evidence comes from its status page (/status.json: the exact detector and
// key, flagged in the scenario's time window) or, when the status page is off,
// from its metrics (vigil_anomalies_total{detector} rising during the run).
// The judging is pure; fetching is at the edge.
import type { FlaggedKey } from '../telemetry/status/state.js';
import type { PlannedScenario } from './plan.js';

export type Verdict = 'flagged' | 'alerted' | 'missed';

export interface ScenarioResult {
  scenario: PlannedScenario;
  verdict: Verdict;
  /** The reason Vigil gave, or the metric movement. */
  evidence: string;
}

export interface Evidence {
  /** Flagged keys from /status.json (undefined when the status page is off). */
  flagged?: readonly FlaggedKey[];
  /** The same before the run: a key must have been flagged again during it (a rerun's times repeat). */
  flaggedBefore?: readonly FlaggedKey[];
  /** vigil_anomalies_total per detector, before and after the run. */
  alertsBefore?: ReadonlyMap<string, number>;
  alertsAfter?: ReadonlyMap<string, number>;
}

/** Slack after a scenario's last record within which its flag must come (rates and buckets lag a little). */
const LATE_MS = 3_600_000;
/** Slack before its first record (event times cross the wire in nanoseconds and come back a hair earlier). */
const EARLY_MS = 60_000;

export function judge(scenarios: readonly PlannedScenario[], e: Evidence): ScenarioResult[] {
  return scenarios.map((s) => {
    if (e.flagged) {
      const f = e.flagged.find((x) => x.detector === s.detector && x.key === s.key && Date.parse(x.lastAt) >= s.from - EARLY_MS && Date.parse(x.firstAt) <= s.to + LATE_MS);
      const before = e.flaggedBefore?.find((x) => x.detector === s.detector && x.key === s.key)?.count ?? 0;
      if (f && f.count > before) return { scenario: s, verdict: 'flagged', evidence: f.reason };
      const other = e.flagged.filter((x) => x.key === s.key && Date.parse(x.lastAt) >= s.from - EARLY_MS).map((x) => x.detector);
      return { scenario: s, verdict: 'missed', evidence: other.length ? `not flagged by ${s.detector} (flagged by ${[...new Set(other)].join(', ')})` : `not flagged by ${s.detector}` };
    }
    if (e.alertsAfter) {
      const delta = (e.alertsAfter.get(s.detector) ?? 0) - (e.alertsBefore?.get(s.detector) ?? 0);
      if (delta > 0) return { scenario: s, verdict: 'alerted', evidence: `vigil_anomalies_total{detector="${s.detector}"} +${delta}` };
      return { scenario: s, verdict: 'missed', evidence: `no new ${s.detector} alert (alerts are one per key per cooldown: a rerun within it raises none; the status page tells flags apart)` };
    }
    return { scenario: s, verdict: 'missed', evidence: 'no evidence available' };
  });
}

/** `vigil_anomalies_total{detector="x"} 3` lines → detector → count. */
export function parseAnomalyCounts(metricsText: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of metricsText.split('\n')) {
    const m = /^vigil_anomalies_total\{(?:[^}]*,)?detector="([^"]*)"[^}]*\}\s+([0-9.eE+-]+)/.exec(line);
    if (m) out.set(m[1], (out.get(m[1]) ?? 0) + Number(m[2]));
  }
  return out;
}

export async function fetchAnomalyCounts(metricsUrl: string): Promise<Map<string, number>> {
  const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${metricsUrl} answered ${res.status}`);
  return parseAnomalyCounts(await res.text());
}

/** The status page's flagged keys, or undefined when it is not served there (status_page: false). */
export async function fetchFlagged(metricsUrl: string): Promise<FlaggedKey[] | undefined> {
  const url = new URL('/status.json?all=1', metricsUrl);
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`${url.href} answered ${res.status}`);
  const body = (await res.json()) as { anomalies?: { recent?: FlaggedKey[] } };
  return body.anomalies?.recent ?? [];
}

/** The pass/fail table, for a terminal or a CI log. */
export function formatResults(results: readonly ScenarioResult[], opts: { reasons?: boolean } = {}): string {
  const rows = results.map((r) => [r.verdict === 'missed' ? 'FAIL' : 'pass', r.scenario.name, r.scenario.detector, r.scenario.key, r.verdict]);
  const head = ['', 'scenario', 'expected detector', 'key', 'result'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  const out = [line(head), line(widths.map((w) => '-'.repeat(w)))];
  results.forEach((r, i) => {
    out.push(line(rows[i]));
    if (opts.reasons !== false) out.push(`${' '.repeat(widths[0] + 2)}${r.verdict === 'missed' ? '✗' : '↳'} ${r.evidence}`);
  });
  const missed = results.filter((r) => r.verdict === 'missed');
  out.push('');
  out.push(missed.length === 0 ? `All ${results.length} injected anomalies were flagged with the expected detector.` : `${missed.length} of ${results.length} injected anomalies were missed: ${missed.map((r) => `${r.scenario.name} (${r.scenario.detector})`).join(', ')}`);
  return `${out.join('\n')}\n`;
}
