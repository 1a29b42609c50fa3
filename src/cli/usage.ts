// What every command shares about its arguments: the usage error (exit 2) and
// the parsers of repeatable options and time arguments.
import { parseDuration } from '../config/units.js';

/** A mistake in the command line or its files: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** Commander's collector for a repeatable option. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `2026-03-01` (UTC midnight), any ISO 8601 time, or relative `-24h` / `now-7d`. */
export function parseTimeArg(s: string | undefined, flag: string): number | undefined {
  if (s === undefined) return undefined;
  const rel = /^(?:now)?-(\d.*)$/.exec(s.trim());
  if (rel) {
    try {
      return Date.now() - parseDuration(rel[1]);
    } catch {
      /* fall through to the message below */
    }
  }
  const t = /^\d{4}-\d{2}-\d{2}$/.test(s) ? Date.parse(`${s}T00:00:00Z`) : Date.parse(s);
  if (!Number.isFinite(t)) throw new UsageError(`${flag} ${s}: use an ISO date or time (2026-03-01, 2026-03-01T09:00:00Z) or a relative time (-24h, now-7d)`);
  return t;
}
