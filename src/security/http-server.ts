// node:http / node:https servers hardened against slow and abusive clients,
// shared by the OTLP/HTTP receiver, the telemetry server and health_check:
// - headers must arrive within read_header_timeout (slowloris), the whole
//   request within read_timeout (slow bodies); Node answers 408 and closes;
// - idle keep-alive connections close after idle_timeout;
// - at most max_connections at once (more are closed as soon as accepted,
//   counted and logged); at most 100 headers of at most 16 KiB in total;
// - with TLS: a handshake must finish within 10s, and the certificate is
//   swapped in place when its files change.
import http from 'node:http';
import https from 'node:https';
import type { Logger } from '../telemetry/logger.js';
import { capConnections } from './connection-cap.js';
import type { SecurityMetrics } from './metrics.js';
import type { ServerTls } from './tls.js';

export interface HttpLimits {
  readHeaderTimeoutMs: number;
  /** 0: no limit on the whole request. */
  readTimeoutMs: number;
  idleTimeoutMs: number;
  /** 0: unlimited. */
  maxConnections: number;
}

/** Headers beyond this count are ignored by Node's parser (a request never needs more). */
export const MAX_HEADERS_COUNT = 100;
/** Larger header blocks get 431. Node's default, stated so it is documented and tested. */
export const MAX_HEADER_BYTES = 16 * 1024;

export interface HardenedServerOptions {
  limits: HttpLimits;
  tls?: ServerTls | undefined;
  /** Labels for metrics and logs: the component id and transport. */
  server: string;
  transport: string;
  metrics: SecurityMetrics;
  logger: Logger;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export function createHardenedServer(handler: Handler, o: HardenedServerOptions): http.Server {
  const { limits } = o;
  const requestTimeout = limits.readTimeoutMs === 0 ? 0 : Math.max(limits.readTimeoutMs, limits.readHeaderTimeoutMs);
  const shortest = Math.min(limits.readHeaderTimeoutMs, requestTimeout || Infinity);
  const common: http.ServerOptions = {
    headersTimeout: limits.readHeaderTimeoutMs,
    requestTimeout,
    keepAliveTimeout: limits.idleTimeoutMs,
    maxHeaderSize: MAX_HEADER_BYTES,
    // Node checks the timeouts above on this period (default 30s, far too coarse for a 10s limit).
    connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(shortest / 4))),
  };
  const server = o.tls ? https.createServer({ ...o.tls.serverOptions(), ...common }, handler) : http.createServer(common, handler);
  server.maxHeadersCount = MAX_HEADERS_COUNT;
  server.keepAliveTimeout = limits.idleTimeoutMs;
  capConnections(server, limits.maxConnections, o);
  if (o.tls) {
    const secure = server as https.Server;
    o.tls.onReload((context) => secure.setSecureContext(context));
    secure.on('tlsClientError', (err: NodeJS.ErrnoException) => {
      o.logger.debug({ transport: o.transport, code: err.code, err: err.message }, 'TLS handshake failed');
    });
  }
  return server;
}
