// Server-side authentication, as in the Collector: a server config names an
// authenticator extension (`auth: { authenticator: bearertokenauth }`), and
// every request is checked by it before anything else is done with it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { ConfigError } from '../config/errors.js';
import type { Host } from '../pipeline/component.js';

/** Looks a request header up by lowercase name (one value, or undefined when absent or repeated). */
export type HeaderLookup = (name: string) => string | undefined;

export type AuthOutcome = { ok: true } | { ok: false; reason: 'missing' | 'invalid' };

export interface ServerAuthenticator {
  /** Marks an extension as able to authenticate servers' requests. */
  readonly serverAuthenticator: true;
  authenticate(header: HeaderLookup): AuthOutcome;
  /** The `WWW-Authenticate` challenge for an HTTP 401 (RFC 6750 §3). */
  challenge(outcome: AuthOutcome): string;
}

export function isServerAuthenticator(x: unknown): x is ServerAuthenticator {
  return typeof x === 'object' && x !== null && (x as Partial<ServerAuthenticator>).serverAuthenticator === true;
}

const COMPONENT_ID = /^[a-z][a-z0-9_]*(\/[A-Za-z0-9_.-]+)?$/;

/** `auth: { authenticator: <extension id> }` under a server's config. */
export const serverAuthSchema = z
  .object({
    authenticator: z
      .string({ message: 'name the authenticator extension, e.g. authenticator: bearertokenauth' })
      .regex(COMPONENT_ID, 'name an extension id such as bearertokenauth or bearertokenauth/ingest'),
  })
  .strict();
export type ServerAuthConfig = z.infer<typeof serverAuthSchema>;

/** The running authenticator an `auth` block names; a ConfigError naming `keyPath` when there is none. */
export function resolveAuthenticator(host: Pick<Host, 'getExtension'>, config: ServerAuthConfig, keyPath: string): ServerAuthenticator {
  const ext = host.getExtension(config.authenticator);
  if (ext === undefined) {
    throw new ConfigError([
      {
        path: `${keyPath}.authenticator`,
        message: `extension "${config.authenticator}" is not running: define it under extensions: and list it in service.extensions`,
      },
    ]);
  }
  if (!isServerAuthenticator(ext)) {
    throw new ConfigError([{ path: `${keyPath}.authenticator`, message: `extension "${config.authenticator}" does not authenticate requests: use a bearertokenauth extension` }]);
  }
  return ext;
}

/** Header lookup over a node:http request (Node lowercases names and keeps the first Authorization). */
export function httpHeaders(req: IncomingMessage): HeaderLookup {
  return (name) => {
    const v = req.headers[name];
    return typeof v === 'string' ? v : undefined;
  };
}

/**
 * Answers 401 with the challenge, without reading the body, and closes the
 * connection (an unauthenticated client gets nothing more from this one).
 */
export function refuseUnauthenticated(res: ServerResponse, auth: ServerAuthenticator, outcome: AuthOutcome, body = 'unauthenticated: send a valid bearer token\n'): void {
  res.req.resume();
  res.writeHead(401, {
    'www-authenticate': auth.challenge(outcome),
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
    'cache-control': 'no-store',
  });
  res.end(body);
}
