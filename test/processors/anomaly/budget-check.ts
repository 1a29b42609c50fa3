// Runs a stationary stream through one detector (the real scorer, nothing
// mocked) and counts the alert episodes it opens once keys have learned: on a
// stationary stream each of them is a false alert, to be held within the
// budget.
import fc from 'fast-check';
import { expect } from 'vitest';
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

/** Stationary stream shapes for the property tests: fixed size, every other knob drawn. */
export const stationaryShapes = (keys: number, days: number, perDay: number, seasonal?: boolean) =>
  fc.record({
    keys: fc.constant(keys),
    days: fc.constant(days),
    perDay: fc.constant(perDay),
    spread: fc.constantFrom(1, 20, 100),
    dayShape: fc.constantFrom(Infinity, 4, 1.5),
    seasonal: seasonal === undefined ? fc.boolean() : fc.constant(seasonal),
    night: fc.constantFrom(0, 0.01, 0.03),
    seed: fc.integer({ min: 1, max: 1_000_000 }),
  });

/** The run's alert episodes stay within what the budget allows (with sampling slack). */
export function expectWithinBudget(run: BudgetRun, s: StreamShape): void {
  const summary = `${run.alerts.length} alerts in ${run.keyDays} key-days (allowed ${run.allowed.toFixed(1)}) on ${JSON.stringify(s)}: ${run.alerts.slice(0, 2).map((a) => a.reason).join(' / ')}`;
  expect(run.alerts.length, summary).toBeLessThanOrEqual(ceiling(run.allowed));
}
