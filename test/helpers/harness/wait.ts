// Bounded waiting: poll a condition until it holds or a deadline passes.
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `cond` every 25 ms; rejects naming `what` after `timeoutMs`. `what` may be a function, called
 * only on failure, so that the message can say what was observed last (a count, a size).
 */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string | (() => string)): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(25);
  }
}

/**
 * Waits until every id in `acked` has been delivered, checking only what is
 * still missing on each round (sets of a million ids stay cheap). Resolves
 * with the number still missing when the deadline passes (0 = all there).
 */
export async function waitDelivered(acked: ReadonlySet<string>, delivered: ReadonlyMap<string, unknown>, timeoutMs: number): Promise<number> {
  let missing = [...acked].filter((id) => !delivered.has(id));
  const deadline = Date.now() + timeoutMs;
  while (missing.length > 0 && Date.now() <= deadline) {
    await sleep(50);
    missing = missing.filter((id) => !delivered.has(id));
  }
  return missing.length;
}
