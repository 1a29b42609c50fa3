// Fuzz targets for the archive and its verifier.
//   archive.verify-mutated: a real archive, one mutation per case on a copy,
//     the real verifier in-process. Contract: verify never throws; an untouched
//     copy is intact; a copy that differs from the original in any byte of a
//     sealed segment or manifest (or holds a foreign file) is never reported
//     intact, except a manifest whose signed content and signature bytes are
//     unchanged (JSON whitespace, key order, base64 spelling: provably no-ops);
//     nor is one whose open segment lost or changed entries covered by the
//     signed checkpoint of it (appending to it is the unproven window).
//   archive.entry-decode: any bytes into the entry (v1 line and v2 frame),
//     manifest and encrypted-file parsers: they answer or refuse with their own
//     error, never a TypeError / RangeError, and what they answer is well typed.
//   archive.checkpoint-parse: checkpoint texts, valid and altered: valid ones
//     parse back to what was signed and verify; any other text never verifies.
import { generateKeyPairSync } from 'node:crypto';
import { cp, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { type Checkpoint, CHECKPOINT_FILE, CheckpointFormatError, checkCheckpointSignature, parseCheckpoint, signCheckpoint } from '../exporters/worm/checkpoint.js';
import { DecryptionError, ENCRYPTED_MAGIC, parseEncryptedFile } from '../exporters/worm/encryption.js';
import { encodeEntry, GENESIS_HASH, recordPayload } from '../exporters/worm/entry.js';
import { noteOf, recordJsonText, splitEntries, viewEntry } from '../exporters/worm/entries.js';
import { KIND_NOTE, KIND_RECORD, V2_HEADER, encodeFrame } from '../exporters/worm/frame.js';
import { batchToRequest, encodeProtobufRequest } from '../otlp/convert.js';
import { Refusal } from '../pipeline/errors.js';
import { anyValue, millisToNanos, type VigilRecord } from '../pipeline/record.js';
import { keyIdOf, type PublicKeyEntry, type SigningKey } from '../exporters/worm/keys.js';
import { belongsInArchive, parseSegmentFileName } from '../exporters/worm/layout.js';
import { canonicalJson, checkManifest } from '../exporters/worm/manifest.js';
import { buildArchiveFixture, verifyDirectory, type ArchiveFixture } from './archive-fixture.js';
import { applyArchiveMutation, archiveMutation, readBack, type ArchiveMutation } from './archive-mutate.js';
import { mutation, randomBytes } from './arbitraries.js';
import { describeError, Violation, type Outcome } from './contracts.js';
import { applyMutations, type Mutation } from './mutate.js';
import type { FuzzTarget } from './targets.js';

// ---- archive.verify-mutated ---------------------------------------------------------------

/** What a manifest says, signature included, independent of how its JSON is spelled. */
function manifestMeaning(b: Buffer): string | undefined {
  try {
    const o = JSON.parse(b.toString('utf8')) as Record<string, unknown> & { signature?: Record<string, unknown> };
    const sig = o.signature && typeof o.signature === 'object' ? { ...o.signature } : o.signature;
    if (sig && typeof sig.value === 'string') sig.value = Buffer.from(sig.value, 'base64').toString('hex');
    return canonicalJson({ ...o, signature: sig });
  } catch {
    return undefined;
  }
}

/** Why the mutated copy must not verify intact, or undefined when it may. */
function mustBreak(pristine: ReadonlyMap<string, Buffer>, after: ReadonlyMap<string, Buffer | undefined>, m: ArchiveMutation): string | undefined {
  for (const [name, before] of pristine) {
    const kind = parseSegmentFileName(name)?.kind;
    if (kind !== 'sealed' && kind !== 'manifest') continue;
    const now = after.get(name);
    if (now === undefined) return `${name} was deleted`;
    if (now.equals(before)) continue;
    if (kind === 'manifest' && manifestMeaning(now) !== undefined && manifestMeaning(now) === manifestMeaning(before)) continue;
    return `${name} was changed`;
  }
  // The open segment's entries are covered by the signed checkpoint in checkpoint.txt: only appending to them goes unproven.
  const open = [...pristine.keys()].find((n) => parseSegmentFileName(n)?.kind === 'open');
  const cpBefore = pristine.get(CHECKPOINT_FILE);
  if (open && cpBefore && after.get(CHECKPOINT_FILE)?.equals(cpBefore)) {
    const before = pristine.get(open)!;
    const now = after.get(open);
    if (now === undefined) return `${open}, covered by a signed checkpoint, was deleted`;
    if (!now.subarray(0, before.length).equals(before)) return `${open}, covered by a signed checkpoint, was changed`;
  }
  if (m.op === 'plant' && !pristine.has(m.name)) {
    // Links and directories are foreign whatever their name; so is a file under a name Vigil never writes, or a segment it did not seal.
    const kind = parseSegmentFileName(m.name)?.kind;
    if (m.what !== 'file' || !belongsInArchive(m.name, 'directory') || kind === 'sealed' || kind === 'manifest') return `a ${m.what} ${m.name} was planted`;
  }
  return undefined;
}

/** One case: copy, mutate, verify, judge. */
async function checkMutatedArchive(fixture: ArchiveFixture, m: ArchiveMutation, caseNo: number): Promise<Outcome> {
  const dir = join(fixture.scratch, `case-${caseNo}`);
  await cp(fixture.archive, dir, { recursive: true });
  try {
    const did = await applyArchiveMutation(dir, fixture.files, m);
    const why = mustBreak(fixture.files, await readBack(dir, fixture.files.keys()), m);
    let r;
    try {
      r = await verifyDirectory(dir, fixture);
    } catch (err) {
      throw new Violation(`verify threw after "${did}": ${describeError(err)}`);
    }
    const breaks = r.findings.filter((f) => f.severity === 'break');
    if (r.ok !== (breaks.length === 0)) throw new Violation(`verify answered ok=${r.ok} with ${breaks.length} breaks after "${did}"`);
    for (const f of r.findings) {
      if (typeof f.detail !== 'string' || f.detail.length === 0) throw new Violation(`a ${f.kind} finding without a detail after "${did}"`);
    }
    if (m.op === 'none' && !r.ok) throw new Violation(`an untouched copy did not verify: ${breaks.map((f) => `${f.kind}: ${f.detail}`).join('; ')}`);
    if (why && r.ok) throw new Violation(`verify reported the archive intact although ${why} ("${did}")`);
    return r.ok ? 'accepted' : 'refused';
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function verifyMutatedTarget(): FuzzTarget {
  let fixture: Promise<ArchiveFixture> | undefined;
  let cases = 0;
  return {
    name: 'archive.verify-mutated',
    weight: 1,
    async: true,
    arbitrary: archiveMutation,
    check: async (m) => {
      fixture ??= buildArchiveFixture().then(async (f) => (await mkdir(f.scratch, { recursive: true }), f));
      return checkMutatedArchive(await fixture, m as ArchiveMutation, cases++);
    },
    teardown: async () => {
      const f = fixture;
      fixture = undefined;
      if (f) await (await f).cleanup();
    },
    show: (m) => JSON.stringify(m, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)),
  };
}

// ---- archive.entry-decode -----------------------------------------------------------------

/** A few genuine lines (records and a note), chained, as the segment log writes them. */
function genuineLines(): Buffer[] {
  const out: Buffer[] = [];
  let prev = GENESIS_HASH;
  const payloads = [
    recordPayload('{"timeUnixNano":"1772355600000000000","body":{"stringValue":"GET /a HTTP/1.1 200"},"attributes":[{"key":"user.id","value":{"stringValue":"alice"}}]}'),
    recordPayload('{"body":{"stringValue":"é\\u0000\\ud83d\\ude00"}}'),
    Buffer.from('"note":{"type":"recovery","detail":"x"}'),
  ];
  payloads.forEach((p, i) => {
    const e = encodeEntry(i + 1, Date.parse('2026-03-01T09:00:00.000Z') + i, prev, p);
    out.push(e.line);
    prev = e.hash;
  });
  return out;
}

const LINES = genuineLines();

/** The same entries as v2 frames, after the v2 header (a record's payload is its protobuf request). */
function genuineFrames(): Buffer {
  const out: Buffer[] = [V2_HEADER];
  let prev: Buffer = Buffer.alloc(32);
  const rec: VigilRecord = {
    resource: { resource: { attributes: [{ key: 'service.name', value: anyValue('shop') }] }, schemaUrl: '' },
    scope: { scope: { name: 'access' }, schemaUrl: '' },
    log: { timeUnixNano: millisToNanos(Date.parse('2026-03-01T09:00:00.000Z')), body: anyValue('GET /a HTTP/1.1 200'), attributes: [{ key: 'user.id', value: anyValue('alice') }] },
  };
  const payloads: [number, Uint8Array][] = [
    [KIND_RECORD, encodeProtobufRequest(batchToRequest([rec]))],
    [KIND_NOTE, Buffer.from('{"kind":"recovery","truncated_bytes":0,"open_segment_found":true}')],
  ];
  payloads.forEach(([kind, p], i) => {
    const e = encodeFrame(kind as typeof KIND_RECORD, i + 1, Date.parse('2026-03-01T09:00:00.000Z') + i, prev, p);
    out.push(e.frame);
    prev = e.raw;
  });
  return Buffer.concat(out);
}

const FRAMES = genuineFrames();

/** A well-formed (but unsigned) manifest shape, to mutate. */
const MANIFEST_TEXT = JSON.stringify({
  manifest: { version: 1, archive_id: 'a', segment: 1, file: 'segment-000000000001.jsonl.gz', segment_sha256: 'a'.repeat(64), key_id: '0123456789abcdef' },
  signature: { alg: 'Ed25519', key_id: '0123456789abcdef', value: 'AAAA' },
});

const decodeInput: fc.Arbitrary<Uint8Array> = fc.oneof(
  randomBytes,
  fc.tuple(fc.constantFrom(...LINES), fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([l, ms]) => applyMutations(l, ms as Mutation[])),
  fc.tuple(fc.array(fc.constantFrom(...LINES), { maxLength: 4 }), fc.array(mutation, { maxLength: 2 })).map(([ls, ms]) => applyMutations(Buffer.concat(ls), ms as Mutation[])),
  fc.tuple(fc.constant(Buffer.from(MANIFEST_TEXT)), fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([b, ms]) => applyMutations(b, ms as Mutation[])),
  fc.array(mutation, { maxLength: 3 }).map((ms) => applyMutations(FRAMES, ms as Mutation[])),
  fc.tuple(randomBytes, fc.nat({ max: 0xffff })).map(([b, len]) => {
    // v2 frames with lengths honest or not.
    const hdr = Buffer.alloc(4);
    hdr.writeUInt32BE(len % (b.length + 40));
    return Buffer.concat([V2_HEADER, hdr, b]);
  }),
  fc.tuple(randomBytes, fc.nat({ max: 0xffff })).map(([b, len]) => {
    // An encrypted segment's frames: magic, a length-prefixed header, chunks (lengths honest or not).
    const hdr = Buffer.alloc(4);
    hdr.writeUInt32BE(len % (b.length + 8));
    return Buffer.concat([ENCRYPTED_MAGIC, hdr, b]);
  }),
);

function expectOwnError(err: unknown, what: string, ok: (e: unknown) => boolean): void {
  if (err instanceof TypeError || err instanceof RangeError || !ok(err)) throw new Violation(`${what} threw ${describeError(err)}`);
}

export function checkEntryDecode(input: Uint8Array): Outcome {
  const buf = Buffer.from(input);
  let accepted = 0;
  let refused = 0;
  let units;
  try {
    units = [...splitEntries(buf)];
  } catch (err) {
    throw new Violation(`splitEntries threw: ${describeError(err)}`);
  }
  let covered = units[0]?.format === 2 && units[0].start > 0 ? V2_HEADER.length : 0;
  for (const u of units) {
    if (u.start !== covered && u.format === 2) throw new Violation(`splitEntries left bytes ${covered}–${u.start} out`);
    covered = u.end;
    let v;
    try {
      v = viewEntry(u);
    } catch (err) {
      throw new Violation(`viewEntry threw: ${describeError(err)}`);
    }
    if (typeof v === 'string') {
      refused++;
      continue;
    }
    if (!/^[0-9a-f]{64}$/.test(v.hash) || !/^[0-9a-f]{64}$/.test(v.prev)) throw new Violation('viewEntry answered a hash that is not 64 hex digits');
    if (!Number.isSafeInteger(v.seq) || v.seq < 0) throw new Violation(`viewEntry answered seq ${v.seq}`);
    // v1 states its time as text (checked where it is used); v2's is a number viewEntry renders.
    if (v.format === 2 && !Number.isFinite(Date.parse(v.at))) throw new Violation(`viewEntry answered append time ${v.at}`);
    if (v.payload.length > v.entry.length || v.payload.buffer !== v.entry.buffer) throw new Violation('viewEntry answered a payload outside its entry');
    try {
      if (v.kind === 'note') noteOf(v);
      else JSON.parse(recordJsonText(v));
      accepted++;
    } catch (err) {
      // A JSON payload that does not parse (SyntaxError), a protobuf one that does not decode (INVALID_ARGUMENT).
      expectOwnError(err, v.kind === 'note' ? 'noteOf' : 'recordJsonText', (e) => e instanceof SyntaxError || e instanceof Refusal);
      refused++;
    }
  }
  if (buf.length > 0 && covered !== buf.length && units.at(-1)?.format === 2) throw new Violation(`splitEntries stopped at byte ${covered} of ${buf.length}`);
  let checked;
  try {
    checked = checkManifest(buf, new Map<string, PublicKeyEntry>());
  } catch (err) {
    throw new Violation(`checkManifest threw: ${describeError(err)}`);
  }
  if (!checked.problem) throw new Violation('checkManifest accepted a manifest without any public key');
  if (typeof checked.problem.detail !== 'string' || checked.problem.detail.length === 0) throw new Violation('checkManifest answered a problem without a detail');
  try {
    const f = parseEncryptedFile(buf);
    if (f && f.completeBytes + f.tornBytes !== buf.length) throw new Violation(`parseEncryptedFile counted ${f.completeBytes} + ${f.tornBytes} bytes of ${buf.length}`);
  } catch (err) {
    if (err instanceof Violation) throw err;
    expectOwnError(err, 'parseEncryptedFile', (e) => e instanceof DecryptionError);
  }
  return accepted > 0 ? (refused > 0 ? 'partial' : 'accepted') : 'refused';
}

// ---- archive.checkpoint-parse -------------------------------------------------------------

function makeKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { keyId: keyIdOf(publicKey), privateKey, publicKey, publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(), publicKeyPath: '(generated)' };
}

let signers: { known: SigningKey; other: SigningKey; keys: Map<string, PublicKeyEntry> } | undefined;
function checkpointKeys() {
  if (!signers) {
    const known = makeKey();
    signers = { known, other: makeKey(), keys: new Map([[known.keyId, { keyId: known.keyId, key: known.publicKey, source: '(generated)' }]]) };
  }
  return signers;
}

const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));
const checkpointFields: fc.Arbitrary<Omit<Checkpoint, 'key'>> = fc.record({
  archive: fc.stringMatching(/^[A-Za-z0-9._:-]{1,40}$/),
  segment: fc.nat({ max: 999_999_999_999 }),
  state: fc.constantFrom('sealed' as const, 'open' as const),
  entries: fc.nat({ max: Number.MAX_SAFE_INTEGER }).map((n) => n % 1e15),
  records: fc.nat({ max: 1e9 }),
  head: hex64,
  manifest: fc.option(hex64, { nil: undefined }),
  time: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString()),
});

