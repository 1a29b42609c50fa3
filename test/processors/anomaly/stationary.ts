// Synthetic stationary streams for the false-alert budget tests: many keys,
// each with its own level (light and heavy keys, levels spread `spread`-fold),
// arrivals as a Poisson process whose rate follows a working-day rhythm
// (seasonal) and, when over-dispersed, a Gamma-distributed factor per key and
// day (busy and quiet days), plus a night-time background. Nothing changes
// over time: every alert on such a stream is a false alert.
import type { VigilRecord } from '../../../src/pipeline/record.js';
import { Rng } from '../../../src/simulate/rng.js';
import { makeRecord } from '../../helpers/records.js';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
/** Monday 2026-03-02 00:00 UTC. */
export const START = Date.UTC(2026, 2, 2);

export interface StreamShape {
  keys: number;
  days: number;
  /** Mean records per key per day (the geometric middle of the key levels). */
  perDay: number;
  /** Levels of the keys spread this many fold (log-uniform). */
  spread: number;
  /** Shape of the Gamma factor per key and day (Infinity: none, a Poisson stream). */
  dayShape: number;
  /** Working-day rhythm (09–17 UTC, weekdays) or flat around the clock. */
  seasonal: boolean;
  /** Share of a key's records at night (seasonal streams). */
  night: number;
  /** Seasonal streams: each key's working day starts at its own hour (0–23 h later than 09:00 UTC), as keys in other time zones or on shifts. */
  shifted?: boolean;
  seed: number;
}

/** Gamma(shape, 1) by Marsaglia–Tsang. */
export function gamma(rng: Rng, shape: number): number {
  if (shape < 1) return gamma(rng, shape + 1) * Math.pow(rng.next(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = rng.normal();
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    if (Math.log(rng.next()) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

export interface StreamEvent {
  t: number;
  key: number;
  /** A per-key uniform draw the test turns into its signal. */
  u: number;
}

/** The events of a stationary stream, in time order. */
export function stationaryEvents(s: StreamShape): StreamEvent[] {
  const rng = new Rng(s.seed);
  const levels = Array.from({ length: s.keys }, () => s.perDay * Math.pow(s.spread, rng.next() - 0.5));
  const shifts = Array.from({ length: s.keys }, () => (s.shifted ? rng.int(24) : 0));
  const out: StreamEvent[] = [];
  for (let d = 0; d < s.days; d++) {
    const weekend = d % 7 >= 5;
    for (let k = 0; k < s.keys; k++) {
      const factor = Number.isFinite(s.dayShape) ? gamma(rng, s.dayShape) / s.dayShape : 1;
      const day = START + d * DAY;
      const emit = (from: number, hours: number, perHour: number) => {
        if (!(perHour > 0)) return;
        let t = from;
        for (;;) {
          t += (-Math.log(1 - rng.next()) / perHour) * HOUR;
          if (t >= from + hours * HOUR) return;
          out.push({ t: Math.floor(t), key: k, u: rng.next() });
        }
      };
      const total = levels[k] * factor;
      if (!s.seasonal) emit(day, 24, total / 24);
      else {
        if (!weekend) emit(day + (9 + shifts[k]) * HOUR, 8, (total * (1 - s.night)) / 8);
        emit(day, 24, (total * s.night) / 24);
      }
    }
  }
  return out.sort((a, b) => a.t - b.t);
}

export function record(t: number, attrs: Record<string, string | number>): VigilRecord {
  return makeRecord({ timeMs: t, attrs });
}
