// The progress line `vigil simulate` and `vigil demo` show: a redrawn bar on a
// terminal, a plain line per quarter when piped.
import { describe, expect, it } from 'vitest';
import { countProgress, renderCount } from '../../src/cli/progress.js';

function fakeStream(isTTY: boolean) {
  const chunks: string[] = [];
  return { stream: { isTTY, write: (s: string) => chunks.push(s) } as unknown as NodeJS.WriteStream, chunks };
}

describe('countProgress', () => {
  it('renders a bar with percent, counts and rate', () => {
    expect(renderCount('sending', 250, 1000, 'records', 2)).toBe('sending [######..................] 25% 250/1,000 records  125/s');
  });

  it('prints plain quarter lines when piped, no escapes', () => {
    const { stream, chunks } = fakeStream(false);
    let t = 0;
    const p = countProgress({ label: 'sending', total: 100, unit: 'records', stream, now: () => (t += 100) });
    for (let i = 1; i <= 100; i++) p.update(i);
    p.done();
    expect(chunks).toHaveLength(3);
    expect(chunks.join('')).not.toContain('\x1b');
    expect(chunks[0]).toMatch(/^sending \[######\.+\] 25% 25\/100 records/);
  });

  it('redraws one line on a terminal and clears it when done', () => {
    const { stream, chunks } = fakeStream(true);
    let t = 0;
    const p = countProgress({ label: 'sending', total: 10, unit: 'records', stream, now: () => (t += 200) });
    for (let i = 1; i <= 10; i++) p.update(i);
    p.done();
    expect(chunks.every((c) => c.startsWith('\r'))).toBe(true);
    expect(chunks.at(-1)).toBe('\r\x1b[K');
  });
});
