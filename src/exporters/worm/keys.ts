// Ed25519 signing keys (node:crypto). The private key is a PKCS#8 PEM file that
// only its owner may read (0600); the public key (SPKI PEM) sits beside it as
// `<name>.pub`. A key id names the key in every manifest so that verify can
// hold several public keys across rotations: the first 16 hex digits of the
// SHA-256 of the raw 32-byte public key.
import { type KeyObject, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, basename } from 'node:path';
import { sha256Hex } from './entry.js';

export interface SigningKey {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicKeyPem: string;
  /** Where the public key was written / found. */
  publicKeyPath: string;
}

export class KeyError extends Error {}

/** `archive.key` → `archive.pub`. */
export function publicKeyPathFor(keyFile: string): string {
  const ext = extname(keyFile);
  return join(dirname(keyFile), `${ext ? basename(keyFile, ext) : basename(keyFile)}.pub`);
}

export function keyIdOf(publicKey: KeyObject): string {
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return sha256Hex(raw).slice(0, 16);
}

/**
 * Loads the signing key, or generates it when absent and `generate` is on.
 * Refuses a key file readable or writable by group or others.
 */
export async function loadOrCreateSigningKey(keyFile: string, generate: boolean): Promise<SigningKey & { created: boolean }> {
  let created = false;
  let st = await stat(keyFile).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new KeyError(`cannot read signing key ${keyFile}: ${err.message}`);
  });
  if (!st) {
    if (!generate) throw new KeyError(`signing key ${keyFile} does not exist (signing.generate is off): create one with \`openssl genpkey -algorithm ed25519 -out ${keyFile}\` and chmod 600 it`);
    await createKeyPair(keyFile);
    created = true;
    st = await stat(keyFile);
  }
  assertOwnerOnly(keyFile, st.mode, 'signing key');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(await readFile(keyFile));
  } catch (err) {
    throw new KeyError(`signing key ${keyFile} is not a PEM private key: ${(err as Error).message}`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new KeyError(`signing key ${keyFile} is ${privateKey.asymmetricKeyType}, expected ed25519: create one with \`openssl genpkey -algorithm ed25519\``);
  }
  const publicKey = createPublicKey(privateKey);
  const publicKeyPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const publicKeyPath = publicKeyPathFor(keyFile);
  // Keep the public key beside the private one (an operator may have brought only the private key).
  const existing = await readFile(publicKeyPath, 'utf8').catch(() => undefined);
  if (existing === undefined) await writeNew(publicKeyPath, publicKeyPem, 0o644).catch(() => undefined);
  else if (existing.trim() !== publicKeyPem.trim()) {
    throw new KeyError(`${publicKeyPath} does not match the private key ${keyFile}: remove it (it is rewritten) or restore the matching pair`);
  }
  return { keyId: keyIdOf(publicKey), privateKey, publicKey, publicKeyPem, publicKeyPath, created };
}

/** Refuses a key file readable or writable by group or others (signing key, archive encryption key). */
export function assertOwnerOnly(path: string, mode: number, what: string): void {
  if ((mode & 0o077) !== 0) throw new KeyError(`${what} ${path} is accessible by group or others (mode ${(mode & 0o777).toString(8)}): run chmod 600 ${path}`);
}

async function createKeyPair(keyFile: string): Promise<void> {
  await mkdir(dirname(keyFile), { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  await writeNew(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 0o600);
  await writeNew(publicKeyPathFor(keyFile), publicKey.export({ format: 'pem', type: 'spki' }).toString(), 0o644);
}

/** Creates a file that must not exist yet (O_EXCL), with its mode, fsync'd. */
async function writeNew(path: string, text: string, mode: number): Promise<void> {
  const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await fh.writeFile(text);
    await fh.chmod(mode);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export interface PublicKeyEntry {
  keyId: string;
  key: KeyObject;
  source: string;
}

/** Reads public keys (SPKI PEM, or a private key PEM from which the public half is taken) for verification. */
export async function loadPublicKeys(files: readonly string[]): Promise<Map<string, PublicKeyEntry>> {
  const keys = new Map<string, PublicKeyEntry>();
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new KeyError(`cannot read public key ${file}: ${(err as Error).message}`);
    }
    let key: KeyObject;
    try {
      key = createPublicKey(text);
    } catch (err) {
      throw new KeyError(`${file} is not a PEM public key: ${(err as Error).message}`);
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new KeyError(`${file} is a ${key.asymmetricKeyType} key, expected ed25519`);
    const keyId = keyIdOf(key);
    keys.set(keyId, { keyId, key, source: file });
  }
  return keys;
}

export function signBytes(key: KeyObject, data: Uint8Array): string {
  return sign(null, data, key).toString('base64');
}

export function verifyBytes(key: KeyObject, data: Uint8Array, signatureB64: string): boolean {
  try {
    return verify(null, data, key, Buffer.from(signatureB64, 'base64'));
  } catch {
    return false;
  }
}
