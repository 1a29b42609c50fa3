// `vigil run` compacts the heap once when ready, so an idle sidecar does not hold
// the young generation start-up grew, and once after each burst when it has gone
// idle (src/util/compact-heap.ts). Checked in a real
// node process, as V8 reports it: the new space's resident size after the call.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IdleHeapCompactor } from '../../src/util/compact-heap.js';
import { exposedGc } from '../helpers/gc.js';

const MODULE = join(process.cwd(), 'dist', 'src', 'util', 'compact-heap.js');

// Grows the young generation (objects that survive scavenges), drops them, then compacts.
const SCRIPT = `
import v8 from 'node:v8';
const { compactHeapAfterStart } = await import(${JSON.stringify(MODULE)});
const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').physical_space_size;
let keep = [];
for (let i = 0; i < 400000; i++) keep.push({ i, s: 'x' + i });
keep = null;
const before = newSpace();
const ran = compactHeapAfterStart();
console.log(JSON.stringify({ ran, before, after: newSpace() }));
`;

function run(nodeFlags: string[]): { ran: boolean; before: number; after: number } {
  const r = spawnSync(process.execPath, [...nodeFlags, '--input-type=module', '-e', SCRIPT], { encoding: 'utf8', timeout: 60_000 });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as { ran: boolean; before: number; after: number };
}

describe('compactHeapAfterStart', () => {
  it('shrinks the grown new space to a fraction when the process can collect (--expose-gc)', () => {
    const r = run(['--expose-gc', '--max-semi-space-size=16']);
    expect(r.ran).toBe(true);
    expect(r.before).toBeGreaterThan(8 * 1024 * 1024);
    expect(r.after).toBeLessThan(r.before / 4);
  });

  it('does nothing without --expose-gc', () => {
    const r = run(['--max-semi-space-size=16']);
    expect(r.ran).toBe(false);
    expect(r.after).toBe(r.before);
  });
});

describe('IdleHeapCompactor', () => {
  // The real collector (exposed for the test), counted; CPU and RSS are the inputs the compactor reads.
  const realGc = exposedGc() as ((o: object) => void) | undefined;
  const MiB = 1024 * 1024;

  function compactor() {
    const inputs = { cpu: 0, rss: 100 * MiB, collections: 0 };
    const c = new IdleHeapCompactor({
      intervalMs: 10_000,
      idleCpuShare: 0.01, // idle: under 100 ms of CPU per 10 s
      minGrowthBytes: 16 * MiB,
      cpuMicros: () => inputs.cpu,
      rssBytes: () => inputs.rss,
      gc: (o) => {
        inputs.collections++;
        if (!realGc) throw new Error('this test needs V8 gc (node --expose-gc, or v8.setFlagsFromString at run time)');
        realGc(o);
      },
    });
    return { c, inputs };
  }

  it('compacts once when a burst has grown RSS and the process has gone idle, not while busy', () => {
    const { c, inputs } = compactor();
    inputs.cpu += 5_000_000; // a busy interval: 5 s of CPU
    inputs.rss = 250 * MiB;
    expect(c.tick()).toBe(false);
    inputs.cpu += 20_000; // idle: 20 ms
    expect(c.tick()).toBe(true);
    expect(inputs.collections).toBe(1);
    inputs.rss = 216 * MiB; // what the compaction gave back; quiet from now on
    for (let i = 0; i < 3; i++) {
      inputs.cpu += 20_000;
      expect(c.tick()).toBe(false);
    }
    expect(inputs.collections).toBe(1);
  });

  it('waits for RSS to grow again before the next compaction', () => {
    const { c, inputs } = compactor();
    inputs.rss = 200 * MiB;
    expect(c.tick()).toBe(true);
    inputs.rss = 210 * MiB; // +10 MiB over the last compaction: less than 16
    expect(c.tick()).toBe(false);
    inputs.rss = 230 * MiB;
    expect(c.tick()).toBe(true);
    expect(inputs.collections).toBe(2);
  });

  it('does not compact an idle process whose RSS has not grown since start', () => {
    const { c, inputs } = compactor();
    inputs.rss += 8 * MiB;
    expect(c.tick()).toBe(false);
    expect(inputs.collections).toBe(0);
  });
});
