// Issue 13, item 9: out of file descriptors, the archive must not leak them.
// `vigil run` under a descriptor limit (prlimit) has every descriptor taken by
// idle client connections; a segment seal then finds it can open the next
// segment file but not fsync the directory (that needs one more descriptor).
// The segment's descriptor used to stay open for ever; once the connections
// go, Vigil opened the same segment again: two descriptors on one file. Now
// exactly one remains, and appends carry on.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { VIGIL_BIN } from '../helpers/cli.js';
import { until } from '../helpers/downstream.js';
import { tempDir } from '../helpers/tmp.js';
import { encodeProtobufRequest } from '../../src/otlp/convert.js';
import { grpcExport } from '../receivers/otlp/clients.js';
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
        exporters: { worm: { directory: archive, segment: { max_age: '4s' }, signing: { key_file: join(dir, 'keys', 'archive.key') } } },
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
    const request = encodeProtobufRequest({ resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ logRecords: [{ body: { stringValue: 'x' }, attributes: [] }] }] }] });
    const first = await grpcExport(address, request);
    expect(first.code, `${first.details}\n${out}`).toBe(grpc.status.OK);

    // Take every descriptor Vigil has with idle connections (those past the limit it accepts and drops).
    for (let i = 0; i < LIMIT; i++) {
      const s = await rawConnect(address).catch(() => undefined);
      if (s) {
        s.on('error', () => undefined);
        sockets.push(s);
      }
    }
    await until(() => fdTargets(pid).length >= LIMIT, 'every descriptor to be taken', 20_000);
    // The first timed seal (max_age: the exhaustion above takes far less) cannot open the next segment for
    // good: the directory fsync finds no descriptor. No earlier seal competes for descriptors.
    const logged = out.length;
    await until(() => /cannot open the next segment yet/.test(out.slice(logged)), 'a seal that cannot open the next segment', 20_000);

    for (const s of sockets.splice(0)) s.destroy();
    await until(async () => (await grpcExport(address, request)).code === grpc.status.OK, 'appends to resume', 30_000);
    const openSegments = fdTargets(pid).filter((t) => t.startsWith(archive) && (t.endsWith('.jsonl') || t.endsWith('.vlog')));
    expect(openSegments, `descriptors on open segments: ${openSegments.join(', ')}`).toHaveLength(1);
  }, 120_000);
});