export type CheckpointEdit =
  | { op: 'none'; pad: string }
  | { op: 'char'; at: number; to: string }
  | { op: 'delete'; at: number; len: number }
  | { op: 'insert'; at: number; text: string }
  | { op: 'field'; field: number; value: string }
  | { op: 'other-key' }
  | { op: 'resign-other' };

const checkpointEdit: fc.Arbitrary<CheckpointEdit> = fc.oneof(
  fc.record({ op: fc.constant('none' as const), pad: fc.constantFrom('', ' ', '\n', '\t\r\n ') }),
  { weight: 3, arbitrary: fc.record({ op: fc.constant('char' as const), at: fc.nat(), to: fc.constantFrom('0', '1', 'a', 'f', 'A', '+', '/', '=', ' ', '-', 'z', '\n') }) },
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.string({ minLength: 1, maxLength: 6 }), fc.constantFrom(' ', '0', ' sig=', 'x=1 ')) }),
  { weight: 2, arbitrary: fc.record({ op: fc.constant('field' as const), field: fc.nat(), value: fc.oneof(fc.constantFrom('0', '1', '-', 'open', 'sealed', '999999999999999'), fc.stringMatching(/^[0-9a-f]{1,64}$/)) }) },
  fc.record({ op: fc.constant('other-key' as const) }),
  fc.record({ op: fc.constant('resign-other' as const) }),
);

