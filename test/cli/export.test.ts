// `vigil export` as an auditor runs it: `node bin/vigil.js export` on a real
// archive written by the worm exporter, v1 (encoding: json) segments continued
// by v2 (encoding: proto) ones: every record out in chain order as OTLP JSON or
// delimited protobuf, nothing after a break. Needs the build (npm test runs it first).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeProtobufRequest } from '../../src/otlp/convert.js';
import { batchToRequest } from '../../src/otlp/convert.js';
import { encodeJsonRequest } from '../../src/otlp/json.js';
import { millisToNanos, type LogBatch } from '../../src/pipeline/record.js';
import { archivePath, editSealedLines, makeBatch, manualClock, newExporter, T0, tempDir } from '../exporters/worm/helpers.js';

const root = resolve(import.meta.dirname, '../..');
const built = existsSync(join(root, 'dist/src/cli/main.js'));
if (!built) console.warn('CLI tests skipped: run `npm run build` first (npm test does)');

function vigil(args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [join(root, 'bin/vigil.js'), ...args], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr: stderr.toString('utf8') });
    });
  });
}

/** Length-delimited messages: a varint length, then that many bytes. */
function splitDelimited(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < buf.length) {
    let len = 0;
    let shift = 0;
    for (;;) {
      const b = buf[pos++];
      len += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) break;
    }
    out.push(buf.subarray(pos, pos + len));
    pos += len;
  }
  return out;
}

let dir: string;
let cleanup: () => Promise<void>;
let archive: string;
let pub: string;
/** What each record is as OTLP JSON, in archive order. */
let expected: string[];

