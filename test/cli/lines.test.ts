import { describe, expect, it } from 'vitest';
import { readLineBatches } from '../../src/cli/lines.js';

async function collect(chunks: (string | Buffer)[], max = 1024) {
  let bytes = 0;
  const out = [];
  for await (const batch of readLineBatches((async function* () { yield* chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)); })(), max, (n) => (bytes += n))) out.push(...batch);
  return { lines: out.map((l) => [l.number, l.text, l.truncated]), bytes };
}

describe('readLineBatches', () => {
  it('splits LF and CRLF lines across chunk boundaries, last line without a newline included', async () => {
    const r = await collect(['a\r\nb', 'c\n', '\nd\r', '\ne']);
    expect(r.lines).toEqual([[1, 'a', false], [2, 'bc', false], [3, '', false], [4, 'd', false], [5, 'e', false]]);
    expect(r.bytes).toBe(11);
  });

  it('cuts a line longer than the cap and says so, keeping the next lines', async () => {
    const r = await collect(['x'.repeat(10), 'y'.repeat(10), '\nok\n'], 8);
    expect(r.lines).toEqual([[1, 'xxxxxxxx', true], [2, 'ok', false]]);
  });

  it('decodes invalid UTF-8 to U+FFFD, and a multi-byte character split across chunks whole', async () => {
    const euro = Buffer.from('€\n');
    const r = await collect([Buffer.from([0x66, 0xff, 0x0a]), euro.subarray(0, 1), euro.subarray(1)]);
    expect(r.lines).toEqual([[1, 'f\uFFFD', false], [2, '€', false]]);
  });

  it("gives each chunk's lines as one array, a line that spans chunks with the chunk that ends it", async () => {
    const batches: string[][] = [];
    const chunks = ['a\nb\nc', 'c\nd', 'd', '\n', 'e'].map((c) => Buffer.from(c));
    for await (const batch of readLineBatches((async function* () { yield* chunks; })(), 1024)) batches.push(batch.map((l) => l.text));
    expect(batches).toEqual([['a', 'b'], ['cc'], ['dd'], ['e']]);
  });
});
