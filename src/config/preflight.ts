// Before anything starts (no key generated, no port bound): every directory a
// used component will write to can be created and written. A failure names the
// config key and the fix, instead of an ENOTDIR from deep inside a component.
import { closeSync, existsSync, mkdirSync, openSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { VigilConfig } from './load.js';
import { type ConfigIssue, joinPath } from './errors.js';

export interface WritableDir {
  /** Config key path, e.g. `exporters.worm.directory`. */
  key: string;
  dir: string;
  /** False when the component must find the directory in place (file_storage's create_directory: false). */
  create: boolean;
}

/** The ids of the components the service will build: those in a pipeline, and service.extensions. */
function usedIds(config: VigilConfig): Record<'receivers' | 'processors' | 'exporters' | 'extensions', Set<string>> {
  const p = config.service.pipelines;
  return {
    receivers: new Set(p.flatMap((x) => x.receivers)),
    processors: new Set(p.flatMap((x) => x.processors)),
    exporters: new Set(p.flatMap((x) => x.exporters)),
    extensions: new Set(config.service.extensions),
  };
}

/**
 * The directories used components write to, read from their validated config:
 * every `directory` key, the folder of the file exporter's `path`, and the folder
 * of a signing `key_file` that does not exist yet and will be generated there.
 */
export function writableDirs(config: VigilConfig): WritableDir[] {
  const out: WritableDir[] = [];
  const used = usedIds(config);
  for (const section of ['receivers', 'processors', 'exporters', 'extensions'] as const) {
    for (const [id, c] of config[section]) {
      if (!used[section].has(id)) continue;
      const walk = (v: unknown, path: string, depth: number): void => {
        if (!v || typeof v !== 'object' || Array.isArray(v) || depth > 8) return;
        for (const [k, e] of Object.entries(v)) {
          const key = joinPath(path, k);
          if (typeof e !== 'string' || e === '') walk(e, key, depth + 1);
          else if (k === 'directory') out.push({ key, dir: e, create: (v as { create_directory?: unknown }).create_directory !== false });
          else if (k === 'path' && c.factory.type === 'file' && path === joinPath(section, id)) out.push({ key, dir: dirname(e), create: true });
          else if (k === 'key_file' && path.endsWith('.signing') && (v as { generate?: unknown }).generate !== false && !existsSync(e)) {
            out.push({ key, dir: dirname(e), create: true });
          }
        }
      };
      walk(c.config, joinPath(section, id), 0);
    }
  }
  return out;
}

const WHY: Record<string, string> = {
  ENOTDIR: 'a part of the path is a file, not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  EEXIST: 'a file is in the way',
};

/** Creates each directory (as the component would) and writes a probe file in it; one issue per failure. */
export function checkWritableDirs(dirs: readonly WritableDir[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const { key, dir, create } of dirs) {
    const abs = resolve(dir);
    try {
      if (create) mkdirSync(abs, { recursive: true });
      else if (!existsSync(abs)) {
        issues.push({ path: key, message: `${abs} does not exist and create_directory is false: create it, or set create_directory: true` });
        continue;
      }
      const probe = join(abs, `.vigil-write-check-${process.pid}`);
      closeSync(openSync(probe, 'wx'));
      unlinkSync(probe);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = (e.code && WHY[e.code]) ?? e.message;
      issues.push({ path: key, message: `cannot write to ${abs} (${why}${e.code ? `, ${e.code}` : ''}): set ${key} to a writable directory, or give the user running Vigil write access to it` });
    }
  }
  return issues;
}

export class StartupError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(`cannot start:\n${issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n')}`);
    this.name = 'StartupError';
  }
}

/** Throws a StartupError naming every directory that cannot be written. */
export function preflight(config: VigilConfig): void {
  const issues = checkWritableDirs(writableDirs(config));
  if (issues.length > 0) throw new StartupError(issues);
}
