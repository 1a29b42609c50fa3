// `vigil query`: the records of an archive that match a time window and
// attribute filters, as OTLP JSON (one ExportLogsServiceRequest per record:
// byte for byte as archived in a v1 segment, rendered from the protobuf bytes
// of a v2 one). Segments whose signed time range lies outside the window are
// not read at all (time-window.ts: which time, the bounds).
import { entryHash } from './entry.js';
import { recordJsonText, splitEntries, viewEntry } from './entries.js';
import { groupListing } from './layout.js';
import { type ArchiveSource, readManifests, readSegmentContent } from './source.js';
import { ShreddedKeyError } from './encryption.js';
import { inWindow, jsonRecordTime, segmentOutside, type TimeWindow } from './time-window.js';

export type PredicateOp = '=' | '!=' | '~';

export interface Predicate {
  key: string;
  op: PredicateOp;
  value: string;
  regex?: RegExp;
}

/** `user.id=alice`, `http.response.status_code!=200`, `url.path~^/admin`. */
export function parsePredicate(s: string): Predicate {
  const m = /^([^=!~\s][^=!~]*?)(!=|=|~)(.*)$/.exec(s);
  if (!m) throw new Error(`--where ${s}: expected attr=value, attr!=value or attr~regex (e.g. user.id=alice)`);
  const p: Predicate = { key: m[1].trim(), op: m[2] as PredicateOp, value: m[3] };
  if (p.op === '~') {
    try {
      p.regex = new RegExp(p.value);
    } catch (err) {
      throw new Error(`--where ${s}: invalid regular expression (${(err as Error).message})`);
    }
  }
  return p;
}

interface JsonKv {
  key: string;
  value?: Record<string, unknown> | null;
}

export type JsonRecordLike = JsonRecord;

interface JsonRecord {
  resourceLogs?: { resource?: { attributes?: JsonKv[] }; scopeLogs?: { scope?: { attributes?: JsonKv[] }; logRecords?: Record<string, unknown>[] }[] }[];
}

/** The scalar of an OTLP/JSON AnyValue as text (ints come as strings already). */
function scalarText(v: Record<string, unknown> | null | undefined): string | undefined {
  if (!v) return undefined;
  for (const k of ['stringValue', 'intValue', 'doubleValue', 'boolValue']) if (k in v) return String(v[k]);
  return undefined;
}

/** An attribute's value: the log record's own attributes first, then the resource's, then the scope's; `body` is the body. */
export function attributeText(rec: JsonRecord, key: string): string | undefined {
  const rl = rec.resourceLogs?.[0];
  const sl = rl?.scopeLogs?.[0];
  const log = sl?.logRecords?.[0];
  if (key === 'body') return scalarText(log?.body as Record<string, unknown> | undefined);
  for (const attrs of [log?.attributes as JsonKv[] | undefined, rl?.resource?.attributes, sl?.scope?.attributes]) {
    const kv = attrs?.find((a) => a.key === key);
    if (kv) return scalarText(kv.value);
  }
  return undefined;
}

export function matches(rec: JsonRecord, preds: readonly Predicate[]): boolean {
  for (const p of preds) {
    const v = attributeText(rec, p.key);
    if (p.op === '=' && v !== p.value) return false;
    if (p.op === '!=' && v === p.value) return false;
    if (p.op === '~' && (v === undefined || !p.regex!.test(v))) return false;
  }
  return true;
}

export interface QueryOptions extends TimeWindow {
  where?: readonly Predicate[];
  limit?: number | undefined;
  /** Include records of the open (unsealed) segment (default true). */
  unsealed?: boolean;
  onProgress?: ((p: { segmentsDone: number; segmentsTotal: number; bytes: number; totalBytes: number; records: number }) => void) | undefined;
}

export interface QueryHit {
  segment: number;
  index: number;
  sealed: boolean;
  /** The record's OTLP JSON (exactly as archived in v1 segments). */
  json: string;
  time: number;
  /** When the archive appended it (ms). */
  archivedAt: number;
}

export interface QueryStats {
  scanned: number;
  matched: number;
  segmentsRead: number;
  segmentsSkipped: number;
  /** Lines whose content no longer matches their hash: left out, named here. */
  damaged: { segment: number; index: number }[];
}

export async function* queryArchive(source: ArchiveSource, opts: QueryOptions, stats: QueryStats): AsyncGenerator<QueryHit> {
  const groups = groupListing(await source.list());
  const manifests = await readManifests(source, groups);
  const preds = opts.where ?? [];
  // Fast byte prefilter: an `=` predicate's value must appear in the entry (v1: as JSON text;
  // v2: as the raw UTF-8 of a string value, so only values that cannot be numbers, NaN, ±Infinity or booleans).
  const eq = preds.filter((p) => p.op === '=');
  const needles = { 1: eq.map((p) => Buffer.from(JSON.stringify(p.value).slice(1, -1))), 2: eq.filter((p) => !/^(-?[\d.eE+-]+|NaN|-?Infinity|true|false|)$/.test(p.value)).map((p) => Buffer.from(p.value)) };
  let done = 0;
  let bytes = 0;
  const totalBytes = groups.reduce((a, g) => a + (g.sizes.sealed ?? g.sizes.open ?? 0), 0);
  for (const g of groups) {
    if (!g.sealed && !g.open) continue;
    const m = manifests.get(g.segment)?.manifest;
    if (!g.sealed && opts.unsealed === false) continue;
    if (m && g.sealed && segmentOutside(m, opts)) {
      stats.segmentsSkipped++;
      continue;
    }
    let read;
    try {
      read = await readSegmentContent(source, g);
    } catch (err) {
      // Crypto-shredded: its records were erased on purpose (shred.ts); there is nothing to search.
      if (err instanceof ShreddedKeyError) {
        stats.segmentsSkipped++;
        continue;
      }
      throw err;
    }
    const { content, sealed, stored } = read;
    stats.segmentsRead++;
    bytes += stored;
    let index = -1;
    for (const u of splitEntries(content)) {
      index++;
      if (!u.complete) break;
      const need = needles[u.format];
      if (need.length > 0 && !need.every((n) => u.bytes.includes(n))) continue;
      const v = viewEntry(u);
      if (typeof v === 'string' || v.kind !== 'record') continue;
      stats.scanned++;
      if (entryHash(v.entry).toString('hex') !== v.hash) {
        stats.damaged.push({ segment: g.segment, index });
        continue;
      }
      let json: string;
      try {
        json = recordJsonText(v);
      } catch {
        stats.damaged.push({ segment: g.segment, index }); // hash-valid but unreadable: only a forged entry can be
        continue;
      }
      const rec = JSON.parse(json) as JsonRecord;
      const t = jsonRecordTime(rec, v.at);
      if (!inWindow(t, opts)) continue;
      if (!matches(rec, preds)) continue;
      stats.matched++;
      yield { segment: g.segment, index, sealed, json, time: t, archivedAt: Date.parse(v.at) };
      if (opts.limit !== undefined && stats.matched >= opts.limit) return;
    }
    done++;
    opts.onProgress?.({ segmentsDone: done, segmentsTotal: groups.length, bytes, totalBytes, records: stats.scanned });
  }
}
