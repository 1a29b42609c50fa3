// Running fuzz targets under vitest: fixed seeds (deterministic), a failure
// reported with the input and the command that replays it in the runner.
import { expect } from 'vitest';
import type { Registry } from '../../src/config/load.js';
import { runSession, runSessionAsync, targetSeed, type SessionResult } from '../../src/fuzz/session.js';
import { fuzzTargets } from '../../src/fuzz/targets.js';

/** The base seed of the test suites (the runner's --seed). */
export const SEED = 20260601;

/** Runs `cases` cases of a target; the config targets need the component registry, the decoder targets none. */
export function fuzz(name: string, cases: number, registry: Registry = new Map()): SessionResult {
  return judged(name, cases, runSession(target(name, registry), { cases, seed: targetSeed(SEED, name) }));
}

/** The same for targets whose checks do I/O (the archive verifier). */
export async function fuzzAsync(name: string, cases: number): Promise<SessionResult> {
  return judged(name, cases, await runSessionAsync(target(name, new Map()), { cases, seed: targetSeed(SEED, name) }));
}

function target(name: string, registry: Registry) {
  const t = fuzzTargets(registry).find((x) => x.name === name);
  if (!t) throw new Error(`no fuzz target ${name}`);
  return t;
}

function judged(name: string, cases: number, r: SessionResult): SessionResult {
  if (r.failed) {
    throw new Error(
      `${name} broke its contract after ${r.cases} cases: ${r.error}\n  input: ${r.counterexample}\n  replay: npm run build && node dist/src/fuzz/run.js --target ${name} --seed ${SEED} --path ${r.path}`,
    );
  }
  expect(r.cases).toBe(cases);
  return r;
}
