// Encrypted local segments (`worm.encryption.key_file`): envelope encryption
// with AES-256-GCM (node:crypto). Each segment gets a fresh random data key;
// the archive key (32 bytes in key_file, 0600) only wraps data keys. The
// wrapped data key travels in the segment file's header and in its signed
// manifest.
//
// Crypto-shredding needs a key that can be destroyed while the wrapped data
// keys stay in WORM storage: data keys are wrapped by a key-encryption key
// (KEK) per UTC day, and the KEKs live in a keyring file beside key_file,
// each wrapped by the archive key. `vigil keys shred` removes the KEKs whose
// segments' retention has ended (shred.ts); their data keys can then never be
// unwrapped again, wherever copies of the segments and manifests remain.
//
// One file format for the open segment and the sealed one:
//
//   "VIGILENC1\n" | frame(header JSON) | frame(chunk) | frame(chunk) …
//   frame  = u32 big-endian length | bytes
//   chunk  = 12-byte random nonce | ciphertext | 16-byte GCM tag
//
// The open segment (`.jsonl`) is encrypted chunk by chunk as it is written:
// each group commit is one chunk, so no plaintext ever reaches the disk and a
// torn write is a torn last frame, cut at recovery like a torn line. The sealed
// segment (`.jsonl.gz`) holds the gzip stream in 1 MiB chunks. Each chunk's
// associated data binds it to its archive, segment, form and position, so a
// chunk cannot be moved, dropped from the middle or spliced from another file
// without failing authentication. Hash chain, Merkle root and record counts
// stay over the plaintext entries (proofs and query work for whoever holds the
// key); the manifest's segment_sha256 is over the ciphertext as stored, so
// integrity and signatures verify without the key.
import { type KeyObject, createCipheriv, createDecipheriv, createHash, createSecretKey, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../util/durable.js';
import { assertOwnerOnly } from './keys.js';

export const ENCRYPTED_MAGIC = Buffer.from('VIGILENC1\n');
export const ALG = 'AES-256-GCM';
const NONCE = 12;
const TAG = 16;
/** Plaintext per chunk of a sealed segment. */
const SEALED_CHUNK = 1 << 20;

export type SegmentForm = 'open' | 'sealed';

/** The archive key: wraps the per-segment data keys. Held as a KeyObject, never printed. */
export interface ArchiveKey {
  /** First 16 hex digits of SHA-256("vigil-archive-key" ‖ key): names the key without revealing it. */
  keyId: string;
  key: KeyObject;
  /** The day keys (KEKs) that wrap data keys; without one (tests, tools) data keys are wrapped by `key` itself. */
  keyring?: Keyring | undefined;
}

export class EncryptionKeyError extends Error {}
/** A chunk or wrapped key that fails authentication: the ciphertext was altered (or the key is wrong). */
export class DecryptionError extends Error {}
/** The key that wrapped a segment's data key was destroyed by `vigil keys shred`. */
export class ShreddedKeyError extends Error {
  constructor(
    readonly kek: string,
    readonly shreddedAt: string,
    readonly segment?: number,
  ) {
    super(`${segment !== undefined ? `segment ${segment}: ` : ''}day key ${kek}, which wrapped its data key, was destroyed by \`vigil keys shred\` at ${shreddedAt}: its records can no longer be decrypted, by design`);
  }
}

/** Parses 32 key bytes written as base64 or hex text (`openssl rand -base64 32`), or 32 raw bytes. */
export function parseArchiveKey(bytes: Buffer, source: string): ArchiveKey {
  const text = bytes.toString('latin1').trim();
  let raw: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(text)) raw = Buffer.from(text, 'hex');
  else if (/^[A-Za-z0-9+/]{43}=$/.test(text)) raw = Buffer.from(text, 'base64');
  else if (bytes.length === 32) raw = Buffer.from(bytes);
  if (raw?.length !== 32) {
    throw new EncryptionKeyError(`${source} does not hold a 256-bit key: write one with \`openssl rand -base64 32 > FILE && chmod 600 FILE\``);
  }
  const keyId = createHash('sha256').update('vigil-archive-key').update(raw).digest('hex').slice(0, 16);
  const key = createSecretKey(raw);
  raw.fill(0);
  return { keyId, key };
}

