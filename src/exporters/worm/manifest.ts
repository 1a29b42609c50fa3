// Segment manifests: what was sealed, signed with Ed25519 and chained to the
// previous manifest (like CloudTrail's digest files). Stored as
//
//   {"manifest":{…},"signature":{"alg":"Ed25519","key_id":"…","value":"<base64>"}}
//
// The signature covers the canonical bytes of `manifest`: its keys sorted, no
// whitespace (the RFC 8785 form for these value types; `jq -cjS .manifest` gives
// the same bytes). A manifest's hash (what the next one names as
// prev_manifest) is the SHA-256 of those bytes.
import { z } from 'zod';
import { GENESIS_HASH, sha256Hex } from './entry.js';
import { signBytes, verifyBytes, type PublicKeyEntry } from './keys.js';
import type { KeyObject } from 'node:crypto';
import { manifestEncryptionSchema } from './encryption.js';

export const MANIFEST_VERSION = 1;

export type SealReason = 'size' | 'age' | 'heartbeat' | 'shutdown' | 'recovery';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const iso = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
const count = z.number().int().nonnegative();

export const manifestSchema = z
  .object({
    version: z.literal(MANIFEST_VERSION),
    archive_id: z.string().min(1),
    segment: z.number().int().positive(),
    file: z.string().min(1),
    /** SHA-256 of the sealed (gzip) file as stored and uploaded. */
    segment_sha256: hex64,
    segment_bytes: count,
    /** Size of the uncompressed JSON lines. */
    content_bytes: count,
    first_seq: z.number().int().positive(),
    /** Entries (log records and notes) in the segment. */
    entries: count,
    records: count,
    notes: count,
    /** The hash the first entry chains to (the last entry of the previous segment). */
    chain_prev: hex64,
    first_hash: hex64.nullable(),
    last_hash: hex64.nullable(),
    merkle_root: hex64,
    /** Event time range of the records (their timestamp, else observed time, else append time). */
    time_min: iso.nullable(),
    time_max: iso.nullable(),
    opened_at: iso,
    sealed_at: iso,
    seal_reason: z.enum(['size', 'age', 'heartbeat', 'shutdown', 'recovery']),
    heartbeat_ms: count,
    max_age_ms: count,
    /** Object Lock retain-until date for this segment in S3 (seal time + retention), if retention is configured. */
    retain_until: iso.nullable(),
    prev_manifest: hex64,
    key_id: z.string().regex(/^[0-9a-f]{16}$/),
    /** Present when the segment file is encrypted (encryption.ts): segment_sha256 is then over the ciphertext. */
    encryption: manifestEncryptionSchema.optional(),
  })
  .strict();

export type Manifest = z.infer<typeof manifestSchema>;

export interface SignedManifest {
  manifest: Manifest;
  signature: { alg: 'Ed25519'; key_id: string; value: string };
}

/** Keys sorted recursively, no whitespace. Values here are strings, integers, null and objects. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(',')}}`;
}

export function manifestHash(m: Manifest): string {
  return sha256Hex(canonicalJson(m));
}

export function signManifest(m: Manifest, privateKey: KeyObject): SignedManifest {
  return { manifest: m, signature: { alg: 'Ed25519', key_id: m.key_id, value: signBytes(privateKey, Buffer.from(canonicalJson(m))) } };
}

export function serializeSignedManifest(s: SignedManifest): Buffer {
  return Buffer.from(`${JSON.stringify({ manifest: JSON.parse(canonicalJson(s.manifest)), signature: s.signature })}\n`);
}

export type ManifestProblem =
  | { kind: 'modified'; detail: string }
  | { kind: 'unknown key'; detail: string }
  | { kind: 'bad signature'; detail: string };

export interface CheckedManifest {
  /** The manifest as found (possibly untrusted when problem is set). */
  manifest: Manifest | undefined;
  /** The raw manifest object, for hashing even when it does not match the schema. */
  raw: unknown;
  hash: string | undefined;
  problem: ManifestProblem | undefined;
}

/** Parses a stored manifest and checks its signature against the known public keys. */
export function checkManifest(bytes: Buffer, keys: ReadonlyMap<string, PublicKeyEntry>): CheckedManifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return { manifest: undefined, raw: undefined, hash: undefined, problem: { kind: 'modified', detail: `manifest is not valid JSON (${(err as Error).message})` } };
  }
  const outer = parsed as { manifest?: unknown; signature?: { alg?: unknown; key_id?: unknown; value?: unknown } };
  const raw = outer?.manifest;
  const hash = raw === undefined ? undefined : sha256Hex(canonicalJson(raw));
  const m = manifestSchema.safeParse(raw);
  if (!m.success) {
    const first = m.error.issues[0];
    return { manifest: undefined, raw, hash, problem: { kind: 'modified', detail: `manifest fields are malformed (${first.path.join('.') || 'manifest'}: ${first.message})` } };
  }
  const sig = outer.signature;
  if (!sig || sig.alg !== 'Ed25519' || typeof sig.value !== 'string' || sig.key_id !== m.data.key_id) {
    return { manifest: m.data, raw, hash, problem: { kind: 'bad signature', detail: 'signature block missing, not Ed25519, or naming a different key than the manifest' } };
  }
  const key = keys.get(m.data.key_id);
  if (!key) {
    return {
      manifest: m.data,
      raw,
      hash,
      problem: { kind: 'unknown key', detail: `signed by key ${m.data.key_id}, which is not among the public keys given (${[...keys.keys()].join(', ') || 'none'})` },
    };
  }
  if (!verifyBytes(key.key, Buffer.from(canonicalJson(raw)), sig.value)) {
    return { manifest: m.data, raw, hash, problem: { kind: 'bad signature', detail: `Ed25519 signature does not verify with key ${m.data.key_id} (${key.source})` } };
  }
  return { manifest: m.data, raw, hash, problem: undefined };
}

export { GENESIS_HASH };