function editCheckpoint(text: string, e: CheckpointEdit, fields: Omit<Checkpoint, 'key'>): string {
  const n = text.length;
  switch (e.op) {
    case 'none':
      return `${e.pad}${text}${e.pad}`;
    case 'char': {
      const at = e.at % n;
      return text.slice(0, at) + e.to + text.slice(at + 1);
    }
    case 'delete': {
      const at = e.at % n;
      return text.slice(0, at) + text.slice(at + e.len);
    }
    case 'insert': {
      const at = e.at % (n + 1);
      return text.slice(0, at) + e.text + text.slice(at);
    }
    case 'field': {
      const parts = text.split(' ');
      const i = 1 + (e.field % (parts.length - 1));
      const eq = parts[i].indexOf('=');
      parts[i] = `${parts[i].slice(0, eq + 1)}${e.value}`;
      return parts.join(' ');
    }
    case 'other-key':
      // The known key's id on a text signed by another key.
      return signCheckpoint(fields, checkpointKeys().other).text.replace(/key=[0-9a-f]{16}/, `key=${checkpointKeys().known.keyId}`);
    case 'resign-other':
      return signCheckpoint(fields, checkpointKeys().other).text;
  }
}

export function checkCheckpointText([fields, edit]: [Omit<Checkpoint, 'key'>, CheckpointEdit]): Outcome {
  const { known, keys } = checkpointKeys();
  const signed = signCheckpoint(fields, known);
  const text = editCheckpoint(signed.text, edit, fields);
  let cp;
  try {
    cp = parseCheckpoint(text);
  } catch (err) {
    if (edit.op === 'none') throw new Violation(`a valid checkpoint was refused: ${describeError(err)}`);
    expectOwnError(err, 'parseCheckpoint', (e) => e instanceof CheckpointFormatError);
    return 'refused';
  }
  let problem;
  try {
    problem = checkCheckpointSignature(cp, keys);
  } catch (err) {
    throw new Violation(`checkCheckpointSignature threw: ${describeError(err)}`);
  }
  // The text as signed, give or take surrounding whitespace, is the only one that may verify.
  if (text.trim() === signed.text) {
    if (problem) throw new Violation(`a valid checkpoint does not verify: ${problem.kind}: ${problem.detail}`);
    const { text: _t, signature: _s, ...got } = cp;
    const want = { ...fields, key: known.keyId };
    if (JSON.stringify(got, Object.keys(want).sort()) !== JSON.stringify(want, Object.keys(want).sort())) {
      throw new Violation(`a valid checkpoint parsed to other fields: ${JSON.stringify(got)} (signed: ${JSON.stringify(want)})`);
    }
    return 'accepted';
  }
  if (!problem) throw new Violation(`an altered checkpoint verifies: ${JSON.stringify(text)} (signed: ${JSON.stringify(signed.text)})`);
  return 'partial';
}

export function archiveTargets(): FuzzTarget[] {
  return [
    verifyMutatedTarget(),
    {
      name: 'archive.entry-decode',
      weight: 2,
      arbitrary: decodeInput,
      check: (b) => checkEntryDecode(b as Uint8Array),
      show: (b) => `${(b as Uint8Array).length} bytes: ${Buffer.from(b as Uint8Array).toString('hex').slice(0, 2000)}`,
    },
    {
      name: 'archive.checkpoint-parse',
      weight: 1,
      arbitrary: fc.tuple(checkpointFields, checkpointEdit),
      check: (x) => checkCheckpointText(x as [Omit<Checkpoint, 'key'>, CheckpointEdit]),
      show: (x) => JSON.stringify(x),
    },
  ];
}