/** `keys/archive.enc.key` → `keys/archive.enc.keyring.json`. */
export function keyringPathFor(keyFile: string): string {
  const ext = extname(keyFile);
  return join(dirname(keyFile), `${ext ? basename(keyFile, ext) : basename(keyFile)}.keyring.json`);
}

/** Reads the archive key file (refusing one readable by group or others, as the signing key) and its keyring. */
export async function loadArchiveKey(path: string, configKey = 'exporters.worm.encryption.key_file', keyringPath = keyringPathFor(path)): Promise<ArchiveKey> {
  const archive = await loadKeyFile(path, configKey);
  archive.keyring = await Keyring.load(keyringPath, archive);
  return archive;
}

async function loadKeyFile(path: string, configKey: string): Promise<ArchiveKey> {
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new EncryptionKeyError(`${configKey}: cannot read the archive encryption key ${path} (${err.code ?? err.message}): create one with \`openssl rand -base64 32 > ${path} && chmod 600 ${path}\``);
  });
  try {
    assertOwnerOnly(path, st.mode, 'archive encryption key');
  } catch (err) {
    throw new EncryptionKeyError(`${configKey}: ${(err as Error).message}`);
  }
  return parseArchiveKey(await readFile(path), `${configKey} ${path}`);
}

/** How a manifest names its segment's encryption (signed with the rest). */
export const manifestEncryptionSchema = z
  .object({
    alg: z.literal(ALG),
    /** The archive key that wraps the data key. */
    key_id: z.string().regex(/^[0-9a-f]{16}$/),
    /** The keyring's day key that wraps the data key (crypto-shredding destroys it). */
    kek: z.string().regex(/^k-\d{4}-\d{2}-\d{2}$/).optional(),
    /** nonce ‖ encrypted data key ‖ tag, base64. */
    wrapped_key: z.string().regex(/^[A-Za-z0-9+/]+=*$/),
  })
  .strict();
export type ManifestEncryption = z.infer<typeof manifestEncryptionSchema>;

interface FileHeader {
  v: 1;
  alg: typeof ALG;
  archive_id: string;
  segment: number;
  form: SegmentForm;
  key_id: string;
  kek?: string;
  wrapped_key: string;
}

interface KeyringFile {
  format: 'vigil-keyring/1';
  /** The archive key that wraps every KEK here. */
  key_id: string;
  keks: Record<string, { created_at: string; wrapped?: string; shredded_at?: string }>;
}

const kekAad = (id: string) => `vigil/kek/${id}`;

/**
 * The day keys (KEKs), each wrapped by the archive key, in one small file
 * (0600) rewritten atomically. A KEK is written durably before any data key is
 * wrapped with it. Holds no plaintext key on disk; destroying an entry is
 * crypto-shredding every segment whose data key it wrapped.
 */
export class Keyring {
  private readonly cache = new Map<string, KeyObject>();
  private constructor(
    readonly path: string,
    private readonly archive: ArchiveKey,
    private data: KeyringFile,
  ) {}

  static async load(path: string, archive: ArchiveKey): Promise<Keyring> {
    const st = await stat(path).catch(() => undefined);
    if (!st) return new Keyring(path, archive, { format: 'vigil-keyring/1', key_id: archive.keyId, keks: {} });
    assertOwnerOnly(path, st.mode, 'archive keyring');
    let data: KeyringFile;
    try {
      data = JSON.parse(await readFile(path, 'utf8')) as KeyringFile;
    } catch (err) {
      throw new EncryptionKeyError(`archive keyring ${path} is not valid JSON (${(err as Error).message}): restore it from its backup`);
    }
    if (data.format !== 'vigil-keyring/1' || typeof data.keks !== 'object') throw new EncryptionKeyError(`${path} is not a Vigil keyring`);
    if (data.key_id !== archive.keyId) throw new EncryptionKeyError(`archive keyring ${path} belongs to archive key ${data.key_id}, not to the key given (${archive.keyId})`);
    return new Keyring(path, archive, data);
  }

