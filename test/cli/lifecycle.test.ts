// The process around Vigil: npm scripts exec it (SIGTERM to npm stops it and
// frees its ports), shutdown says what it drains, an old Node is told what to install.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { nodeVersionProblem } from '../../bin/node-version.js';
import { startVigilProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('process lifecycle', () => {
  it('npm start execs Vigil: SIGTERM to npm drains Vigil, logs what it waits for, and frees its ports', async () => {
    const dir = tempDir();
    const cfg = join(dir, 'vigil.yaml');
    writeFileSync(
      cfg,
      `receivers: { otlp: { protocols: { grpc: { endpoint: 127.0.0.1:0 }, http: { endpoint: 127.0.0.1:0 } } } }
exporters: { file: { path: ${dir}/out.jsonl } }
service:
  telemetry: { metrics: { address: "" }, logs: { encoding: json } }
  pipelines: { logs: { receivers: [otlp], exporters: [file] } }
`,
    );
    // --ignore-scripts: only the prestart build is skipped (the test runs on a built tree), start itself runs.
    const npm = spawn('npm', ['start', '--ignore-scripts', '--silent', '--', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    npm.stdout.on('data', (d: Buffer) => (out += d.toString()));
    npm.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const check = () => /OTLP\/HTTP \S+/.test(out) && resolve();
      npm.stdout.on('data', check);
      void exited.then((code) => reject(new Error(`npm start exited (${code}) before Vigil was ready:\n${out}\n${err}`)));
    });
    const ports = [/OTLP\/gRPC \S+:(\d+)/.exec(out)![1], /OTLP\/HTTP http:\/\/[^/]+:(\d+)/.exec(out)![1]].map(Number);
    expect(await portIsFree(ports[0])).toBe(false);

    npm.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const port of ports) expect(await portIsFree(port)).toBe(true);
    const draining = err.split('\n').find((l) => l.includes('shutting down: draining'));
    expect(JSON.parse(draining!)).toMatchObject({ deadline_ms: 30_000, waits_for: { receivers: expect.stringContaining('otlp'), exporters: expect.stringContaining('file') } });
    expect(err).toMatch(/"clean":true,"msg":"vigil stopped"/);
  });

  it('service.telemetry.logs.encoding console: tab-separated time, level, component, message', async () => {
    const dir = tempDir();
    const cfg = join(dir, 'vigil.yaml');
    writeFileSync(
      cfg,
      `exporters: { file: { path: ${dir}/out.jsonl } }
service:
  telemetry: { metrics: { address: "" }, logs: { encoding: console } }
  pipelines: { logs: { exporters: [file] } }
`,
    );
    const v = await startVigilProcess(['run', '--config', cfg]);
    v.child.kill('SIGTERM');
    expect(await v.exited).toBe(0);
    const lines = v.stderr().trimEnd().split('\n');
    expect(lines.some((l) => /^\d{4}-\d\d-\d\dT[\d:.]+Z\tinfo\tvigil\tvigil started\t\{"config":/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('{'))).toBe(false);
  });

  it('an unsupported Node gets what to install', () => {
    expect(nodeVersionProblem('20.20.2')).toMatch(/Node 20\.20\.2 is too old; Vigil needs Node 22\.15 or newer.*\n.*nvm install 24/);
    expect(nodeVersionProblem('22.14.0')).toMatch(/too old/);
    expect(nodeVersionProblem('v22.15.0')).toBeNull();
    expect(nodeVersionProblem('24.1.0')).toBeNull();
    expect(nodeVersionProblem(process.versions.node)).toBeNull();
  });
});
