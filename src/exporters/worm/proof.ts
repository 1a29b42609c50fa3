// Inclusion proofs: one record, its Merkle audit path (RFC 9162) and the signed
// manifest of its segment. With the archive's public key an auditor checks it
// offline, without the rest of the archive: the entry (a v1 line or a v2 frame) hashes to the entry hash,
// the path leads from it to the signed Merkle root, the signature holds.
import { entryHash } from './entry.js';
import { type EntryUnit, type EntryView, recordJsonText, splitEntries, viewEntry } from './entries.js';
import { groupListing } from './layout.js';
import { type Manifest, checkManifest, type SignedManifest } from './manifest.js';
import type { PublicKeyEntry } from './keys.js';
import { inclusionPath, rootFromLeafHashes, verifyInclusion } from './merkle.js';
import { type ArchiveSource, readSegmentContent } from './source.js';

export const PROOF_FORMAT = 'vigil-inclusion-proof/1';

export interface InclusionProof {
  format: typeof PROOF_FORMAT;
  archive: string;
  archive_id: string;
  segment: number;
  /** 0-based position of the entry in its segment: the Merkle leaf index. */
  index: number;
  seq: number;
  tree_size: number;
  entry_hash: string;
  /** Sibling hashes from the leaf up to the root (RFC 9162 section 2.1.3). */
  audit_path: string[];
  /** A v1 entry: the archived line, byte for byte (without its newline). */
  line?: string;
  /** A v2 entry: the archived frame (length, hash, body), byte for byte, in base64. */
  frame?: string;
  /** The signed manifest of the segment, as stored. */
  signed_manifest: SignedManifest;
  /** The record as OTLP JSON, for reading (verify-proof checks it equals the line's). */
  record: unknown;
}

export class ProofError extends Error {}

/** `segment:index` (e.g. 3:17) or an audit.record_id. */
export type Locator = { segment: number; index: number } | { recordId: string };

export function parseLocator(s: string): Locator {
  const m = /^(\d+):(\d+)$/.exec(s.trim());
  return m ? { segment: Number(m[1]), index: Number(m[2]) } : { recordId: s };
}

/** The exact bytes the record id has in an archived line, for a fast byte search before parsing. */
function recordIdNeedle(id: string): Buffer {
  return Buffer.from(`{"key":"audit.record_id","value":{"stringValue":${JSON.stringify(id)}}}`);
}

function recordAttributes(record: unknown): { key: string; value?: { stringValue?: string } }[] {
  const r = record as { resourceLogs?: { scopeLogs?: { logRecords?: { attributes?: { key: string }[] }[] }[] }[] };
  return (r?.resourceLogs?.[0]?.scopeLogs?.[0]?.logRecords?.[0]?.attributes ?? []) as { key: string; value?: { stringValue?: string } }[];
}

export async function buildProof(source: ArchiveSource, locator: Locator): Promise<{ proof: InclusionProof; otherMatches: string[] }> {
  const groups = groupListing(await source.list());
  let found: { segment: number; index: number; units: EntryUnit[] } | undefined;
  const otherMatches: string[] = [];
  if ('segment' in locator) {
    const g = groups.find((x) => x.segment === locator.segment);
    if (!g) throw new ProofError(`segment ${locator.segment} is not in ${source.location}`);
    if (!g.manifest) throw new ProofError(`segment ${locator.segment} is not sealed yet: a record can be proven once its segment is sealed`);
    const { content } = await readSegmentContent(source, g);
    const units = [...splitEntries(content)].filter((u) => u.complete);
    if (locator.index >= units.length) throw new ProofError(`segment ${locator.segment} has ${units.length} entries; index ${locator.index} is out of range (0-based)`);
    found = { segment: g.segment, index: locator.index, units };
  } else {
    const needles = { 1: recordIdNeedle(locator.recordId), 2: Buffer.from(locator.recordId) };
    for (const g of groups) {
      if (!g.sealed && !g.open) continue;
      const { content, sealed } = await readSegmentContent(source, g);
      const units = [...splitEntries(content)].filter((u) => u.complete);
      for (const [index, u] of units.entries()) {
        if (!u.bytes.includes(needles[u.format])) continue;
        const v = viewEntry(u);
        if (typeof v === 'string' || v.kind !== 'record') continue;
        let rec: unknown;
        try {
          rec = JSON.parse(recordJsonText(v));
        } catch {
          continue; // unreadable: verify names it
        }
        if (!recordAttributes(rec).some((a) => a.key === 'audit.record_id' && a.value?.stringValue === locator.recordId)) continue;
        if (!sealed || !g.manifest) otherMatches.push(`${g.segment}:${index} (unsealed)`);
        else if (found) otherMatches.push(`${g.segment}:${index}`);
        else found = { segment: g.segment, index, units };
      }
    }
    if (!found) {
      const unsealed = otherMatches.find((m) => m.endsWith('(unsealed)'));
      if (unsealed) throw new ProofError(`record ${locator.recordId} is in the open segment (${unsealed}): it can be proven once the segment is sealed`);
      throw new ProofError(`no record with audit.record_id ${locator.recordId} in ${source.location} (records archived without the audit processor can be named by position, e.g. 3:17)`);
    }
  }
  const g = groups.find((x) => x.segment === found!.segment)!;
  const signedBytes = await source.read(g.manifest!);
  const signed = JSON.parse(signedBytes.toString('utf8')) as SignedManifest;
  const m = signed.manifest;
  const views = found.units.map((u) => viewEntry(u));
  const leaves: Buffer[] = [];
  for (const [i, v] of views.entries()) {
    if (typeof v === 'string') throw new ProofError(`segment ${g.segment} entry ${i} is damaged (${v}): run vigil verify`);
    leaves.push(entryHash(v.entry));
  }
  if (leaves.length !== m.entries || rootFromLeafHashes(leaves).toString('hex') !== m.merkle_root) {
    throw new ProofError(`segment ${g.segment} does not match its signed manifest: run \`vigil verify ${source.location}\``);
  }
  const v = views[found.index] as EntryView;
  const unit = found.units[found.index];
  const proof: InclusionProof = {
    format: PROOF_FORMAT,
    archive: source.location,
    archive_id: m.archive_id,
    segment: g.segment,
    index: found.index,
    seq: v.seq,
    tree_size: m.entries,
    entry_hash: v.hash,
    audit_path: inclusionPath(found.index, leaves).map((b) => b.toString('hex')),
    ...(unit.format === 1 ? { line: unit.bytes.toString('utf8') } : { frame: unit.bytes.toString('base64') }),
    signed_manifest: signed,
    record: v.kind === 'record' ? JSON.parse(recordJsonText(v)) : null,
  };
  return { proof, otherMatches };
}

