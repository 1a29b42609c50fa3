// The telemetry endpoint (service.telemetry.metrics.address, default
// 127.0.0.1:8888): Prometheus text at /metrics. Further routes (the status
// page) are mounted by whoever owns them, and get the same protection:
// optional TLS (`service.telemetry.metrics.tls`) and bearer-token auth
// (`service.telemetry.metrics.auth: { authenticator: bearertokenauth }`) on
// every route, timeouts against slow clients and a small connection cap.
// On a non-loopback address without auth, start-up logs a warning.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { splitHostPort } from '../config/units.js';
import type { Host } from '../pipeline/component.js';
import { type ServerAuthConfig, type ServerAuthenticator, httpHeaders, refuseUnauthenticated, resolveAuthenticator } from '../security/auth.js';
import { type HttpLimits, createHardenedServer } from '../security/http-server.js';
import { warnIfExposed } from '../security/loopback.js';
import { SecurityMetrics } from '../security/metrics.js';
import { ServerTls, type TlsServerConfig } from '../security/tls.js';
import { type Logger, silentLogger } from './logger.js';
import type { Telemetry } from './metrics.js';

export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface TelemetryServerOptions {
  tls?: TlsServerConfig | undefined;
  /** Checked on every route once the service's extensions run (start(host)). */
  auth?: ServerAuthConfig | undefined;
  logger?: Logger;
  /** Config path of these settings, for messages. */
  keyPath?: string;
}

/** Scrapers and people, not fleets: a few connections, quick requests. */
export const TELEMETRY_LIMITS: HttpLimits = { readHeaderTimeoutMs: 10_000, readTimeoutMs: 10_000, idleTimeoutMs: 30_000, maxConnections: 64 };

export class TelemetryServer {
  private server: Server | undefined;
  private tls: ServerTls | undefined;
  private auth: ServerAuthenticator | undefined;
  private readonly routes = new Map<string, Route>();
  private readonly metrics: SecurityMetrics;
  private readonly logger: Logger;
  private readonly keyPath: string;

  constructor(
    private readonly endpoint: string,
    telemetry: Telemetry,
    private readonly options: TelemetryServerOptions = {},
  ) {
    this.metrics = new SecurityMetrics(telemetry);
    this.logger = options.logger ?? silentLogger();
    this.keyPath = options.keyPath ?? 'service.telemetry.metrics';
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

  /** `host` gives access to the authenticator extension when `auth` is set. */
  async start(host?: Pick<Host, 'getExtension'>): Promise<void> {
    const { tls, auth } = this.options;
    if (auth) {
      if (!host) throw new Error(`${this.keyPath}.auth needs the service's extensions`);
      this.auth = resolveAuthenticator(host, auth, `${this.keyPath}.auth`);
    }
    if (tls) {
      this.tls = new ServerTls(tls, `${this.keyPath}.tls`, this.logger);
      this.tls.load();
    }
    const server = createHardenedServer((req, res) => this.serve(req, res), {
      limits: TELEMETRY_LIMITS,
      tls: this.tls,
      server: 'telemetry',
      transport: 'http',
      metrics: this.metrics,
      logger: this.logger,
    });
    const { host: h, port } = splitHostPort(this.endpoint);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, h, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    await this.tls?.start();
    warnIfExposed(this.logger, this.keyPath, this.endpoint, { tls: this.tls !== undefined, auth: this.auth !== undefined });
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    if (this.auth) {
      const outcome = this.auth.authenticate(httpHeaders(req));
      if (!outcome.ok) {
        this.metrics.refusedRequests.inc({ server: 'telemetry', transport: 'http', reason: 'unauthenticated' });
        refuseUnauthenticated(res, this.auth, outcome);
        return;
      }
    }
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
  }

  address(): string {
    const a = this.server?.address() as AddressInfo | null | undefined;
    return a ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : this.endpoint;
  }

  /** The URL of a route, with the right scheme. */
  url(path = '/metrics'): string {
    return `${this.options.tls ? 'https' : 'http'}://${this.address()}${path}`;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.tls?.stop();
    if (!s) return;
    this.server = undefined;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
