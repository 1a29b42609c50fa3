// Helpers for the examples' tests: reading example files, running an example
// script as a child process, reading Vigil's OTLP JSON lines output.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { expect } from 'vitest';
import { decodeJsonRequest } from '../../src/otlp/json.js';
import { findAttribute, type LogBatch, scalarOf, type Scalar, type VigilRecord } from '../../src/pipeline/record.js';

export const EXAMPLES = join(process.cwd(), 'examples');

export function exampleText(...parts: string[]): string {
  return readFileSync(join(EXAMPLES, ...parts), 'utf8');
}

/** Records of an OTLP JSON lines file (the file exporter's format); [] while it does not exist. */
export function readOtlpJsonLines(path: string): LogBatch {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  // A line being appended is not complete yet: only whole lines count.
  const lines = text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter((l) => l !== '');
  return lines.flatMap((line) => {
    const req = decodeJsonRequest(line).request;
    return req.resourceLogs.flatMap((rl) =>
      rl.scopeLogs.flatMap((sl) =>
        sl.logRecords.map((log) => ({ resource: { resource: rl.resource!, schemaUrl: rl.schemaUrl ?? '' }, scope: { scope: sl.scope ?? {}, schemaUrl: sl.schemaUrl ?? '' }, log })),
      ),
    );
  });
}

/** A record's attributes as a plain object of scalars (arrays as string lists). */
export function attributesOf(rec: VigilRecord): Record<string, Scalar | string[]> {
  const out: Record<string, Scalar | string[]> = {};
  for (const kv of rec.log.attributes) {
    const arr = kv.value?.arrayValue?.values;
    out[kv.key] = arr ? arr.map((v) => String(scalarOf(v))) : scalarOf(kv.value)!;
  }
  return out;
}

export function resourceAttribute(rec: VigilRecord, key: string): Scalar | undefined {
  return scalarOf(findAttribute(rec.resource.resource.attributes ?? [], key));
}

/** The environment of this process without OTEL_* variables (so the runner's own settings never leak into an example). */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OTEL_')) env[k] = v;
  return { ...env, ...extra };
}

export interface ExampleProcess {
  child: ChildProcess;
  /** The service's base URL, from its "listening on" line. */
  url: string;
  output: () => string;
  exited: Promise<number | string>;
}

/** Starts `node examples/<script>` and resolves once it prints where it listens. */
export async function startExample(script: string, env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<ExampleProcess> {
  const child = spawn(process.execPath, [join(EXAMPLES, script)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start listening:\n${out}`)), timeoutMs);
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code}) before listening:\n${out}`));
    });
  });
  return { child, url, output: () => out, exited };
}

/** Resolves with the exit code, or rejects after the deadline (the process is then killed). */
export async function exitWithin(p: { child: ChildProcess; exited: Promise<number | string> }, ms: number, what: string): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      p.child.kill('SIGKILL');
      reject(new Error(`${what} did not exit within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([p.exited, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** An executable on the PATH (or at the path an environment variable names), else undefined. */
export function findExecutable(name: string, envVar?: string): string | undefined {
  const explicit = envVar ? process.env[envVar] : undefined;
  if (explicit) return existsSync(explicit) ? explicit : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

/** The port of a `host:port` endpoint or a URL. */
export function portOf(endpoint: string): number {
  const m = /:(\d+)(\/.*)?$/.exec(endpoint);
  if (!m) throw new Error(`no port in ${endpoint}`);
  return Number(m[1]);
}

/** Parsed YAML or JSON, navigated freely (its shape is what the tests check). */
export type Yaml = Record<string, any>;

/** The Collector rules every pipeline must follow: components it references are defined. */
export function checkCollectorWiring(col: Yaml): void {
  const sections = { receivers: col.receivers, processors: col.processors ?? {}, exporters: col.exporters };
  for (const [pid, p] of Object.entries<Yaml>(col.service.pipelines)) {
    expect(pid).toMatch(/^logs(\/.+)?$/);
    for (const [field, defined] of Object.entries(sections)) {
      for (const id of p[field] ?? []) expect(Object.keys(defined), `${pid}.${field} references ${id}`).toContain(id);
    }
    expect(p.receivers.length, pid).toBeGreaterThan(0);
    expect(p.exporters.length, pid).toBeGreaterThan(0);
  }
  for (const id of col.service.extensions) expect(Object.keys(col.extensions)).toContain(id);
  // Every storage a component names is a defined, enabled extension.
  const storages = JSON.stringify(col).match(/"storage":"[^"]+"/g) ?? [];
  for (const s of storages) expect(col.service.extensions).toContain(s.slice(11, -1));
}
