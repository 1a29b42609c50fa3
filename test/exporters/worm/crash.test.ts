// kill -9 for real: a child process appends batches to the archive (compiled
// code from dist/) and prints each acknowledged record id; the test kills it
// while it works, restarts it, and finally checks that every acknowledged
// record is archived and that verify passes, naming each recovery.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPublicKeys } from '../../../src/exporters/worm/keys.js';
import { queryArchive, type QueryStats } from '../../../src/exporters/worm/query.js';
import { LocalSource } from '../../../src/exporters/worm/source.js';
import { verifyArchive } from '../../../src/exporters/worm/verify.js';
import { tempDir, waitFor } from './helpers.js';

const root = resolve(import.meta.dirname, '../../..');
const built = existsSync(join(root, 'dist/src/exporters/worm/worm.js'));
if (!built) console.warn('worm kill -9 test skipped: run `npm run build` first (npm test does)');

// The child: appends 50-record batches from 4 concurrent producers until killed
// (or told to stop on stdin, then shuts down cleanly); prints "ack <first id> <n>".
const CHILD = `
import { WormExporter } from ${JSON.stringify(join(root, 'dist/src/exporters/worm/worm.js'))};
import { wormConfigSchema } from ${JSON.stringify(join(root, 'dist/src/exporters/worm/config.js'))};
import { silentLogger } from ${JSON.stringify(join(root, 'dist/src/telemetry/logger.js'))};
const [dir, run] = process.argv.slice(2);
const w = new WormExporter('worm', wormConfigSchema.parse({ directory: dir + '/archive', signing: { key_file: dir + '/keys/archive.key' }, segment: { max_bytes: '64KiB', max_age: '5m' } }), undefined, silentLogger());
await w.start();
process.stdout.write('ready\\n');
const resource = { resource: { attributes: [{ key: 'service.name', value: { stringValue: 'crash' } }] }, schemaUrl: '' };
const scope = { scope: { name: 't' }, schemaUrl: '' };
let stop = false;
process.stdin.on('data', () => (stop = true));
let next = 0;
await Promise.all([0, 1, 2, 3].map(async (p) => {
  while (!stop) {
    const first = next; next += 50;
    const batch = Array.from({ length: 50 }, (_, i) => ({ resource, scope, log: { attributes: [{ key: 'audit.record_id', value: { stringValue: run + '-' + (first + i) } }], body: { stringValue: 'x'.repeat(200) } } }));
    await w.consume(batch);
    process.stdout.write('ack ' + run + ' ' + first + '\\n');
  }
}));
await w.shutdown(new AbortController().signal);
process.stdout.write('stopped\\n', () => process.exit(0)); // stdin would keep it alive
`;

let dir: string;
let cleanup: () => Promise<void>;

function startChild(script: string, run: string): { child: ChildProcess; acked: Set<string>; lines: string[] } {
  const child = spawn(process.execPath, [script, dir, run], { stdio: ['pipe', 'pipe', 'inherit'] });
  const acked = new Set<string>();
  const lines: string[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lines.push(line);
      const m = /^ack (\S+) (\d+)$/.exec(line);
      if (m) for (let i = 0; i < 50; i++) acked.add(`${m[1]}-${Number(m[2]) + i}`);
    }
  });
  return { child, acked, lines };
}

describe.skipIf(!built)('kill -9 at random moments', () => {
  beforeAll(async () => ({ dir, cleanup } = await tempDir('vigil-crash-')));
  afterAll(async () => cleanup?.());

  it('loses no acknowledged record; verify passes and names each recovery', async () => {
    const script = join(dir, 'child.mjs');
    await writeFile(script, CHILD);
    const acked = new Set<string>();
    const trials = 3;
    for (let t = 0; t < trials; t++) {
      const c = startChild(script, `r${t}`);
      const exited = new Promise((r) => c.child.once('exit', r));
      // Kill after a fixed but uneven number of acknowledged batches: with 64 KiB segments and four
      // producers the kill lands mid-append or mid-seal, wherever the child happens to be.
      const target = 50 * [7, 23, 38][t];
      await waitFor(() => c.acked.size >= target || c.child.exitCode !== null, 30_000, `${target} acknowledged records`);
      c.child.kill('SIGKILL');
      await exited;
      for (const id of c.acked) acked.add(id);
    }
    // A last run that stops cleanly.
    const last = startChild(script, 'final');
    await waitFor(() => last.acked.size >= 100, 30_000, 'the final run to append');
    const stopped = new Promise((r) => last.child.once('exit', r));
    last.child.stdin!.write('stop\n');
    await stopped;
    expect(last.lines).toContain('stopped');
    for (const id of last.acked) acked.add(id);

    const keys = await loadPublicKeys([join(dir, 'keys', 'archive.pub')]);
    const source = new LocalSource(join(dir, 'archive'));
    const report = await verifyArchive(source, { keys });
    expect(report.findings.filter((f) => f.severity === 'break')).toEqual([]);
    const recoveries = report.findings.filter((f) => f.kind === 'unclean stop' || f.kind === 'repaired truncation');
    expect(recoveries).toHaveLength(trials);
    const archived = new Set<string>();
    const stats: QueryStats = { scanned: 0, matched: 0, segmentsRead: 0, segmentsSkipped: 0, damaged: [] };
    for await (const hit of queryArchive(source, {}, stats)) {
      archived.add(JSON.parse(hit.json).resourceLogs[0].scopeLogs[0].logRecords[0].attributes[0].value.stringValue);
    }
    const lost = [...acked].filter((id) => !archived.has(id));
    expect(lost).toEqual([]);
    expect(stats.damaged).toEqual([]);
  });
});
