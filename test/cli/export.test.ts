// `vigil export` as an auditor runs it: `node bin/vigil.js export` on a real
// archive written by the worm exporter, v1 (encoding: json) segments continued
// by v2 (encoding: proto) ones: every record out in chain order as OTLP JSON or
// delimited protobuf, nothing after a break. Needs the build (npm test runs it first).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeProtobufRequest } from '../../src/otlp/convert.js';
import { batchToRequest } from '../../src/otlp/convert.js';
import { encodeJsonRequest } from '../../src/otlp/json.js';
import { archivePath, editSealedLines, makeBatch, manualClock, newExporter, tempDir } from '../exporters/worm/helpers.js';

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
});
