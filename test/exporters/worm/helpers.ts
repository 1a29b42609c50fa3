// Shared by the worm tests: records that look like enriched access logs, temp
// archives, an exporter wired with a silent logger, and gzip edits for tampering.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { LogBatch, ResourceContext, ScopeContext, VigilRecord } from '../../../src/pipeline/record.js';
import { anyValue, millisToNanos } from '../../../src/pipeline/record.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { Telemetry } from '../../../src/telemetry/metrics.js';
import { wormConfigSchema } from '../../../src/exporters/worm/config.js';
import { WormExporter, type WormExporterOptions } from '../../../src/exporters/worm/worm.js';
import { segmentFileName } from '../../../src/exporters/worm/layout.js';

export const T0 = Date.parse('2026-03-01T09:00:00.000Z');

export function makeBatch(n: number, opts: { start?: number; user?: string; time?: number } = {}): LogBatch {
  const resource: ResourceContext = {
    resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] },
    schemaUrl: '',
  };
  const scope: ScopeContext = { scope: { name: 'access', version: '1' }, schemaUrl: '' };
  const start = opts.start ?? 0;
  const out: VigilRecord[] = [];
  for (let i = 0; i < n; i++) {
    const k = start + i;
    const t = (opts.time ?? T0) + k * 1000;
    out.push({
      resource,
      scope,
      log: {
        timeUnixNano: millisToNanos(t),
        observedTimeUnixNano: millisToNanos(t + 5),
        severityNumber: 9,
        severityText: 'INFO',
        body: { stringValue: `GET /items/${k} HTTP/1.1 200` },
        attributes: [
          { key: 'audit.record_id', value: anyValue(`rid-${k}`) },
          { key: 'user.id', value: anyValue(opts.user ?? (k % 2 === 0 ? 'alice' : 'bob')) },
          { key: 'http.response.status_code', value: anyValue(200) },
          { key: 'url.path', value: anyValue(`/items/${k}`) },
        ],
      },
    });
  }
  return out;
}

export async function tempDir(prefix = 'vigil-worm-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function wormConfig(dir: string, extra: Record<string, unknown> = {}) {
  return wormConfigSchema.parse({
    directory: join(dir, 'archive'),
    signing: { key_file: join(dir, 'keys', 'archive.key') },
    ...extra,
  });
}

export function newExporter(dir: string, extra: Record<string, unknown> = {}, options: WormExporterOptions = { timers: false }, telemetry?: Telemetry): WormExporter {
  return new WormExporter('worm', wormConfig(dir, extra), telemetry ?? new Telemetry({ processMetrics: false }), silentLogger(), options);
}

/** A clock tests move by hand. */
export function manualClock(start = T0): { now: () => number; advance: (ms: number) => void; set: (t: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms), set: (v) => (t = v) };
}

export function archivePath(dir: string, n: number, kind: Parameters<typeof segmentFileName>[1]): string {
  return join(dir, 'archive', segmentFileName(n, kind));
}

/** Rewrites the lines of a sealed segment (decompress, edit, recompress), as an attacker with file access would. */
export async function editSealedLines(path: string, edit: (lines: string[]) => string[]): Promise<void> {
  const text = gunzipSync(await readFile(path)).toString('utf8');
  const lines = text.split('\n');
  const last = lines.pop(); // '' after the final newline
  const edited = edit(lines);
  await writeFile(path, gzipSync(Buffer.from(edited.join('\n') + (edited.length ? '\n' : '') + (last ?? ''))));
}

/** An attacker's rewrite of one line: edit the entry object, recompute its hash so the line is self-consistent. */
export function forgeLine(line: string, edit: (entry: Record<string, any>) => void): string {
  const o = JSON.parse(line) as { hash: string; entry: Record<string, any> };
  edit(o.entry);
  const entry = JSON.stringify(o.entry);
  const hash = createHash('sha256').update(Buffer.of(0)).update(entry).digest('hex');
  return `{"hash":"${hash}","entry":${entry}}`;
}

/** Polls until `cond` holds, failing after `timeoutMs` (a bounded wait, not a sleep). */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
