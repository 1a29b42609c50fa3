// Issue 13, item 9: out of file descriptors, the archive must not leak them.
// `vigil run` under a descriptor limit (prlimit) has every descriptor taken by
// idle client connections; a segment seal then finds it can open the next
// segment file but not fsync the directory (that needs one more descriptor).
// The segment's descriptor used to stay open for ever; once the connections
// go, Vigil opened the same segment again: two descriptors on one file. Now
// exactly one remains, and appends carry on.
// Nothing here depends on speed: the seal is a size seal, set off by a record
// sent over a connection opened before the exhaustion, and descriptors are
// topped up until none is left (a timed seal used to race the exhaustion on a
// slow machine and leave a descriptor free); the first checkpoint of the open
// segment, which holds descriptors while it is written, is written before the
// exhaustion; and descriptors are counted once the retried seal is done.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { VIGIL_BIN } from '../helpers/cli.js';
import { until } from '../helpers/downstream.js';
import { tempDir } from '../helpers/tmp.js';
import { CHECKPOINT_FILE } from '../../src/exporters/worm/checkpoint.js';
import { segmentFileName } from '../../src/exporters/worm/layout.js';
import { encodeProtobufRequest } from '../../src/otlp/convert.js';
import { grpcExport, grpcSession } from '../receivers/otlp/clients.js';
import { rawConnect } from '../security/clients.js';

const LIMIT = 200;
const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0 && existsSync('/proc/self/fd');
if (!hasPrlimit) console.warn('EMFILE test skipped: it needs prlimit and /proc');

const fdTargets = (pid: number): string[] =>
  readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/${pid}/fd/${fd}`)];
    } catch {
      return [];
    }
  });

let child: ChildProcess | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  if (child && child.exitCode === null) {
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
  }
});

describe.skipIf(!hasPrlimit)('vigil run out of file descriptors', () => {
  it('leaks no segment descriptor when a seal cannot fsync the directory (EMFILE), and appends resume', async () => {
    const dir = tempDir('vigil-emfile-');
    const archive = join(dir, 'archive');
    const cfg = join(dir, 'vigil.yaml');
    writeFileSync(
      cfg,
      stringify({
        receivers: { otlp: { protocols: { grpc: { endpoint: '127.0.0.1:0', max_connections: 0 } } } },
        // No timed seal and no heartbeat checkpoint during the test: only the size seal below uses descriptors.
        exporters: { worm: { directory: archive, segment: { max_bytes: 4096, max_age: '1h' }, heartbeat: '1h', signing: { key_file: join(dir, 'keys', 'archive.key') } } },
        service: { telemetry: { metrics: { address: null }, logs: { level: 'info' } }, pipelines: { logs: { receivers: ['otlp'], exporters: ['worm'] } } },
      }),
    );
    child = spawn('prlimit', [`--nofile=${LIMIT}:${LIMIT}`, process.execPath, VIGIL_BIN, 'run', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await until(() => /vigil ready/.test(out), 'vigil to be ready', 30_000);
    const address = /OTLP\/gRPC (\d+\.\d+\.\d+\.\d+:\d+)/.exec(out)![1];
    const pid = child.pid!;
    const record = (body: string) => encodeProtobufRequest({ resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ logRecords: [{ body: { stringValue: body }, attributes: [] }] }] }] });
    const request = record('x');
    // Opened now, used once every descriptor is taken: it needs none of its own then.
    const session = grpcSession(address);
    try {
      const first = await session.send(request);
      expect(first.code, `${first.details}\n${out}`).toBe(grpc.status.OK);
      // The first tick after the first record (within a second) signs a checkpoint of the open segment, whatever
      // the heartbeat, and writing it holds descriptors for a moment (a retry every tick while it fails): a count
      // read then could look full, and the seal below find a descriptor free again and open the next segment
      // after all. It is written before the exhaustion starts, and with no heartbeat due nothing follows it.
      const checkpoints = () => {
        try {
          return readFileSync(join(archive, CHECKPOINT_FILE), 'utf8');
        } catch {
          return '';
        }
      };
      await until(() => checkpoints().includes('state=open'), () => `the archive's first checkpoint of the open segment\n${out}`, 30_000);

      // Take every descriptor Vigil has with idle connections (those past the limit it accepts and drops).
      // One more connection each time a descriptor is still free, until none is.
      const connect = async (): Promise<void> => {
        const s = await rawConnect(address).catch(() => undefined);
        if (!s) return;
        s.on('error', () => undefined);
        sockets.push(s);
      };
      for (let i = 0; i < LIMIT; i++) await connect();
      let topUps = 0;
      let taken = 0;
      await until(
        async () => {
          if ((taken = fdTargets(pid).length) >= LIMIT) return true;
          if (topUps++ < LIMIT) await connect();
          return false;
        },
        () => `every descriptor to be taken (${taken} of ${LIMIT}, ${sockets.length} connections, ${topUps} top-ups)`,
        30_000,
      );

      // A record past segment.max_bytes: the append is acknowledged, and the size seal that follows can open
      // the next segment file but not fsync the directory.
      const logged = out.length;
      const big = await session.send(record('y'.repeat(8192)));
      expect(big.code, big.details).toBe(grpc.status.OK);
      await until(
        () => /cannot open the next segment yet/.test(out.slice(logged)),
        () => `a seal that cannot open the next segment (${fdTargets(pid).length} of ${LIMIT} descriptors taken now); logged since the record:\n${out.slice(logged)}`,
        20_000,
      );
    } finally {
      session.close();
    }

    for (const s of sockets.splice(0)) s.destroy();
    await until(async () => (await grpcExport(address, request)).code === grpc.status.OK, 'appends to resume', 30_000);
    // The seal of segment 1 failed while no descriptor was free and is retried with a backoff: while a retry
    // compresses it, it holds segment 1 for a moment (seen on a loaded machine). Counted once that seal is done,
    // when segment 1 is deleted: a descriptor still on it is a leak, shown by /proc as "… (deleted)".
    const sealed = () => {
      const names = readdirSync(archive);
      return names.includes(segmentFileName(1, 'manifest')) && !names.some((n) => n.endsWith('.sealing.json'));
    };
    await until(sealed, () => `the seal of segment 1 to finish (archive: ${readdirSync(archive).join(' ')})`, 60_000);
    const openSegments = fdTargets(pid)
      .map((t) => t.replace(/ \(deleted\)$/, ''))
      .filter((t) => t.startsWith(archive) && (t.endsWith('.jsonl') || t.endsWith('.vlog')));
    expect(openSegments, `descriptors on open segments: ${openSegments.join(', ')}`).toHaveLength(1);
    // A leaked FileHandle that a garbage collection happened to close first is still a leak.
    expect(out).not.toMatch(/Closing file descriptor \d+ on garbage collection/);
  }, 120_000);
});
