// Whether a listening address is reachable only from this machine. Used to
// warn when a server without TLS or authentication is exposed to the network.
import { isIP } from 'node:net';
import { splitHostPort } from '../config/units.js';
import type { Logger } from '../telemetry/logger.js';

/**
 * True for 127.0.0.0/8, ::1, an IPv4-mapped loopback and `localhost`.
 * Anything else (0.0.0.0, ::, an interface address, another host name) may be
 * reachable from elsewhere: the conservative answer is false.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) {
    if (h === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(h)) return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    return mapped !== null && mapped[1].startsWith('127.');
  }
  return false;
}

/**
 * Plaintext or unauthenticated is fine on loopback; on any other address it is
 * allowed but said out loud at start-up, naming the keys that fix it.
 * `key` is the config path of the server (`receivers.otlp.protocols.grpc`).
 */
export function warnIfExposed(logger: Logger, key: string, endpoint: string, has: { tls: boolean; auth: boolean }): boolean {
  if (isLoopbackHost(splitHostPort(endpoint).host)) return false;
  const risks: string[] = [];
  if (!has.tls) risks.push('traffic (tokens included) crosses the network in clear text');
  if (!has.auth) risks.push(`anyone who can reach ${endpoint} can use it`);
  if (risks.length === 0) return false;
  const fix = [has.tls ? undefined : `${key}.tls`, has.auth ? undefined : `${key}.auth`].filter((f) => f !== undefined).join(' and ');
  logger.warn({ key, endpoint, tls: has.tls, auth: has.auth }, `${key} listens on a non-loopback address: ${risks.join('; ')}. Set ${fix}, or bind to 127.0.0.1`);
  return true;
}