  /** The KEK id for a time: one per UTC day. */
  static idFor(time: number): string {
    return `k-${new Date(time).toISOString().slice(0, 10)}`;
  }

  /** The day's KEK, created (and durably written) on first use. */
  async current(time: number): Promise<{ id: string; key: KeyObject }> {
    const id = Keyring.idFor(time);
    if (!this.data.keks[id]) {
      const raw = randomBytes(32);
      this.data.keks[id] = { created_at: new Date().toISOString(), wrapped: gcmEncrypt(this.archive.key, raw, kekAad(id)).toString('base64') };
      this.cache.set(id, createSecretKey(raw));
      raw.fill(0);
      await this.save();
    }
    return { id, key: this.kek(id) };
  }

  /** Unwraps a KEK; ShreddedKeyError when it was destroyed. */
  kek(id: string): KeyObject {
    const hit = this.cache.get(id);
    if (hit) return hit;
    const e = this.data.keks[id];
    if (!e) throw new EncryptionKeyError(`key ${id} is not in the archive keyring ${this.path}: restore the keyring from its backup`);
    if (!e.wrapped) throw new ShreddedKeyError(id, e.shredded_at ?? 'an unknown time');
    const raw = gcmDecrypt(this.archive.key, Buffer.from(e.wrapped, 'base64'), kekAad(id), `keyring entry ${id}`);
    const key = createSecretKey(raw);
    raw.fill(0);
    this.cache.set(id, key);
    return key;
  }

  ids(): string[] {
    return Object.keys(this.data.keks).sort();
  }

  shreddedAt(id: string): string | undefined {
    return this.data.keks[id]?.shredded_at;
  }

  /** Destroys KEKs: their wrapped bytes leave the keyring (rewritten atomically, fsync'd). */
  async shred(ids: readonly string[], at: string): Promise<void> {
    for (const id of ids) {
      const e = this.data.keks[id];
      if (!e) continue;
      this.data.keks[id] = { created_at: e.created_at, shredded_at: e.shredded_at ?? at };
      this.cache.delete(id);
    }
    await this.save();
  }

  private async save(): Promise<void> {
    const text = Buffer.from(`${JSON.stringify(this.data, null, 2)}\n`);
    await writeFileAtomic(this.path, (write) => write(text), 0o600);
  }
}

function gcmEncrypt(key: KeyObject, plain: Buffer, aad: string): Buffer {
  const nonce = randomBytes(NONCE);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(Buffer.from(aad));
  const body = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([nonce, body, c.getAuthTag()]);
}

function gcmDecrypt(key: KeyObject, sealed: Buffer, aad: string, what: string): Buffer {
  if (sealed.length < NONCE + TAG) throw new DecryptionError(`${what} is too short to be AES-GCM ciphertext`);
  const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE));
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(sealed.subarray(sealed.length - TAG));
  try {
    return Buffer.concat([d.update(sealed.subarray(NONCE, sealed.length - TAG)), d.final()]);
  } catch {
    throw new DecryptionError(`${what} fails AES-GCM authentication: it was altered, or it was not encrypted with this key`);
  }
}

const wrapAad = (archiveId: string, segment: number) => `vigil/${archiveId}/${segment}/data-key`;
const chunkAad = (archiveId: string, segment: number, form: SegmentForm, index: number) => `vigil/${archiveId}/${segment}/${form}/${index}`;

