// `vigil run` as a child process, the way an operator runs it: started from
// bin/vigil.js (the build in dist/), ready once it prints its banner, killed
// with SIGKILL or stopped with SIGTERM, measured through /proc and its
// Prometheus endpoint. Its stderr (JSON logs) is appended to a log file.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../src/util/paths.js';
import type { Endpoints } from './client.js';

export const VIGIL_BIN = join(packageRoot(), 'bin', 'vigil.js');

/** True when the CLI has been built (the harness runs the real command, from dist/). */
export function vigilBuilt(): boolean {
  return existsSync(join(packageRoot(), 'dist', 'src', 'cli', 'main.js'));
}

export interface StartOptions {
  config: string;
  cwd: string;
  /** Vigil's stderr is appended here. */
  logFile: string;
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export class VigilChild {
  readonly endpoints: Endpoints;
  readonly metricsUrl: string | undefined;
  /** Resolves with the exit code, or the signal name. */
  readonly exited: Promise<number | string>;
  private exitValue: number | string | undefined;

  private constructor(
    readonly child: ChildProcess,
    readonly banner: string,
    exited: Promise<number | string>,
    private readonly log: WriteStream,
  ) {
    this.exited = exited.then((v) => (this.exitValue = v));
    const grpc = /OTLP\/gRPC (\S+)/.exec(banner)?.[1];
    const http = /OTLP\/HTTP (\S+)/.exec(banner)?.[1];
    if (!grpc || !http) throw new Error(`vigil's banner names no OTLP endpoints:\n${banner}`);
    this.endpoints = { grpc, http };
    this.metricsUrl = /metrics\s+(\S+)/.exec(banner)?.[1];
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exitValue === undefined;
  }

  static async start(o: StartOptions): Promise<VigilChild> {
    const log = createWriteStream(o.logFile, { flags: 'a' });
    const child = spawn(process.execPath, [VIGIL_BIN, 'run', '--config', o.config], {
      cwd: o.cwd,
      env: { ...process.env, ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | string>((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig ?? -1)));
    let out = '';
    let errTail = '';
    child.stderr!.on('data', (d: Buffer) => {
      log.write(d);
      errTail = (errTail + d.toString()).slice(-4000);
    });
    // 60 s: a restart that recovers a torn archive and a queue took over 30 s on a loaded machine.
    const readyTimeoutMs = o.readyTimeoutMs ?? 60_000;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`vigil did not print its banner within ${readyTimeoutMs} ms:\n${out}\n${errTail}`)), readyTimeoutMs);
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          // The banner ends with the metrics line (or the last exporter line when metrics are off).
          if (/vigil ready/.test(out) && out.endsWith('\n')) {
            clearTimeout(timer);
            resolve();
          }
        });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`vigil exited (${code}) before it was ready:\n${out}\n${errTail}`));
        });
      });
    } catch (err) {
      child.kill('SIGKILL');
      await exited;
      log.end();
      throw err;
    }
    // Keep draining stdout so the child never blocks on a full pipe.
    child.stdout!.on('data', () => undefined);
    return new VigilChild(child, out, exited, log);
  }

  /** kill -9, and wait until the process is gone. */
  async kill9(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
    this.log.end();
  }

  /** SIGTERM and wait for the exit (SIGKILL after `timeoutMs`); resolves with the exit code or signal. */
  async terminate(timeoutMs = 30_000): Promise<number | string> {
    if (this.running) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
      this.log.end();
    }
  }

  /** The sum of a Prometheus metric's series whose labels include `labels` (undefined when not exposed). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
    if (!this.metricsUrl) throw new Error('vigil runs without a metrics endpoint (service.telemetry.metrics.address)');
    const text = await (await fetch(this.metricsUrl, { signal: AbortSignal.timeout(5000) })).text();
    return sumMetric(text, name, labels);
  }
}

/** Sums the samples of `name` in Prometheus text whose labels include every pair of `labels`. */
export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map<string, string>();
    for (const p of (m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) have.set(p[1], p[2]);
    if (Object.entries(labels).some(([k, v]) => have.get(k) !== v)) continue;
    total = (total ?? 0) + Number(m[4]);
  }
  return total;
}
