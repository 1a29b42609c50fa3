// Running the real `vigil` command (from dist/, built by `npm test`'s pretest).
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';

export const VIGIL_BIN = join(process.cwd(), 'bin', 'vigil.js');

export function vigilSync(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [VIGIL_BIN, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    input: opts.input,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

export interface VigilProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

/** Starts `vigil ARGS…` and resolves once stdout matches `ready` (default: the start-up banner). */
export async function startVigilProcess(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; ready?: RegExp; timeoutMs?: number } = {},
): Promise<VigilProcess> {
  const child = spawn(process.execPath, [VIGIL_BIN, ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  const ready = opts.ready ?? /vigil ready/;
  // 60 s: a start-up (the geo database, recovering an archive or a queue) took over 30 s on a loaded machine.
  const timeoutMs = opts.timeoutMs ?? 60_000;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left running behind the failed test, taking CPU from the next ones.
      child.kill('SIGKILL');
      reject(new Error(`vigil did not become ready within ${timeoutMs} ms:\n${out}\n${err}`));
    }, timeoutMs);
    const check = () => {
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`vigil exited (${code}) before becoming ready:\n${out}\n${err}`));
    });
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Where a started `vigil run` listens, read from its banner: `grpc` is host:port, `http` the full /v1/logs URL. */
export function listening(v: VigilProcess): { grpc: string; http: string } {
  const out = v.stdout();
  const grpc = /OTLP\/gRPC (\S+)/.exec(out)?.[1];
  const http = /OTLP\/HTTP (\S+)/.exec(out)?.[1];
  return { grpc: grpc ?? '', http: http ?? '' };
}
