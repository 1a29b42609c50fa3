// Snapshots of the anomaly state, so that a restarted Vigil keeps its
// baselines. Binary, versioned, self-checking:
//
//   "VGANOMLY"  u32le n  header (JSON, n bytes)
//   per detector:  u32le n  detector header (JSON)  its keys…
//   sha256 of everything before (32 bytes)
//
// The header carries the format, version, byte order and the last event time;
// a detector header its name, kind, fingerprint, cell strides, key count and
// detector-wide state. Keys follow from least to most recently used: u32le key
// length, key (UTF-8), the key's float64 cells, its uint32 cells (as in
// memory). A snapshot that fails its checksum or has another format version is
// reported and ignored; a detector whose fingerprint changed (its kind or state
// layout) starts fresh while the others are restored.
//
// Writing is streamed one detector at a time: the detector's keys and cells
// are copied at once (a memcpy and a walk of its LRU order, so that the copy
// is consistent), then encoded and written in chunks, yielding to the event
// loop in between; the pipeline stalls for one copy at a time, not for the
// whole encoding, and the extra memory is one detector's state. Atomic: temp
// file, fsync, rename, directory fsync.
import { createHash, type Hash } from 'node:crypto';
import type { CompiledDetector } from './scorer.js';
import { writeFileAtomic } from '../../util/durable.js';

const MAGIC = Buffer.from('VGANOMLY', 'latin1');
// v2 (issue 11): per-key episode cells and over-dispersed models; v1 baselines are not comparable.
export const SNAPSHOT_VERSION = 2;
const KEYS_PER_CHUNK = 8192;

interface DetectorHeader {
  name: string;
  kind: string;
  fingerprint: string;
  f64_stride: number;
  u32_stride: number;
  keys: number;
  global: number[];
  /** The population's key-day tail (scorer state). */
  tail: number[];
}

interface Header {
  format: 'vigil-anomaly-snapshot';
  version: number;
  endianness: 'LE' | 'BE';
  written_at: string;
  last_event_time: number;
  detectors: number;
}

export class SnapshotError extends Error {}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function framed(json: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(json), 'utf8');
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32LE(body.length, 0);
  body.copy(out, 4);
  return out;
}

/** The snapshot as a sequence of chunks; each detector is captured (copied) when the sequence reaches it. */
export function* snapshotChunks(detectors: readonly CompiledDetector[], lastEventTime: number, writtenAt = new Date()): Generator<Buffer> {
  const header: Header = {
    format: 'vigil-anomaly-snapshot',
    version: SNAPSHOT_VERSION,
    endianness: LITTLE_ENDIAN ? 'LE' : 'BE',
    written_at: writtenAt.toISOString(),
    last_event_time: lastEventTime,
    detectors: detectors.length,
  };
  yield Buffer.concat([MAGIC, framed(header)]);
  for (const c of detectors) {
    // The consistent copy: keys in LRU order with their slots, and the cells they point at.
    const t = c.table;
    const { keys, slots: slotList } = t.orderOldestFirst();
    const f64 = t.f64.slice();
    const u32 = t.u32.slice();
    const global = c.detector.saveGlobal();
    const h: DetectorHeader = {
      name: c.name,
      kind: c.detector.kind,
      fingerprint: c.detector.fingerprint,
      f64_stride: t.f64Stride,
      u32_stride: t.u32Stride,
      keys: keys.length,
      global,
      tail: c.tail.save(),
    };
    yield framed(h);
    const fLen = t.f64Stride * 8;
    const uLen = t.u32Stride * 4;
    const f64Bytes = new Uint8Array(f64.buffer);
    const u32Bytes = new Uint8Array(u32.buffer);
    for (let start = 0; start < keys.length; start += KEYS_PER_CHUNK) {
      const end = Math.min(keys.length, start + KEYS_PER_CHUNK);
      let size = 0;
      for (let i = start; i < end; i++) size += 4 + Buffer.byteLength(keys[i], 'utf8') + fLen + uLen;
      const out = Buffer.allocUnsafe(size);
      let p = 0;
      for (let i = start; i < end; i++) {
        const len = out.write(keys[i], p + 4, 'utf8');
        out.writeUInt32LE(len, p);
        p += 4 + len;
        const slot = slotList[i];
        out.set(f64Bytes.subarray(slot * fLen, (slot + 1) * fLen), p);
        p += fLen;
        if (uLen > 0) out.set(u32Bytes.subarray(slot * uLen, (slot + 1) * uLen), p);
        p += uLen;
      }
      yield out;
    }
  }
}

/** The whole snapshot in memory (tests, small states). */
export function encodeSnapshot(detectors: readonly CompiledDetector[], lastEventTime: number, writtenAt = new Date()): Buffer {
  const chunks = [...snapshotChunks(detectors, lastEventTime, writtenAt)];
  const hash = createHash('sha256');
  for (const c of chunks) hash.update(c);
  chunks.push(hash.digest());
  return Buffer.concat(chunks);
}

/**
 * Streams a snapshot to `path` atomically (temp file, fsync, rename, directory
 * fsync): a crash leaves the previous snapshot or the new one, never a mix.
 * Returns the bytes written.
 */
export async function writeSnapshot(path: string, detectors: readonly CompiledDetector[], lastEventTime: number): Promise<number> {
  return writeFileAtomic(path, async (write) => {
    const hash = createHash('sha256');
    let n = 0;
    for (const chunk of snapshotChunks(detectors, lastEventTime)) {
      hash.update(chunk);
      await write(chunk);
      n += chunk.length;
    }
    const digest = (hash as Hash).digest();
    await write(digest);
    return n + digest.length;
  });
}

export interface RestoreResult {
  lastEventTime: number;
  restored: { name: string; keys: number }[];
  skipped: { name: string; reason: string }[];
}

