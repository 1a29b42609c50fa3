// Runs a stationary stream through one detector (the real scorer, nothing
// mocked) and counts the alert episodes it opens once keys have learned: on a
// stationary stream each of them is a false alert, to be held within the
// budget.
import { anomalyConfigSchema, type DetectorConfig } from '../../../src/processors/anomaly/config.js';
import { type AlertEvent, compileDetectors, Scorer } from '../../../src/processors/anomaly/scorer.js';
import { DAY, record, START, type StreamEvent, type StreamShape, stationaryEvents } from './stationary.js';

/** Days a key learns (and the population settles) before its alerts count. */
export const LEARNING_DAYS = 3;

export interface BudgetRun {
  alerts: AlertEvent[];
  /** Key-days after learning (the budget's exposure). */
  keyDays: number;
  /** Alerts the budget allows over them, in expectation. */
  allowed: number;
  records: number;
}

export function runStationary(
  detector: DetectorConfig,
  shape: StreamShape,
  signal: (e: StreamEvent) => Record<string, string | number>,
  alertBudget: number,
): BudgetRun {
  const cfg = anomalyConfigSchema.parse({ alert_budget: alertBudget, detectors: [detector] });
  const scorer = new Scorer(compileDetectors(cfg), cfg.cooldown);
  const alerts: AlertEvent[] = [];
  const events = stationaryEvents(shape);
  const countFrom = START + LEARNING_DAYS * DAY;
  for (const e of events) {
    const raised: AlertEvent[] = [];
    scorer.score(record(e.t, signal(e)), raised);
    if (e.t >= countFrom) alerts.push(...raised);
  }
  const activeKeys = new Set(events.map((e) => e.key)).size;
  const keyDays = activeKeys * (shape.days - LEARNING_DAYS);
  return { alerts, keyDays, allowed: (alertBudget / 1000) * keyDays, records: events.length };
}

/** The most alerts a stream may raise: the budget, plus two Poisson deviations of it (the budget is an expectation). */
export function ceiling(allowed: number): number {
  return allowed + 2 * Math.sqrt(allowed) + 1;
}
