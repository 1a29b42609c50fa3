// Running fuzz targets under vitest: fixed seeds (deterministic), a failure
// reported with the input and the command that replays it in the runner.
import { expect } from 'vitest';
import type { Registry } from '../../src/config/load.js';
import { runSession, targetSeed, type SessionResult } from '../../src/fuzz/session.js';
import { fuzzTargets } from '../../src/fuzz/targets.js';

/** The base seed of the test suites (the runner's --seed). */
export const SEED = 20260601;

/** Runs `cases` cases of a target; the config targets need the component registry, the decoder targets none. */
export function fuzz(name: string, cases: number, registry: Registry = new Map()): SessionResult {
  const t = fuzzTargets(registry).find((x) => x.name === name);
  if (!t) throw new Error(`no fuzz target ${name}`);
  const r = runSession(t, { cases, seed: targetSeed(SEED, name) });
  if (r.failed) {
    throw new Error(
      `${name} broke its contract after ${r.cases} cases: ${r.error}\n  input: ${r.counterexample}\n  replay: npm run build && node dist/src/fuzz/run.js --target ${name} --seed ${SEED} --path ${r.path}`,
    );
  }
  expect(r.cases).toBe(cases);
  return r;
}
