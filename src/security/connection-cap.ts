// A cap on concurrent connections for any listening server (node:net, and so
// node:http/https and the gRPC receiver's listener): over the cap, Node closes
// a new connection as soon as it is accepted.
import type { Server as NetServer } from 'node:net';
import type { Logger } from '../telemetry/logger.js';
import type { SecurityMetrics } from './metrics.js';

const DROP_LOG_INTERVAL_MS = 10_000;

/**
 * Caps concurrent connections on a listening server: over the cap, Node closes
 * a new connection as soon as it is accepted. Each is counted; a warning is
 * logged at most every 10s (a flood must not flood the log too).
 */
export function capConnections(
  server: NetServer,
  max: number,
  o: { server: string; transport: string; metrics: SecurityMetrics; logger: Logger },
): void {
  if (max <= 0) return;
  server.maxConnections = max;
  let lastLog = 0;
  let dropped = 0;
  server.on('drop', () => {
    o.metrics.refusedConnections.inc({ server: o.server, transport: o.transport, reason: 'max_connections' });
    dropped++;
    const now = Date.now();
    if (now - lastLog >= DROP_LOG_INTERVAL_MS) {
      o.logger.warn({ transport: o.transport, max_connections: max, dropped }, 'connection limit reached: closing new connections');
      lastLog = now;
      dropped = 0;
    }
  });
}
