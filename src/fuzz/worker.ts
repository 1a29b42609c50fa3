// A fuzz session in a worker thread: the runner's main thread watches it, so a
// case that hangs is caught (no progress for --hang-ms) and one that balloons
// memory hits the worker's heap limit instead of taking the machine down.
import { parentPort, workerData } from 'node:worker_threads';
import type { Registry } from '../config/load.js';
import { hostileCases } from './hostile.js';
import { checkJsonInput, checkProtobufInput, describeError, type Outcome } from './contracts.js';
import { selfTestTargets } from './selftest.js';
import { runSession, runSessionAsync, type SessionResult } from './session.js';
import { fuzzTargets } from './targets.js';

export interface WorkerJob {
  target: string;
  cases: number;
  seed: number;
  path?: string;
  /** Int32Array [cases started so far, 1 once loaded], read by the watchdog. */
  progress: SharedArrayBuffer;
}

export const HOSTILE_TARGET = 'hostile';

/** The fixed hostile cases, each once, against the decoders' contract. */
function runHostile(onCase: () => void, seed: number): SessionResult {
  const outcomes: Record<Outcome, number> = { accepted: 0, partial: 0, refused: 0 };
  const started = performance.now();
  let slowestMs = 0;
  for (const c of hostileCases) {
    onCase();
    const t0 = performance.now();
    try {
      const input = c.build();
      outcomes[typeof input === 'string' ? checkJsonInput(input) : checkProtobufInput(input)]++;
    } catch (err) {
      return {
        target: HOSTILE_TARGET, seed, cases: Object.values(outcomes).reduce((a, b) => a + b, 0) + 1, outcomes, failed: true,
        counterexample: `${c.kind}: ${c.name}`, error: describeError(err), seconds: (performance.now() - started) / 1000, slowestMs,
      };
    }
    slowestMs = Math.max(slowestMs, performance.now() - t0);
  }
  return { target: HOSTILE_TARGET, seed, cases: hostileCases.length, outcomes, failed: false, seconds: (performance.now() - started) / 1000, slowestMs };
}

if (parentPort) {
  // The YAML parser warns (process.emitWarning) about odd input; fuzzing makes odd input by the thousand.
  process.removeAllListeners('warning');
  const job = workerData as WorkerJob;
  const progress = new Int32Array(job.progress);
  const onCase = () => {
    Atomics.store(progress, 1, 1);
    Atomics.add(progress, 0, 1);
  };
  let result: SessionResult;
  if (job.target === HOSTILE_TARGET) {
    result = runHostile(onCase, job.seed);
  } else {
    // Only the config targets need every component (the registry); the decoders' targets load faster without.
    const registry: Registry = job.target.startsWith('config.') ? (await import('../components.js')).defaultRegistry() : new Map();
    const t = [...fuzzTargets(registry), ...selfTestTargets()].find((x) => x.name === job.target);
    if (!t) throw new Error(`unknown fuzz target ${job.target}`);
    const opts = { cases: job.cases, seed: job.seed, path: job.path, onCase };
    result = t.async ? await runSessionAsync(t, opts) : runSession(t, opts);
  }
  parentPort.postMessage(result);
}