function readFramed<T>(body: Buffer, p: number, what: string): { value: T; next: number } {
  if (p + 4 > body.length) throw new SnapshotError(`${what} overruns the file`);
  const n = body.readUInt32LE(p);
  if (p + 4 + n > body.length) throw new SnapshotError(`${what} overruns the file`);
  try {
    return { value: JSON.parse(body.toString('utf8', p + 4, p + 4 + n)) as T, next: p + 4 + n };
  } catch {
    throw new SnapshotError(`unreadable ${what}`);
  }
}

/** Checks a snapshot and loads it into the detectors (which must be empty). Throws SnapshotError when it is unusable as a whole. */
export function restoreSnapshot(buf: Buffer, detectors: readonly CompiledDetector[]): RestoreResult {
  if (buf.length < MAGIC.length + 4 + 32 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new SnapshotError('not a Vigil anomaly snapshot');
  const body = buf.subarray(0, buf.length - 32);
  if (!createHash('sha256').update(body).digest().equals(buf.subarray(buf.length - 32))) throw new SnapshotError('checksum mismatch (truncated or corrupted)');
  const { value: header, next } = readFramed<Header>(body, MAGIC.length, 'header');
  if (header.format === 'vigil-anomaly-snapshot' && header.version === 1) {
    throw new SnapshotError(
      'snapshot v1 was written by an older Vigil whose baselines this one cannot use (alert budget, episodes, new models); baselines start fresh: warm them with `vigil replay` of recent logs',
    );
  }
  if (header.format !== 'vigil-anomaly-snapshot' || header.version !== SNAPSHOT_VERSION) {
    throw new SnapshotError(`incompatible snapshot format ${String(header.format)} v${String(header.version)} (this Vigil reads v${SNAPSHOT_VERSION})`);
  }
  if (header.endianness !== (LITTLE_ENDIAN ? 'LE' : 'BE')) throw new SnapshotError(`written on a ${header.endianness} machine`);

  // Validate the whole layout before touching any state.
  let p = next;
  const blocks: { h: DetectorHeader; start: number }[] = [];
  for (let d = 0; d < header.detectors; d++) {
    const r = readFramed<DetectorHeader>(body, p, `detector header ${d}`);
    const h = r.value;
    p = r.next;
    const start = p;
    const cells = h.f64_stride * 8 + h.u32_stride * 4;
    for (let i = 0; i < h.keys; i++) {
      if (p + 4 > body.length) throw new SnapshotError(`detector ${h.name}: key ${i} overruns the file`);
      p += 4 + body.readUInt32LE(p) + cells;
      if (p > body.length) throw new SnapshotError(`detector ${h.name}: key ${i} overruns the file`);
    }
    blocks.push({ h, start });
  }
  if (p !== body.length) throw new SnapshotError('trailing bytes after the last detector');

  const result: RestoreResult = { lastEventTime: Number(header.last_event_time) || 0, restored: [], skipped: [] };
  for (const { h, start } of blocks) {
    const c = detectors.find((d) => d.name === h.name);
    if (!c) {
      result.skipped.push({ name: h.name, reason: 'no longer configured' });
      continue;
    }
    const t = c.table;
    if (h.fingerprint !== c.detector.fingerprint || h.f64_stride !== t.f64Stride || h.u32_stride !== t.u32Stride) {
      result.skipped.push({ name: h.name, reason: `its definition changed (${h.fingerprint} → ${c.detector.fingerprint}); it starts fresh` });
      continue;
    }
    let q = start;
    const fLen = t.f64Stride * 8;
    const uLen = t.u32Stride * 4;
    // Byte views of the slabs, renewed when adding a key grew them; cells copied byte by byte, not
    // through two typed-array views per key (a large state has hundreds of thousands of keys).
    let f64Slab = t.f64;
    let f64Bytes = new Uint8Array(f64Slab.buffer, f64Slab.byteOffset, f64Slab.byteLength);
    let u32Slab = t.u32;
    let u32Bytes = new Uint8Array(u32Slab.buffer, u32Slab.byteOffset, u32Slab.byteLength);
    for (let i = 0; i < h.keys; i++) {
      const len = body.readUInt32LE(q);
      q += 4;
      const key = body.toString('utf8', q, q + len);
      q += len;
      // A key twice (only a forged or broken file has one) would take two slots, and the table's LRU order would loop.
      if (t.find(key) >= 0) throw new SnapshotError(`detector ${h.name}: key ${JSON.stringify(key.slice(0, 80))} appears twice`);
      const slot = t.add(key);
      if (t.f64 !== f64Slab) {
        f64Slab = t.f64;
        f64Bytes = new Uint8Array(f64Slab.buffer, f64Slab.byteOffset, f64Slab.byteLength);
      }
      if (t.u32 !== u32Slab) {
        u32Slab = t.u32;
        u32Bytes = new Uint8Array(u32Slab.buffer, u32Slab.byteOffset, u32Slab.byteLength);
      }
      for (let k = 0, o = slot * fLen; k < fLen; k++) f64Bytes[o + k] = body[q + k];
      q += fLen;
      for (let k = 0, o = slot * uLen; k < uLen; k++) u32Bytes[o + k] = body[q + k];
      q += uLen;
    }
    t.evictions = 0;
    c.detector.loadGlobal(Array.isArray(h.global) ? h.global.map(Number) : []);
    c.tail.load(Array.isArray(h.tail) ? h.tail.map(Number) : []);
    result.restored.push({ name: h.name, keys: t.size });
  }
  for (const c of detectors) {
    if (!blocks.some((b) => b.h.name === c.name)) result.skipped.push({ name: c.name, reason: 'not in the snapshot (new detector)' });
  }
  return result;
}

