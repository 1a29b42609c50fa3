// Shared by the worm tests: records that look like enriched access logs, temp
// archives, an exporter wired with a silent logger, and gzip edits for tampering.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import type { LogBatch, ResourceContext, ScopeContext, VigilRecord } from '../../../src/pipeline/record.js';
import { anyValue, millisToNanos } from '../../../src/pipeline/record.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { Telemetry } from '../../../src/telemetry/metrics.js';
import { wormConfigSchema } from '../../../src/exporters/worm/config.js';
import { WormExporter, type WormExporterOptions } from '../../../src/exporters/worm/worm.js';
import { type SegmentFormat, formatOfName, segmentFileName } from '../../../src/exporters/worm/layout.js';
import { splitEntries, viewEntry, noteOf, recordJsonText } from '../../../src/exporters/worm/entries.js';
import { FRAME_PREFIX, KIND_NOTE, KIND_RECORD, V2_HEADER } from '../../../src/exporters/worm/frame.js';
import { encodeProtobufRequest } from '../../../src/otlp/convert.js';
import { decodeJsonRequest } from '../../../src/otlp/json.js';

/** The worm exporter's `encoding` values, and the entry format each writes. */
export type Encoding = 'proto' | 'json';
export const ENCODINGS: Encoding[] = ['proto', 'json'];
export const formatOf = (e: Encoding): SegmentFormat => (e === 'proto' ? 2 : 1);

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

export function archivePath(dir: string, n: number, kind: Parameters<typeof segmentFileName>[1], format: SegmentFormat = 2): string {
  return join(dir, 'archive', segmentFileName(n, kind, format));
}

/**
 * Rewrites the entries of a sealed segment (decompress, edit, recompress), as an attacker with file
 * access would. Entries are edited as v1 lines; a v2 segment's entries are shown as such lines
 * (`"v":2` in the entry, the record as OTLP JSON) and written back as frames: an untouched line
 * as its original bytes, an edited one re-encoded with the hash it states.
 */
export async function editSealedLines(path: string, edit: (lines: string[]) => string[]): Promise<void> {
  const v1 = formatOfName(path) === 1;
  const content = v1 ? gunzipSync(await readFile(path)) : zstdDecompressSync(await readFile(path));
  const edited = editContent(content, v1 ? 1 : 2, edit);
  await writeFile(path, v1 ? gzipSync(edited) : zstdCompressSync(edited));
}

/** editSealedLines for an open (uncompressed) segment file. */
export async function editOpenLines(path: string, edit: (lines: string[]) => string[]): Promise<void> {
  await writeFile(path, editContent(await readFile(path), formatOfName(path), edit));
}

function editContent(content: Buffer, format: SegmentFormat, edit: (lines: string[]) => string[]): Buffer {
  if (format === 1) {
    const lines = content.toString('utf8').split('\n');
    const last = lines.pop(); // '' after the final newline
    const edited = edit(lines);
    return Buffer.from(edited.join('\n') + (edited.length ? '\n' : '') + (last ?? ''));
  }
  const original = new Map<string, Buffer>();
  const lines: string[] = [];
  for (const u of splitEntries(content)) {
    const v = viewEntry(u);
    if (typeof v === 'string') throw new Error(`editSealedLines: the segment holds a damaged entry (${v})`);
    const payload = v.kind === 'record' ? `"record":${recordJsonText(v)}` : `"note":${JSON.stringify(noteOf(v))}`;
    const line = `{"hash":"${v.hash}","entry":{"v":2,"seq":${v.seq},"at":"${v.at}","prev":"${v.prev}",${payload}}}`;
    original.set(line, u.bytes);
    lines.push(line);
  }
  const edited = edit(lines).map((l) => original.get(l) ?? frameOfLine(l));
  return edited.length ? Buffer.concat([V2_HEADER, ...edited]) : Buffer.alloc(0);
}

/** The v2 body of an entry shown as a line (editSealedLines). */
function v2Body(entry: Record<string, any>): Buffer {
  const kind = entry.record ? KIND_RECORD : KIND_NOTE;
  const payload = entry.record ? Buffer.from(encodeProtobufRequest(decodeJsonRequest(JSON.stringify(entry.record)).request)) : Buffer.from(JSON.stringify(entry.note));
  const head = Buffer.alloc(49);
  head[0] = kind;
  head.writeBigUInt64BE(BigInt(entry.seq), 1);
  head.writeBigUInt64BE(BigInt(Date.parse(entry.at)), 9);
  Buffer.from(entry.prev, 'hex').copy(head, 17);
  return Buffer.concat([head, payload]);
}

function frameOfLine(line: string): Buffer {
  const o = JSON.parse(line) as { hash: string; entry: Record<string, any> };
  const body = v2Body(o.entry);
  const prefix = Buffer.alloc(FRAME_PREFIX);
  prefix.writeUInt32BE(body.length, 0);
  Buffer.from(o.hash, 'hex').copy(prefix, 4);
  return Buffer.concat([prefix, body]);
}

/** An attacker's rewrite of one line: edit the entry object, recompute its hash so the line is self-consistent. */
export function forgeLine(line: string, edit: (entry: Record<string, any>) => void): string {
  const o = JSON.parse(line) as { hash: string; entry: Record<string, any> };
  edit(o.entry);
  const entry = JSON.stringify(o.entry);
  const hashed = o.entry.v === 2 ? v2Body(o.entry) : Buffer.from(entry);
  const hash = createHash('sha256').update(Buffer.of(0)).update(hashed).digest('hex');
  return `{"hash":"${hash}","entry":${entry}}`;
}

/**
 * Polls until `cond` holds, failing after `timeoutMs` (a bounded wait, not a sleep); as a function,
 * `what` is called only on failure, so that the message can say what was observed last.
 */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string | (() => string)): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
