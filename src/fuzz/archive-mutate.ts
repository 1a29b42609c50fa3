// Mutations of an archive directory, what someone with write access to it (or a
// failing disk) could do: flip, cut, insert bytes; delete a file; swap two
// segments; copy one manifest over another; rewrite a record and recompute the
// chain so every entry is self-consistent (v1 lines and v2 frames alike);
// append garbage to the open segment; plant a stray file, directory or link.
// Plain data (fast-check shrinks and replays it); applying one is the only I/O.
import { mkdir, readFile, rename, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import fc from 'fast-check';
import { ENTRY_OFFSET, encodeEntry, splitLines, viewLine } from '../exporters/worm/entry.js';
import { splitEntries, viewEntry } from '../exporters/worm/entries.js';
import { FRAME_PREFIX, KIND_NOTE, KIND_RECORD, V2_HEADER, encodeFrame } from '../exporters/worm/frame.js';
import { formatOfName, parseSegmentFileName, segmentFileName } from '../exporters/worm/layout.js';

export type ArchiveMutation =
  | { op: 'none' }
  | { op: 'flip'; file: number; at: number; bit: number }
  | { op: 'truncate'; file: number; at: number }
  | { op: 'insert'; file: number; at: number; bytes: Uint8Array }
  | { op: 'delete'; file: number }
  | { op: 'swap'; a: number; b: number; manifests: boolean }
  | { op: 'copy-manifest'; from: number; to: number }
  | { op: 'rewrite'; segment: number; line: number; at: number; char: string; rechain: boolean }
  | { op: 'append-open'; bytes: Uint8Array }
  | { op: 'plant'; what: 'file' | 'directory' | 'symlink'; name: string };

const position = fc.nat({ max: 1 << 20 });

/** Names planted: foreign ones, and names Vigil itself could have written. */
const plantName = fc.oneof(
  fc.constantFrom(
    'notes.txt',
    'segment-000000000009.jsonl.gz',
    'segment-000000000002.jsonl',
    '.hidden',
    'segment-000000000001.sealing.json',
    'archive.json.bak',
    'segment-000000000004.jsonl.gz.tmp',
    'segment-000000000009.vlog.zst',
    'segment-000000000002.vlog',
    'segment-000000000004.vlog.zst.tmp',
    // A second data file, under the other format's name, for a sealed segment of each format.
    'segment-000000000001.vlog.zst',
    'segment-000000000003.jsonl.gz',
  ),
  fc.stringMatching(/^[a-z0-9._-]{1,24}$/).filter((n) => n !== '.' && n !== '..'),
);

export const archiveMutation: fc.Arbitrary<ArchiveMutation> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ op: 'none' as const }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('flip' as const), file: fc.nat(), at: position, bit: fc.nat({ max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), file: fc.nat(), at: position }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('insert' as const), file: fc.nat(), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), file: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('swap' as const), a: fc.nat(), b: fc.nat(), manifests: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('copy-manifest' as const), from: fc.nat(), to: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('rewrite' as const),
      segment: fc.nat(),
      line: fc.nat(),
      at: fc.nat(),
      char: fc.constantFrom('0', '9', 'x', ' ', '"', '\\', 'é'),
      rechain: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('append-open' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('plant' as const), what: fc.constantFrom('file' as const, 'directory' as const, 'symlink' as const), name: plantName }) },
);

const pick = <T>(xs: readonly T[], i: number): T | undefined => (xs.length === 0 ? undefined : xs[i % xs.length]);

function kindOf(name: string) {
  return parseSegmentFileName(name)?.kind;
}

/**
 * Rewrites one line's record text and, with `rechain`, recomputes its hash and
 * every later line's prev and hash in the segment: each line is then
 * self-consistent, only the signed manifest (its Merkle root, file hash) can tell.
 */
function rewriteSegment(name: string, stored: Buffer, lineNo: number, at: number, char: string, rechain: boolean): Buffer | undefined {
  if (formatOfName(name) === 2) {
    const out = rewriteFrames(zstdDecompressSync(stored), lineNo, at, char, rechain);
    return out && zstdCompressSync(out);
  }
  const gz = stored;
  const lines = [...splitLines(gunzipSync(gz))].filter((l) => l.complete).map((l) => l.line);
  const views = lines.map(viewLine);
  const i = lineNo % Math.max(1, lines.length);
  const v = views[i];
  if (v === undefined || typeof v === 'string') return undefined;
  const payload = v.entry.subarray(v.payloadOffset, v.entry.length - 1);
  const pos = at % payload.length;
  const edited = Buffer.concat([payload.subarray(0, pos), Buffer.from(char), payload.subarray(pos + 1)]);
  const out: Buffer[] = lines.map((l) => Buffer.concat([l, Buffer.of(0x0a)]));
  let prev = v.prev;
  for (let j = i; j < lines.length; j++) {
    const vj = views[j];
    if (typeof vj === 'string') break;
    const body = j === i ? edited : vj.entry.subarray(vj.payloadOffset, vj.entry.length - 1);
    if (j === i && !rechain) {
      // Only the text changes: the stated hash no longer matches.
      const from = ENTRY_OFFSET + vj.payloadOffset;
      out[i] = Buffer.concat([lines[i].subarray(0, from), edited, lines[i].subarray(from + payload.length), Buffer.of(0x0a)]);
      break;
    }
    const e = encodeEntry(vj.seq, Date.parse(vj.at), prev, body);
    out[j] = e.line;
    prev = e.hash;
  }
  return gzipSync(Buffer.concat(out));
}

