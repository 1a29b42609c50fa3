// The telemetry endpoint (service.telemetry.metrics.address, default
// 127.0.0.1:8888): Prometheus text at /metrics. Further routes (the status
// page) are mounted by whoever owns them.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { splitHostPort } from '../config/units.js';
import type { Telemetry } from './metrics.js';

export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export class TelemetryServer {
  private server: Server | undefined;
  private readonly routes = new Map<string, Route>();

  constructor(
    private readonly endpoint: string,
    telemetry: Telemetry,
  ) {
    this.routes.set('/metrics', async (_req, res) => {
      const body = await telemetry.registry.metrics();
      res.writeHead(200, { 'content-type': telemetry.registry.contentType });
      res.end(body);
    });
  }

  /** Adds a route (exact path match). */
  mount(path: string, route: Route): void {
    this.routes.set(path, route);
  }

  async start(): Promise<void> {
    const { host, port } = splitHostPort(this.endpoint);
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const route = this.routes.get(path);
      if (!route || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(route ? 405 : 404, { 'content-type': 'text/plain' }).end(route ? 'method not allowed\n' : 'not found\n');
        return;
      }
      Promise.resolve(route(req, res)).catch((err: Error) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`error: ${err.message}\n`);
      });
    });
    server.requestTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
  }

  address(): string {
    const a = this.server?.address() as AddressInfo | null;
    return a ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : this.endpoint;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
