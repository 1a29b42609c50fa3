// Pseudonymisation (GDPR art. 4(5)): configured attributes are replaced by a
// keyed HMAC-SHA256 of their value, so the same person keeps the same pseudonym
// (anomaly baselines still work) but nobody without the key can tell who it is
// or test a guess. IP addresses may instead be truncated (/24, /48).
//
// The key is read once at start-up from a file (which must not be readable by
// group or others) or an environment variable, held only as a KeyObject, and
// never logged or put in an error message.
//
// Rotation keeps old pseudonyms linkable for an overlap period: with a
// previous key and `previous_until`, each pseudonymised attribute also gets
// `vigil.previous_pseudonym.<attribute>` = its pseudonym under the previous
// key, until that time. Records from before the rotation (old pseudonyms) and
// after it (new ones) are joined through that attribute; once the overlap ends
// the previous key is no longer used and can be destroyed.
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { GenerationalCache } from './cache.js';
import { truncateIp } from './ip.js';

export const MIN_KEY_BYTES = 16;
/** Pseudonyms look like `ps_` + 22 base64url characters (128 bits of the HMAC). */
export const PSEUDONYM_PREFIX = 'ps_';
/** During a key rotation's overlap: `vigil.previous_pseudonym.user.id` carries the pseudonym under the previous key. */
export const PREVIOUS_PSEUDONYM_ATTRIBUTE_PREFIX = 'vigil.previous_pseudonym.';

export class KeyError extends Error {
  constructor(
    /** The config key at fault, relative to the pseudonymise block. */
    readonly key: 'key_file' | 'key_env' | 'previous_key_file' | 'previous_key_env',
    message: string,
  ) {
    super(message);
    this.name = 'KeyError';
  }
}

/** Reads the key from a file; refuses a missing, short, or group/other-accessible file. */
export function loadKeyFile(path: string, configKey: 'key_file' | 'previous_key_file' = 'key_file'): KeyObject {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    throw new KeyError(configKey, `cannot read the pseudonymisation key file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new KeyError(
      configKey,
      `the pseudonymisation key file ${path} is accessible by group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}): run chmod 600 ${path} (in Kubernetes, mount the secret with defaultMode: 0400)`,
    );
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new KeyError(configKey, `cannot read the pseudonymisation key file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  // A trailing newline from `echo`/editors is not part of the key.
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
  return toKey(bytes.subarray(0, end), configKey, `the key file ${path}`);
}

/** Reads the key from an environment variable; refuses an unset, empty or short one. */
export function loadKeyEnv(name: string, env: NodeJS.ProcessEnv = process.env, configKey: 'key_env' | 'previous_key_env' = 'key_env'): KeyObject {
  const v = env[name];
  if (v === undefined || v === '') {
    throw new KeyError(configKey, `the environment variable ${name} holding the pseudonymisation key is not set`);
  }
  return toKey(Buffer.from(v, 'utf8'), configKey, `the environment variable ${name}`);
}

function toKey(bytes: Buffer, key: KeyError['key'], where: string): KeyObject {
  if (bytes.length < MIN_KEY_BYTES) {
    throw new KeyError(key, `${where} holds ${bytes.length} bytes; a pseudonymisation key needs at least ${MIN_KEY_BYTES} (generate one with: head -c 32 /dev/urandom | base64)`);
  }
  const k = createSecretKey(bytes);
  bytes.fill(0);
  return k;
}

export interface PseudonymiserOptions {
  key: KeyObject;
  /** Truncate IP literals to these prefix lengths instead of hashing them. */
  ipTruncation?: { ipv4: number; ipv6: number };
  cacheSize: number;
  /** Key rotation: the previous key, used for previousPseudonym until `until` (ms). */
  previous?: { key: KeyObject; until: number } | undefined;
  clock?: () => number;
}

export class Pseudonymiser {
  /** One cache per attribute name, keyed by the value. */
  private readonly caches = new Map<string, GenerationalCache<string, string>>();
  private readonly previousCaches = new Map<string, GenerationalCache<string, string>>();

  constructor(private readonly opts: PseudonymiserOptions) {}

  /** Whether a rotation's overlap is running (previous pseudonyms are added). */
  get rotating(): boolean {
    const p = this.opts.previous;
    return p !== undefined && (this.opts.clock ?? Date.now)() < p.until;
  }

  /** The value's pseudonym under the previous key, during the overlap; undefined otherwise (and for truncated IPs, which need no key). */
  previousPseudonym(attribute: string, value: string): string | undefined {
    const prev = this.opts.previous;
    if (!prev || !this.rotating) return undefined;
    const t = this.opts.ipTruncation;
    if (t && truncateIp(value, t.ipv4, t.ipv6) !== undefined) return undefined;
    return this.hmac(this.previousCaches, prev.key, attribute, value);
  }

  /**
   * The pseudonym of an attribute's value. The attribute name is part of the
   * HMAC input, so a user id and a session id that happen to be equal do not
   * share a pseudonym.
   */
  pseudonym(attribute: string, value: string): string {
    const t = this.opts.ipTruncation;
    if (t) {
      const truncated = truncateIp(value, t.ipv4, t.ipv6);
      if (truncated !== undefined) return truncated;
    }
    return this.hmac(this.caches, this.opts.key, attribute, value);
  }

  private hmac(caches: Map<string, GenerationalCache<string, string>>, key: KeyObject, attribute: string, value: string): string {
    let cache = caches.get(attribute);
    if (cache === undefined) caches.set(attribute, (cache = new GenerationalCache<string, string>(this.opts.cacheSize)));
    const cached = cache.get(value);
    if (cached !== undefined) return cached;
    const p = PSEUDONYM_PREFIX + createHmac('sha256', key).update(`${attribute}\u0000${value}`).digest().subarray(0, 16).toString('base64url');
    cache.set(value, p);
    return p;
  }

  /** Never shows the key. */
  toJSON(): string {
    return '[Pseudonymiser]';
  }
}

/**
 * Replaces each delimited occurrence of `original` in `text` by `replacement`:
 * not when the match is part of a longer word, number or address (`1.2.3.4`
 * inside `11.2.3.45`), but yes inside `1.2.3.4:5678` or `"user":"bob"`.
 */
export function replaceDelimited(text: string, original: string, replacement: string): string {
  if (original.length === 0) return text;
  let at = text.indexOf(original);
  if (at < 0) return text;
  let out = '';
  let from = 0;
  let replaced = false;
  while (at >= 0) {
    const end = at + original.length;
    if (boundaryBefore(text, at) && boundaryAfter(text, end)) {
      out += text.slice(from, at) + replacement;
      from = end;
      replaced = true;
      at = text.indexOf(original, end);
    } else {
      at = text.indexOf(original, at + 1);
    }
  }
  return replaced ? out + text.slice(from) : text;
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c > 127;
}

/** `.` and `-` join words (`a.b`, `x-1`) only when a word character follows them outward. */
function boundaryBefore(s: string, at: number): boolean {
  if (at === 0) return true;
  const c = s.charCodeAt(at - 1);
  if (isWordChar(c)) return false;
  if ((c === 46 || c === 45) && at >= 2 && isWordChar(s.charCodeAt(at - 2))) return false;
  return true;
}

function boundaryAfter(s: string, end: number): boolean {
  if (end >= s.length) return true;
  const c = s.charCodeAt(end);
  if (isWordChar(c)) return false;
  if ((c === 46 || c === 45) && end + 1 < s.length && isWordChar(s.charCodeAt(end + 1))) return false;
  return true;
}