/** rewriteSegment for v2 content: one frame's payload byte changed, its hash (and every later link) recomputed or not. */
function rewriteFrames(content: Buffer, entryNo: number, at: number, char: string, rechain: boolean): Buffer | undefined {
  const units = [...splitEntries(content)].filter((u) => u.complete);
  const views = units.map(viewEntry);
  const i = entryNo % Math.max(1, units.length);
  const v = views[i];
  if (v === undefined || typeof v === 'string' || v.payload.length === 0) return undefined;
  const pos = at % v.payload.length;
  const edited = Buffer.concat([v.payload.subarray(0, pos), Buffer.from(char), v.payload.subarray(pos + 1)]);
  const out = units.map((u) => u.bytes);
  if (!rechain) {
    // Only the payload changes (its length too, for a multi-byte char): the stated hash no longer matches.
    const body = Buffer.concat([v.entry.subarray(0, v.entry.length - v.payload.length), edited]);
    const prefix = Buffer.from(units[i].bytes.subarray(0, FRAME_PREFIX));
    prefix.writeUInt32BE(body.length, 0);
    out[i] = Buffer.concat([prefix, body]);
    return Buffer.concat([V2_HEADER, ...out]);
  }
  let prev: Buffer = Buffer.from(v.prev, 'hex');
  for (let j = i; j < units.length; j++) {
    const vj = views[j];
    if (typeof vj === 'string') break;
    const e = encodeFrame(vj.kind === 'record' ? KIND_RECORD : KIND_NOTE, vj.seq, Date.parse(vj.at), prev, j === i ? edited : vj.payload);
    out[j] = e.frame;
    prev = e.raw;
  }
  return Buffer.concat([V2_HEADER, ...out]);
}

/** Applies a mutation to the archive copy `dir` whose pristine files are `files`; returns what it did, for reports. */
export async function applyArchiveMutation(dir: string, files: ReadonlyMap<string, Buffer>, m: ArchiveMutation): Promise<string> {
  const names = [...files.keys()];
  const sealed = names.filter((n) => kindOf(n) === 'sealed');
  const manifests = names.filter((n) => kindOf(n) === 'manifest');
  const open = names.find((n) => kindOf(n) === 'open');
  const at = (n: string) => join(dir, n);
  switch (m.op) {
    case 'none':
      return 'untouched';
    case 'flip': {
      const name = pick(names, m.file)!;
      const b = Buffer.from(files.get(name)!);
      if (b.length === 0) return `flip: ${name} is empty`;
      b[m.at % b.length] ^= 1 << m.bit;
      await writeFile(at(name), b);
      return `flipped bit ${m.bit} of byte ${m.at % b.length} of ${name}`;
    }
    case 'truncate': {
      const name = pick(names, m.file)!;
      const b = files.get(name)!;
      const to = m.at % (b.length + 1);
      await writeFile(at(name), b.subarray(0, to));
      return `truncated ${name} to ${to} of ${b.length} bytes`;
    }
    case 'insert': {
      const name = pick(names, m.file)!;
      const b = files.get(name)!;
      const pos = m.at % (b.length + 1);
      await writeFile(at(name), Buffer.concat([b.subarray(0, pos), m.bytes, b.subarray(pos)]));
      return `inserted ${Buffer.from(m.bytes).toString('hex')} at ${pos} of ${name}`;
    }
    case 'delete': {
      const name = pick(names, m.file)!;
      await unlink(at(name));
      return `deleted ${name}`;
    }
    case 'swap': {
      const a = pick(sealed, m.a)!;
      const b = pick(sealed.filter((n) => n !== a), m.b);
      if (!b) return 'swap: only one segment';
      const pairs: [string, string][] = [[a, b]];
      const manifestOf = (n: string) => segmentFileName(parseSegmentFileName(n)!.segment, 'manifest');
      if (m.manifests) pairs.push([manifestOf(a), manifestOf(b)]);
      for (const [x, y] of pairs) {
        await rename(at(x), at(`${x}.swap`));
        await rename(at(y), at(x));
        await rename(at(`${x}.swap`), at(y));
      }
      return `swapped ${a} and ${b}${m.manifests ? ' with their manifests' : ''}`;
    }
    case 'copy-manifest': {
      const from = pick(manifests, m.from)!;
      const to = pick(manifests.filter((n) => n !== from), m.to);
      if (!to) return 'copy-manifest: only one manifest';
      await writeFile(at(to), files.get(from)!);
      return `copied ${from} over ${to}`;
    }
    case 'rewrite': {
      const name = pick(sealed, m.segment)!;
      const out = rewriteSegment(name, files.get(name)!, m.line, m.at, m.char, m.rechain);
      if (!out) return `rewrite: no line ${m.line} in ${name}`;
      await writeFile(at(name), out);
      return `rewrote line ${m.line} of ${name} (char ${JSON.stringify(m.char)} at ${m.at})${m.rechain ? ', chain recomputed' : ''}`;
    }
    case 'append-open': {
      if (!open) return 'append-open: no open segment';
      await writeFile(at(open), Buffer.concat([files.get(open)!, m.bytes]));
      return `appended ${m.bytes.length} bytes to ${open}`;
    }
    case 'plant': {
      if (files.has(m.name)) return `plant: ${m.name} exists`;
      if (m.what === 'file') await writeFile(at(m.name), 'planted\n');
      else if (m.what === 'directory') await mkdir(at(m.name));
      else await symlink('/etc/hostname', at(m.name));
      return `planted a ${m.what} ${m.name}`;
    }
  }
}

/** The pristine files again, with the copy's current bytes (undefined: deleted), for the oracle. */
export async function readBack(dir: string, names: Iterable<string>): Promise<Map<string, Buffer | undefined>> {
  const out = new Map<string, Buffer | undefined>();
  for (const n of names) out.set(n, await readFile(join(dir, n)).catch(() => undefined));
  return out;
}
