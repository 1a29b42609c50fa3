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
  if (t.async) throw new Error(`fuzz target ${t.name} is asynchronous: run it with runSessionAsync`);
  const tally = new Tally(t, opts);
  const details = fc.check(
    fc.property(t.arbitrary, (input) => tally.run(() => t.check(input) as Outcome)),
    { numRuns: opts.cases, seed: opts.seed, ...(opts.path ? { path: opts.path } : {}) },
  );
  return tally.result(details);
}

/** The same for any target, awaiting each case (targets whose checks do I/O); tears the target down after. */
export async function runSessionAsync(t: FuzzTarget, opts: SessionOptions): Promise<SessionResult> {
  const tally = new Tally(t, opts);
  try {
    const details = await fc.check(
      fc.asyncProperty(t.arbitrary, (input) => tally.runAsync(async () => t.check(input))),
      { numRuns: opts.cases, seed: opts.seed, ...(opts.path ? { path: opts.path } : {}) },
    );
    return tally.result(details);
  } finally {
    await t.teardown?.();
  }
}

/** Counts a session's answers and times its cases. */
class Tally {
  readonly outcomes: Record<Outcome, number> = { accepted: 0, partial: 0, refused: 0 };
  slowestMs = 0;
  failing = false;
  readonly started = performance.now();
  constructor(
    private readonly t: FuzzTarget,
    private readonly opts: SessionOptions,
  ) {}

  run(check: () => Outcome): void {
    this.opts.onCase?.();
    const t0 = performance.now();
    try {
      this.count(check());
    } catch (err) {
      this.failing = true; // shrinking re-runs the check: stop tallying
      throw err;
    } finally {
      this.slowestMs = Math.max(this.slowestMs, performance.now() - t0);
    }
  }

  async runAsync(check: () => Promise<Outcome>): Promise<void> {
    this.opts.onCase?.();
    const t0 = performance.now();
    try {
      this.count(await check());
    } catch (err) {
      this.failing = true;
      throw err;
    } finally {
      this.slowestMs = Math.max(this.slowestMs, performance.now() - t0);
    }
  }

  private count(outcome: Outcome): void {
    if (!this.failing) this.outcomes[outcome]++;
  }

  result(details: fc.RunDetails<[unknown]>): SessionResult {
    const result: SessionResult = {
      target: this.t.name,
      seed: this.opts.seed,
      cases: details.numRuns,
      outcomes: this.outcomes,
      failed: details.failed,
      seconds: (performance.now() - this.started) / 1000,
      slowestMs: this.slowestMs,
    };
    if (details.failed) {
      if (details.counterexample) result.counterexample = this.t.show(details.counterexample[0]);
      if (details.counterexamplePath) result.path = details.counterexamplePath;
      const e = details.errorInstance;
      result.error = e instanceof Error ? e.message : String(e);
    }
    return result;
  }
}

/** A stable per-target seed from the run's seed, so targets draw different streams. */
export function targetSeed(seed: number, name: string): number {
  let h = seed | 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h | 0;
}
