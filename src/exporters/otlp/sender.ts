// One export attempt against the downstream, and what came of it. Senders
// never throw: every result is classified here so that the retry loop and the
// queue only decide *what to do*, never *what happened*.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../config/errors.js';
import { packageRoot } from '../../util/paths.js';

export type SendOutcome =
  /** Accepted; `rejected` records were refused individually (OTLP partial success). */
  | { kind: 'ok'; rejected: number; message?: string }
  /** Worth trying again, after at least `retryAfterMs` when the server said so (RetryInfo, Retry-After). */
  | { kind: 'retryable'; reason: string; retryAfterMs?: number }
  /** Will fail the same way again: drop and count. */
  | { kind: 'permanent'; reason: string }
  /** Refused for its size (gRPC RESOURCE_EXHAUSTED without RetryInfo, HTTP 413): smaller requests may pass. */
  | { kind: 'too_large'; reason: string }
  /** Cancelled by us (shutdown deadline): the batch was not delivered and not given up on. */
  | { kind: 'aborted' };

export interface Sender {
  /** e.g. `OTLP/gRPC → 127.0.0.1:4317`. */
  readonly description: string;
  /** Loads credentials and opens the client; errors name the config key to fix. */
  start(): Promise<void>;
  /** One attempt with the configured timeout; aborting `signal` cancels it. Never rejects. */
  send(payload: Uint8Array, signal: AbortSignal): Promise<SendOutcome>;
  close(): Promise<void>;
}

let agent: string | undefined;

/** `vigil/0.1.0`, sent as User-Agent so downstream operators can tell who is calling. */
export function userAgent(): string {
  if (agent) return agent;
  try {
    agent = `vigil/${(JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version}`;
  } catch {
    agent = 'vigil';
  }
  return agent;
}

/** Reads a TLS file named in config; the error names the key path. */
export function readTlsFile(path: string | undefined, key: string): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError([{ path: key, message: `cannot read ${path}: ${(err as Error).message}` }]);
  }
}
