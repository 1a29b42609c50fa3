// The `hour_of_week` detector: activity at an hour unusual for the key (an
// account doing admin work at 03:00 on a Sunday). Per key, a time-decayed
// profile of 168 hour-of-week bins (float32) in event time (UTC: the profile is
// learned, so the time zone does not matter). An observation scores the tail
// probability of hours this quiet: the share of the key's activity that falls
// in hours no busier than this one (bins smoothed with their neighbours, a
// small prior per bin). It must be quiet both for the hour of the week and for
// the hour of the day, so that a weekday routine does not flag the first
// Tuesday after a Monday. A key alerts only once its history spans 3 days.
import type { AttributeView } from '../attr-ref.js';
import type { KeyTable } from '../key-table.js';
import { BASE, CELL_T_FIRST, type Detector } from './detector.js';

const HOURS = 168;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const PRIOR = 0.01;
const MIN_SPAN_MS = 3 * DAY_MS;
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const TOTAL = 0;
const CELLS = 1;

export interface HourOfWeekParams {
  halfLifeMs: number;
  warmup: number;
}

/** 0 = Sunday 00:00–01:00 UTC … 167 = Saturday 23:00–24:00 UTC. */
export function hourOfWeek(t: number): number {
  const day = Math.floor(t / DAY_MS);
  const dow = (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
  const hour = Math.floor((((t % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS);
  return dow * 24 + hour;
}

export class HourOfWeekDetector implements Detector {
  readonly kind = 'hour_of_week' as const;
  readonly k = 2;
  readonly f64Cells = CELLS;
  readonly u32Cells = HOURS;
  readonly fingerprint = 'hour_of_week/v1/utc168';
  readonly warmup: number;
  private readonly tau: number;
  private readonly day = new Float64Array(24);
  private lastHour = 0;
  private lastShare = 0;

  constructor(p: HourOfWeekParams) {
    this.warmup = p.warmup;
    this.tau = p.halfLifeMs / Math.LN2;
  }

  input(_view: AttributeView): number {
    return 0;
  }

  observe(table: KeyTable, slot: number, t: number, dt: number, n: number): number {
    const f = table.f64;
    const o = slot * table.f64Stride + BASE;
    const bins = table.f32;
    const b0 = slot * table.u32Stride;
    const d = Math.exp(-dt / this.tau);
    if (d < 1) for (let i = 0; i < HOURS; i++) bins[b0 + i] *= d;
    const total = (f[o + TOTAL] *= d);
    const h = hourOfWeek(t);

    let surprise = 0;
    if (n > this.warmup && t - f[slot * table.f64Stride + CELL_T_FIRST] >= MIN_SPAN_MS && total > 0) {
      const week = (j: number) => (bins[b0 + ((j + HOURS - 1) % HOURS)] + 2 * bins[b0 + j] + bins[b0 + ((j + 1) % HOURS)]) / 4;
      const here = week(h);
      let quiet = 0;
      for (let j = 0; j < HOURS; j++) {
        const m = week(j);
        if (m <= here) quiet += m + PRIOR;
      }
      const pWeek = quiet / (total + HOURS * PRIOR);
      this.day.fill(0);
      for (let j = 0; j < HOURS; j++) this.day[j % 24] += bins[b0 + j];
      const dayAt = (k: number) => (this.day[(k + 23) % 24] + 2 * this.day[k] + this.day[(k + 1) % 24]) / 4;
      const hereDay = dayAt(h % 24);
      let quietDay = 0;
      for (let k = 0; k < 24; k++) {
        const m = dayAt(k);
        if (m <= hereDay) quietDay += m + 7 * PRIOR;
      }
      const pDay = quietDay / (total + HOURS * PRIOR);
      const p = Math.min(1, Math.max(pWeek, pDay));
      this.lastShare = p;
      surprise = -Math.log10(p);
    }
    bins[b0 + h] += 1;
    f[o + TOTAL] = total + 1;
    this.lastHour = h;
    return surprise;
  }

  explain(): string {
    const h = this.lastHour;
    return `activity at ${DAYS[Math.floor(h / 24)]} ${String(h % 24).padStart(2, '0')}:00 UTC; ${fmtPct(this.lastShare)} of this key's activity is at hours this quiet`;
  }

  saveGlobal(): number[] {
    return [];
  }
  loadGlobal(): void {}
}

function fmtPct(p: number): string {
  return `${Number((100 * p).toPrecision(2))}%`;
}
