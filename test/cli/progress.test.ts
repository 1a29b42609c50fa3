import { describe, expect, it } from 'vitest';
import { progressBar, renderProgress } from '../../src/cli/progress.js';

describe('replay progress bar', () => {
  it('renders a bar with percentage, sizes, count, rate and ETA when the total is known', () => {
    expect(renderProgress('replay', 50e6, 200e6, 100_000, 2)).toBe('replay [######..................] 25% 50.0/200.0 MB  100,000 records 50,000/s  ETA 0:06');
  });

  it('renders bytes and count when the total is not known (stdin)', () => {
    expect(renderProgress('replay', 1.5e6, undefined, 10, 0)).toBe('replay 1.5 MB  10 records');
  });

  it('draws only on a terminal, at most every 100 ms, and clears itself', () => {
    const writes: string[] = [];
    let t = 0;
    const tty = { isTTY: true, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream;
    const bar = progressBar({ label: 'replay', totalBytes: 100, stream: tty, now: () => t });
    bar.update(10, 1);
    t = 50;
    bar.update(20, 2);
    t = 150;
    bar.update(30, 3);
    bar.done();
    expect(writes).toHaveLength(3);
    expect(writes[0]).toMatch(/^\rreplay \[.*10%.*\x1b\[K$/);
    expect(writes[1]).toContain('30%');
    expect(writes[2]).toBe('\r\x1b[K');
    const pipe = { isTTY: false, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream;
    const silent = progressBar({ label: 'replay', totalBytes: 100, stream: pipe });
    silent.update(50, 5);
    silent.done();
    expect(writes).toHaveLength(3);
  });
});
