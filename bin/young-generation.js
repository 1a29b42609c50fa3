// `vigil run`'s default young-generation size. V8 lets the young generation
// (the semi-spaces new objects are born in) grow to 32 MiB each under load; a
// record pipeline makes mostly short-lived garbage, so that size is held as RSS
// without making the scavenges cheaper per record. Measured at a steady 5,000 and
// 10,000 records/s through the full pipeline (docs/performance.md): 16 MiB
// semi-spaces cut RSS under load by 50-90 MiB for no measurable CPU.
//
// V8 reads the size when the heap is set up: v8.setFlagsFromString afterwards
// does not lower it, so the flag goes on the command line, by re-executing the
// process in place (same pid, stdio and signals) before anything is loaded.
// A size the user chose (node flag or NODE_OPTIONS) is left alone.
//
// The same restart turns V8's allocation-site pretenuring off. Under steady load
// V8 sees the decoded records' allocation sites survive collections (a young
// collection is triggered by allocation, so it always falls in the middle of a
// batch, whose records are all alive then) and starts allocating them straight
// in the old space: every record's objects then become old garbage that only a
// mark-compact frees. Without it (docs/performance.md, "Steady 10k/s"): 2.1 ->
// 0.2 KiB promoted per record, RSS 35-45 MiB lower under load, GC pauses about
// halved, the same CPU. A pretenuring flag given to node on its command line
// wins (node does not take one from NODE_OPTIONS).
//
// And it starts the old generation at 64 MiB (--initial-old-space-size=64).
// With pretenuring off the live heap is small (~30 MiB), so V8's first limits
// on the old generation are low and it started a mark-compact every 0.3 s;
// from 64 MiB, every 0.6 s (3 interleaved rounds at 10,000/s: CPU 62.6-73.2 ->
// 57.4-63.5 % of one core, RSS peak 242-254 -> 222-232 MiB, idle +1-2 MiB).
// A size the user gave on node's command line or in NODE_OPTIONS wins.
//
// The same restart adds --expose-gc: a memory_limiter that is refusing collects
// before each check, else a Vigil that allocates almost nothing while refusing
// can sit above its soft limit on garbage V8 never collects (docs: the
// memory_limiter README, "Collecting while refusing").
// `vigil run` also uses it to compact its heap once when ready and once after
// each burst when idle (src/util/compact-heap.ts).
export var SEMI_SPACE_MIB = 16;

var FLAG = /(^|\s)--max-semi-space-size(=|\s|$)/;
var EXPOSE_GC = /(^|\s)--expose[-_]gc(\s|$)/;
var PRETENURING = /(^|\s)--(no-)?allocation[-_]site[-_]pretenuring(\s|$)/;
export var NO_PRETENURING = '--no-allocation-site-pretenuring';
var OLD_SPACE = /(^|\s)--initial[-_]old[-_]space[-_]size(=|\s|$)/;
export var INITIAL_OLD_SPACE_MIB = 64;

/** The node arguments to re-execute with, or null to go on as started. */
export function youngGenerationArgs(argv, execArgv, nodeOptions) {
  var command = argv.slice(2).find(function (a) {
    return a.charAt(0) !== '-';
  });
  if (command !== 'run') return null;
  var given = execArgv.join(' ') + ' ' + (nodeOptions || '');
  var added = [];
  if (!FLAG.test(given)) added.push('--max-semi-space-size=' + SEMI_SPACE_MIB);
  if (!EXPOSE_GC.test(given)) added.push('--expose-gc');
  if (!PRETENURING.test(given)) added.push(NO_PRETENURING);
  if (!OLD_SPACE.test(given)) added.push('--initial-old-space-size=' + INITIAL_OLD_SPACE_MIB);
  if (added.length === 0) return null;
  return added.concat(execArgv, argv.slice(1));
}