describe.skipIf(!built)('vigil export', () => {
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('vigil-export-'));
    const clock = manualClock();
    const v1 = newExporter(dir, { encoding: 'json' }, { timers: false, clock: clock.now });
    await v1.start();
    await v1.consume(makeBatch(5));
    await v1.shutdown(new AbortController().signal); // segment 1 (v1)
    const v2 = newExporter(dir, {}, { timers: false, clock: clock.now });
    await v2.start();
    await v2.consume(makeBatch(10, { start: 5 }));
    await v2.sealNow(); // segment 2 (v2)
    await v2.consume(makeBatch(5, { start: 15 }));
    await v2.sealNow(); // segment 3 (v2)
    await v2.consume(makeBatch(3, { start: 20 })); // the open segment 4
    await v2.crashForTest();
    archive = join(dir, 'archive');
    pub = join(dir, 'keys', 'archive.pub');
    expected = makeBatch(23).map((rec) => encodeJsonRequest(batchToRequest([rec])));
  });
  afterAll(async () => cleanup?.());

  it('otlp-json: the sealed records of both formats as OTLP JSON lines, in chain order; --unsealed adds the open segment', async () => {
    const r = await vigil(['export', archive, '-k', pub]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.toString('utf8').trimEnd().split('\n')).toEqual(expected.slice(0, 20));
    const all = await vigil(['export', archive, '-k', pub, '--unsealed']);
    expect(all.code).toBe(0);
    expect(all.stdout.toString('utf8').trimEnd().split('\n')).toEqual(expected);
  });

  it('otlp-proto --output: length-delimited protobuf requests, one record each, the same records', async () => {
    const file = join(dir, 'records.pb');
    const r = await vigil(['export', archive, '-k', pub, '--format', 'otlp-proto', '--output', file]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/20 records exported to .*records\.pb/);
    const messages = splitDelimited(await readFile(file));
    expect(messages.map((m) => encodeJsonRequest(decodeProtobufRequest(m)))).toEqual(expected.slice(0, 20));
  });

  it('usage: a public key is required, the format must be known (exit 2)', async () => {
    const noKey = await vigil(['export', archive]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/--public-key FILE/);
    const badFormat = await vigil(['export', archive, '-k', pub, '--format', 'csv']);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toMatch(/--format csv: expected otlp-json or otlp-proto/);
  });

  it('a modified record: exit 1 naming the segment; the segments before it are written, nothing of it or after', async () => {
    const copy = join(dir, 'tampered');
    await cp(archive, join(copy, 'archive'), { recursive: true });
    await editSealedLines(archivePath(copy, 2, 'sealed'), (lines) => {
      lines[4] = lines[4].replace('/items/9', '/items/8');
      return lines;
    });
    const r = await vigil(['export', join(copy, 'archive'), '-k', pub]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/export stopped at a break after 5 records: segment 2 of .*: entry 4 \(seq 10\) does not match its hash: it was modified/);
    expect(r.stdout.toString('utf8').trimEnd().split('\n')).toEqual(expected.slice(0, 5));
  });

  it('a manifest signed by another key: exit 1 before any of its records', async () => {
    const other = join(dir, 'other');
    const w = newExporter(other);
    await w.start();
    await w.shutdown(new AbortController().signal);
    const r = await vigil(['export', archive, '-k', join(other, 'keys', 'archive.pub')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/after 0 records: segment 1 .*its manifest does not verify: unknown key/);
    expect(r.stdout.length).toBe(0);
  });

  describe('--from/--to', () => {
    // The fixture: record k has timestamp T0 + k s (observed 5 ms later); segment 1 (v1) holds
    // k 0–4, segment 2 k 5–14, segment 3 k 15–19, the open segment k 20–22.
    const at = (seconds: number, ms = 0) => new Date(T0 + seconds * 1000 + ms).toISOString();
    const lines = (out: Buffer) => out.toString('utf8').split('\n').filter((l) => l !== '');

    it('a window cutting inside segments and across them: exactly its records, in chain order, as query prints them', async () => {
      const acrossFormats = await vigil(['export', archive, '-k', pub, '--from', at(2), '--to', at(7)]);
      expect(acrossFormats.code).toBe(0);
      expect(lines(acrossFormats.stdout)).toEqual(expected.slice(2, 7)); // segment 1 (v1) into segment 2 (v2)
      const intoOpen = await vigil(['export', archive, '-k', pub, '--unsealed', '--from', at(7), '--to', at(21)]);
      expect(intoOpen.code).toBe(0);
      expect(lines(intoOpen.stdout)).toEqual(expected.slice(7, 21));
      const query = await vigil(['query', archive, '--from', at(7), '--to', at(21)]);
      expect(query.code).toBe(0);
      expect(lines(query.stdout)).toEqual(lines(intoOpen.stdout));
      const sealedOnly = await vigil(['export', archive, '-k', pub, '--from', at(7)]);
      expect(lines(sealedOnly.stdout)).toEqual(expected.slice(7, 20));
    });

    it("the time is the record's timestamp, not its observed time: from inclusive, to exclusive", async () => {
      // [T0+7.003 s, T0+8.003 s): record 8's timestamp is in it; record 7's observed time (T0+7.005 s) is too, its timestamp is not.
      const r = await vigil(['export', archive, '-k', pub, '--from', at(7, 3), '--to', at(8, 3)]);
      expect(lines(r.stdout)).toEqual(expected.slice(8, 9));
      const edges = await vigil(['export', archive, '-k', pub, '--from', at(8), '--to', at(10)]);
      expect(lines(edges.stdout)).toEqual(expected.slice(8, 10));
    });

    it('segments wholly outside the window are not read: their data may be missing or modified', async () => {
      const copy = join(dir, 'outside');
      await cp(archive, join(copy, 'archive'), { recursive: true });
      await rm(archivePath(copy, 1, 'sealed', 1)); // segment 1's data file (v1) is gone
      await editSealedLines(archivePath(copy, 3, 'sealed'), (l) => {
        l[0] = l[0].replace('/items/15', '/items/16');
        return l;
      });
      const file = join(dir, 'window.pb');
      const r = await vigil(['export', join(copy, 'archive'), '-k', pub, '--from', at(5), '--to', at(15), '--format', 'otlp-proto', '-o', file]);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/10 records exported to .*window\.pb \(2 segments outside the window not read\)/);
      expect(splitDelimited(await readFile(file)).map((m) => encodeJsonRequest(decodeProtobufRequest(m)))).toEqual(expected.slice(5, 15));
      // Without the window, or with one reaching into them, they are read and the breaks found.
      expect((await vigil(['export', join(copy, 'archive'), '-k', pub])).code).toBe(1);
      const into3 = await vigil(['export', join(copy, 'archive'), '-k', pub, '--from', at(14), '--to', at(16)]);
      expect(into3.code).toBe(1);
      expect(into3.stderr).toMatch(/after 1 records: segment 3 of .*entry 0 \(seq 16\) does not match its hash/);
    });

    it('a segment that holds records in the window is proven whole: a modified record outside the window still stops it', async () => {
      const copy = join(dir, 'inside');
      await cp(archive, join(copy, 'archive'), { recursive: true });
      await editSealedLines(archivePath(copy, 2, 'sealed'), (l) => {
        l[0] = l[0].replace('/items/5', '/items/6'); // record 5; the window asks for 8 and 9
        return l;
      });
      const r = await vigil(['export', join(copy, 'archive'), '-k', pub, '--from', at(8), '--to', at(10)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/after 0 records: segment 2 of .*entry 0 \(seq 6\) does not match its hash: it was modified/);
      expect(r.stdout.length).toBe(0);
    });

    it('an empty window: exit 0, nothing written (between records, after them, from = to)', async () => {
      for (const [from, to] of [
        [at(7, 200), at(7, 800)],
        [at(3600), at(7200)],
        [at(9), at(9)],
      ]) {
        const r = await vigil(['export', archive, '-k', pub, '--unsealed', '--from', from, '--to', to]);
        expect(r.code).toBe(0);
        expect(r.stdout.length).toBe(0);
      }
      const file = join(dir, 'empty.jsonl');
      const r = await vigil(['export', archive, '-k', pub, '--to', at(-1), '-o', file]);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/^0 records exported to .*empty\.jsonl \(3 segments outside the window not read\)\n$/);
      expect(await readFile(file, 'utf8')).toBe('');
    });

    it("relative times and dates take query's syntax", async () => {
      const all = await vigil(['export', archive, '-k', pub, '--from', '2026-03-01', '--to', 'now-1s']);
      expect(all.code).toBe(0);
      expect(lines(all.stdout)).toEqual(expected.slice(0, 20));
      const none = await vigil(['export', archive, '-k', pub, '--from', '-24h']); // the fixture is dated 2026-03-01
      expect(none.code).toBe(0);
      expect(none.stdout.length).toBe(0);
    });

    it("bad values and --from after --to: exit 2 with query's message, nothing written", async () => {
      for (const args of [
        ['--from', 'March'],
        ['--to', '2026-13-45'],
        ['--from', '-3 parsecs'],
        ['--from', at(10), '--to', at(5)],
      ]) {
        const r = await vigil(['export', archive, '-k', pub, ...args]);
        expect(r.code).toBe(2);
        expect(r.stdout.length).toBe(0);
        const q = await vigil(['query', archive, ...args]);
        expect(q.code).toBe(2);
        expect(r.stderr).toBe(q.stderr);
      }
      const bad = await vigil(['export', archive, '-k', pub, '--from', 'March']);
      expect(bad.stderr).toBe('vigil: --from March: use an ISO date or time (2026-03-01, 2026-03-01T09:00:00Z) or a relative time (-24h, now-7d)\n');
      const reversed = await vigil(['export', archive, '-k', pub, '--from', at(10), '--to', at(5)]);
      expect(reversed.stderr).toMatch(/^vigil: --from 2026-03-01T09:00:10\.000Z is after --to 2026-03-01T09:00:05\.000Z: the window is from <= time < to/);
    });

    it('a record without a timestamp is placed at its observed time, one without either at its append time', async () => {
      const { dir: d, cleanup: clean } = await tempDir('vigil-export-times-');
      try {
        const clock = manualClock(T0 + 3_600_000);
        const w = newExporter(d, {}, { timers: false, clock: clock.now });
        await w.start();
        const batch: LogBatch = makeBatch(4).map((rec, k) => ({
          ...rec,
          log: { ...rec.log, timeUnixNano: millisToNanos(0), observedTimeUnixNano: k < 2 ? rec.log.observedTimeUnixNano : millisToNanos(0) },
        }));
        await w.consume(batch);
        await w.shutdown(new AbortController().signal);
        const bodies = (out: Buffer) => lines(out).map((l) => /\/items\/\d+/.exec(l)?.[0]);
        const key = join(d, 'keys', 'archive.pub');
        const observed = await vigil(['export', join(d, 'archive'), '-k', key, '--from', at(0), '--to', at(1)]);
        expect(bodies(observed.stdout)).toEqual(['/items/0']); // observed T0 + 5 ms
        const appended = await vigil(['export', join(d, 'archive'), '-k', key, '--from', at(3600)]);
        expect(bodies(appended.stdout)).toEqual(['/items/2', '/items/3']); // appended at T0 + 1 h
        const query = await vigil(['query', join(d, 'archive'), '--from', at(3600)]);
        expect(lines(query.stdout)).toEqual(lines(appended.stdout));
      } finally {
        await clean();
      }
    });
  });
});
