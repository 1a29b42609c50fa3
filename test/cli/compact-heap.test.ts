// `vigil run` compacts the heap once when ready, so an idle sidecar does not hold
// the young generation start-up grew (src/util/compact-heap.ts). Checked in a real
// node process, as V8 reports it: the new space's resident size after the call.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

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
