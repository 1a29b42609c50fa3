// Bearer tokens (RFC 6750), the pure part: taking the credential out of a
// header, checking it against the configured tokens in constant time, and
// reading a token file. Nothing here ever puts a token in a message.
import { createHash, timingSafeEqual } from 'node:crypto';

/** Shorter tokens are refused: they can be guessed. */
export const MIN_TOKEN_LENGTH = 16;
export const TOKEN_HINT = 'generate one with: head -c 32 /dev/urandom | base64';

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * The accepted tokens, held as SHA-256 digests. A candidate is digested too
 * and compared with every token (no early exit) by timingSafeEqual over
 * equal-length digests: the time taken says nothing about how much of a
 * token was right, nor which token matched, nor how long tokens are.
 */
export class TokenSet {
  private readonly digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = [...new Set(tokens)].map(sha256);
  }

  get size(): number {
    return this.digests.length;
  }

  has(candidate: string): boolean {
    const d = sha256(candidate);
    let found = false;
    for (const t of this.digests) {
      // timingSafeEqual first, so every digest is compared whatever came before.
      found = timingSafeEqual(d, t) || found;
    }
    return found;
  }
}

/**
 * The credential in an Authorization-style header value: `<scheme> <token>`
 * with the scheme matched case-insensitively (RFC 9110 §11.1), or the whole
 * value when the scheme is empty. Undefined when absent or malformed.
 */
export function credentialOf(headerValue: string | undefined, scheme: string): string | undefined {
  if (headerValue === undefined) return undefined;
  const v = headerValue.trim();
  if (scheme === '') return v === '' ? undefined : v;
  const space = v.indexOf(' ');
  if (space <= 0 || v.slice(0, space).toLowerCase() !== scheme.toLowerCase()) return undefined;
  const token = v.slice(space + 1).trimStart();
  return token === '' || /\s/.test(token) ? undefined : token;
}

/** Why a configured token is unusable (never quoting it), or undefined when it is fine. */
export function tokenProblem(token: string): string | undefined {
  if (/[\s\u0000-\u001f\u007f]/.test(token)) return 'a token is one word: no spaces, line breaks or control characters';
  if (token.length < MIN_TOKEN_LENGTH) return `a token must be at least ${MIN_TOKEN_LENGTH} characters (${TOKEN_HINT})`;
  return undefined;
}

/** A token file: one token per line (several during a rotation); blank lines and `#` comments are ignored. */
export function parseTokenFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}