function frame(body: Buffer): Buffer {
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/** A segment's data key, ready to encrypt chunks. */
export class SegmentCipher {
  private constructor(
    readonly archiveId: string,
    readonly segment: number,
    readonly keyId: string,
    readonly kek: string | undefined,
    readonly wrappedKey: string,
    private readonly dataKey: KeyObject,
  ) {}

  /** A fresh data key for a segment, wrapped with the KEK of `time`'s day (or the archive key itself, without a keyring). */
  static async create(archive: ArchiveKey, archiveId: string, segment: number, time: number): Promise<SegmentCipher> {
    const kek = archive.keyring ? await archive.keyring.current(time) : undefined;
    const raw = randomBytes(32);
    const wrapped = gcmEncrypt(kek?.key ?? archive.key, raw, wrapAad(archiveId, segment)).toString('base64');
    const dataKey = createSecretKey(raw);
    raw.fill(0);
    return new SegmentCipher(archiveId, segment, archive.keyId, kek?.id, wrapped, dataKey);
  }

  /** Unwraps a segment's data key (from its file header or manifest); ShreddedKeyError once its KEK was destroyed. */
  static unwrap(archive: ArchiveKey, archiveId: string, segment: number, enc: { key_id: string; kek?: string | undefined; wrapped_key: string }): SegmentCipher {
    if (enc.key_id !== archive.keyId) throw new EncryptionKeyError(`segment ${segment}'s data key is wrapped with archive key ${enc.key_id}, not with the key given (${archive.keyId})`);
    let wrapping = archive.key;
    if (enc.kek) {
      if (!archive.keyring) throw new EncryptionKeyError(`segment ${segment}'s data key is wrapped by keyring key ${enc.kek}: give the keyring (beside the key file)`);
      try {
        wrapping = archive.keyring.kek(enc.kek);
      } catch (err) {
        if (err instanceof ShreddedKeyError) throw new ShreddedKeyError(err.kek, err.shreddedAt, segment);
        throw err;
      }
    }
    const raw = gcmDecrypt(wrapping, Buffer.from(enc.wrapped_key, 'base64'), wrapAad(archiveId, segment), `segment ${segment}'s wrapped data key`);
    const dataKey = createSecretKey(raw);
    raw.fill(0);
    return new SegmentCipher(archiveId, segment, enc.key_id, enc.kek, enc.wrapped_key, dataKey);
  }

  manifestEntry(): ManifestEncryption {
    return { alg: ALG, key_id: this.keyId, ...(this.kek ? { kek: this.kek } : {}), wrapped_key: this.wrappedKey };
  }

  /** Magic and header frame: the start of a file of this segment. */
  fileHeader(form: SegmentForm): Buffer {
    const h: FileHeader = { v: 1, alg: ALG, archive_id: this.archiveId, segment: this.segment, form, key_id: this.keyId, ...(this.kek ? { kek: this.kek } : {}), wrapped_key: this.wrappedKey };
    return Buffer.concat([ENCRYPTED_MAGIC, frame(Buffer.from(JSON.stringify(h)))]);
  }

  /** One encrypted chunk frame: chunk `index` (0-based) of the file. */
  chunk(plain: Buffer, form: SegmentForm, index: number): Buffer {
    return frame(gcmEncrypt(this.dataKey, plain, chunkAad(this.archiveId, this.segment, form, index)));
  }

  /** A whole sealed file: header and the content in 1 MiB chunks. */
  sealedFile(content: Buffer): Buffer {
    const parts = [this.fileHeader('sealed')];
    for (let i = 0, off = 0; off < content.length || i === 0; i++, off += SEALED_CHUNK) parts.push(this.chunk(content.subarray(off, off + SEALED_CHUNK), 'sealed', i));
    return Buffer.concat(parts);
  }

  decryptChunk(body: Buffer, form: SegmentForm, index: number): Buffer {
    return gcmDecrypt(this.dataKey, body, chunkAad(this.archiveId, this.segment, form, index), `segment ${this.segment} chunk ${index}`);
  }
}

export function isEncryptedFile(buf: Buffer): boolean {
  return buf.length >= ENCRYPTED_MAGIC.length && buf.subarray(0, ENCRYPTED_MAGIC.length).equals(ENCRYPTED_MAGIC);
}

export interface ParsedEncryptedFile {
  header: FileHeader;
  /** Chunk bodies (nonce ‖ ciphertext ‖ tag), in order. */
  chunks: Buffer[];
  /** File length up to the end of the last complete frame. */
  completeBytes: number;
  /** Bytes of an incomplete last frame (a torn write). */
  tornBytes: number;
}

/** Splits an encrypted file into its header and chunk frames (no key needed). Undefined when the header itself is incomplete. */
export function parseEncryptedFile(buf: Buffer): ParsedEncryptedFile | undefined {
  if (!isEncryptedFile(buf)) throw new DecryptionError('not an encrypted Vigil segment (magic missing)');
  let pos = ENCRYPTED_MAGIC.length;
  const next = (): Buffer | undefined => {
    if (pos + 4 > buf.length) return undefined;
    const len = buf.readUInt32BE(pos);
    if (pos + 4 + len > buf.length) return undefined;
    const body = buf.subarray(pos + 4, pos + 4 + len);
    pos += 4 + len;
    return body;
  };
  const h = next();
  if (!h) return undefined;
  let header: FileHeader;
  try {
    header = JSON.parse(h.toString('utf8')) as FileHeader;
  } catch {
    throw new DecryptionError('the encrypted segment header is not valid JSON');
  }
  if (header.alg !== ALG || typeof header.wrapped_key !== 'string' || typeof header.segment !== 'number') throw new DecryptionError('the encrypted segment header is malformed');
  const chunks: Buffer[] = [];
  let completeBytes = pos;
  for (let c = next(); c; c = next()) {
    chunks.push(c);
    completeBytes = pos;
  }
  return { header, chunks, completeBytes, tornBytes: buf.length - completeBytes };
}

/**
 * Decrypts a segment file with the archive key: the plaintext of its complete
 * chunks (a torn last frame is left out and counted). Throws DecryptionError
 * when any chunk or the wrapped key fails authentication.
 */
export function decryptSegmentFile(buf: Buffer, archive: ArchiveKey, expect?: { archiveId?: string; segment?: number; form?: SegmentForm }): { content: Buffer; completeBytes: number; tornBytes: number; cipher: SegmentCipher; chunks: number } {
  const parsed = parseEncryptedFile(buf);
  if (!parsed) throw new DecryptionError('the encrypted segment file is cut inside its header');
  const { header } = parsed;
  if (expect?.segment !== undefined && header.segment !== expect.segment) throw new DecryptionError(`the file's header names segment ${header.segment}, not ${expect.segment}`);
  if (expect?.archiveId !== undefined && header.archive_id !== expect.archiveId) throw new DecryptionError(`the file's header names archive ${header.archive_id}, not ${expect.archiveId}`);
  if (expect?.form !== undefined && header.form !== expect.form) throw new DecryptionError(`the file is an ${header.form} segment, not ${expect.form}`);
  const cipher = SegmentCipher.unwrap(archive, header.archive_id, header.segment, header);
  const content = Buffer.concat(parsed.chunks.map((c, i) => cipher.decryptChunk(c, header.form, i)));
  return { content, completeBytes: parsed.completeBytes, tornBytes: parsed.tornBytes, cipher, chunks: parsed.chunks.length };
}

/**
 * A segment file's plaintext for readers (query, prove, verify of the open
 * segment): as is when not encrypted; decrypted with the archive key (a torn
 * last chunk of an open file left out); an error naming --key-file without it.
 */
export function plaintextOf(buf: Buffer, archive: ArchiveKey | undefined, segment: number, form: SegmentForm): Buffer {
  if (!isEncryptedFile(buf)) return buf;
  if (!archive) throw new EncryptionKeyError(`segment ${segment} is encrypted: give the archive encryption key (--key-file FILE)`);
  if (form === 'open' && !parseEncryptedFile(buf)) return Buffer.alloc(0);
  return decryptSegmentFile(buf, archive, { segment, form }).content;
}
