// One fuzz session of one target: runs fast-check for a number of cases from a
// seed and tallies how the cases were answered. Shared by the runner's worker
// and the vitest suites, so both run exactly the same thing.
import fc from 'fast-check';
import type { Outcome } from './contracts.js';
import type { FuzzTarget } from './targets.js';

export interface SessionResult {
  target: string;
  seed: number;
  cases: number;
  outcomes: Record<Outcome, number>;
  failed: boolean;
  /** The shrunk failing input, readable. */
  counterexample?: string;
  /** Replays the failure: `--seed SEED --target NAME --path PATH`. */
  path?: string;
  error?: string;
  seconds: number;
  slowestMs: number;
}

export interface SessionOptions {
  cases: number;
  seed: number;
  path?: string;
  /** Called before each case (the runner's watchdog counts them). */
  onCase?: () => void;
}

export function runSession(t: FuzzTarget, opts: SessionOptions): SessionResult {
  const outcomes: Record<Outcome, number> = { accepted: 0, partial: 0, refused: 0 };
  let slowestMs = 0;
  let failing = false;
  const started = performance.now();
  const details = fc.check(
    fc.property(t.arbitrary, (input) => {
      opts.onCase?.();
      const t0 = performance.now();
      try {
        const outcome = t.check(input);
        if (!failing) outcomes[outcome]++;
      } catch (err) {
        failing = true; // shrinking re-runs the check: stop tallying
        throw err;
      } finally {
        slowestMs = Math.max(slowestMs, performance.now() - t0);
      }
    }),
    { numRuns: opts.cases, seed: opts.seed, ...(opts.path ? { path: opts.path } : {}) },
  );
  const result: SessionResult = {
    target: t.name,
    seed: opts.seed,
    cases: details.numRuns,
    outcomes,
    failed: details.failed,
    seconds: (performance.now() - started) / 1000,
    slowestMs,
  };
  if (details.failed) {
    if (details.counterexample) result.counterexample = t.show(details.counterexample[0]);
    if (details.counterexamplePath) result.path = details.counterexamplePath;
    const e = details.errorInstance;
    result.error = e instanceof Error ? e.message : String(e);
  }
  return result;
}

/** A stable per-target seed from the run's seed, so targets draw different streams. */
export function targetSeed(seed: number, name: string): number {
  let h = seed | 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h | 0;
}
