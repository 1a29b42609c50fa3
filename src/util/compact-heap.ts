// One memory-reducing collection when `vigil run` is ready. Start-up (module
// loading, config schemas, component construction) grows V8's young generation
// to its maximum, and an idle process has no reason to shrink it: V8's memory
// reducer only starts after a mark-compact, and with the 64 MiB initial old
// space start-up runs none. A last-resort collection compacts the old space and
// shrinks the new space to its initial size: idle RSS 114 -> 97 MiB
// (docs/performance.md, "Memory"). Needs --expose-gc, which `vigil run`'s
// restart adds (bin/young-generation.js); without it this does nothing.

type Collect = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/** Runs the collection; false when the process cannot collect on demand. */
export function compactHeapAfterStart(gc: Collect | undefined = (globalThis as { gc?: Collect }).gc): boolean {
  if (!gc) return false;
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return true;
}