export interface ProofCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface ProofVerdict {
  ok: boolean;
  checks: ProofCheck[];
  manifest: Manifest | undefined;
}

/** Checks a proof offline against the given public keys. */
export function verifyProof(input: unknown, keys: ReadonlyMap<string, PublicKeyEntry>): ProofVerdict {
  const checks: ProofCheck[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const p = input as Partial<InclusionProof>;
  if (!p || p.format !== PROOF_FORMAT || (typeof p.line !== 'string') === (typeof p.frame !== 'string') || !Array.isArray(p.audit_path) || !p.signed_manifest) {
    check('format', false, `not a ${PROOF_FORMAT} document (needs format, line or frame, audit_path, signed_manifest)`);
    return { ok: false, checks, manifest: undefined };
  }
  // 1. The line (v1) or frame (v2) is a well-formed entry whose content hashes to the stated entry hash.
  const bytes = typeof p.line === 'string' ? Buffer.from(p.line, 'utf8') : Buffer.from(p.frame!, 'base64');
  const v = viewEntry({ format: typeof p.line === 'string' ? 1 : 2, bytes, start: 0, end: bytes.length, complete: true });
  let leaf: Buffer | undefined;
  if (typeof v === 'string') check('entry hash', false, `the ${typeof p.line === 'string' ? 'line' : 'frame'} is not an archive entry: ${v}`);
  else {
    const h = entryHash(v.entry);
    const ok = h.toString('hex') === v.hash && v.hash === p.entry_hash;
    check('entry hash', ok, ok ? `SHA-256(0x00 || entry) is ${v.hash}` : 'the entry does not hash to the hash the proof states: the record was modified');
    if (ok) leaf = h;
  }
  // 2. The manifest is signed by a known key.
  const checked = checkManifest(Buffer.from(JSON.stringify(p.signed_manifest)), keys);
  const m = checked.manifest;
  check('manifest signature', !checked.problem, checked.problem ? `${checked.problem.kind}: ${checked.problem.detail}` : `Ed25519 signature by key ${m!.key_id} (${keys.get(m!.key_id)!.source})`);
  // 3. The leaf sits where the proof says, and the path leads to the signed root.
  if (m && typeof v !== 'string') {
    const posOk = p.segment === m.segment && p.tree_size === m.entries && p.index !== undefined && v.seq === m.first_seq + p.index && p.seq === v.seq;
    check('position', posOk, posOk ? `segment ${m.segment}, entry ${p.index} of ${m.entries} (seq ${v.seq})` : 'segment, index, seq or tree size disagree with the signed manifest');
    const pathOk =
      leaf !== undefined &&
      p.audit_path.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h)) &&
      verifyInclusion(p.index!, m.entries, leaf, p.audit_path.map((h) => Buffer.from(h, 'hex')), Buffer.from(m.merkle_root, 'hex'));
    check('Merkle inclusion', pathOk, pathOk ? `${p.audit_path.length} hashes lead to the signed root ${m.merkle_root}` : 'the audit path does not lead to the signed Merkle root');
    // 4. The readable copy of the record is the archived one.
    if (v.kind === 'record') {
      let same = false;
      try {
        same = JSON.stringify(JSON.parse(recordJsonText(v))) === JSON.stringify(p.record);
      } catch {
        same = false;
      }
      check('record', same, same ? 'the readable record equals the archived entry' : 'the "record" field differs from the archived entry: trust only the entry');
    }
  }
  return { ok: checks.every((c) => c.ok), checks, manifest: m };
}

