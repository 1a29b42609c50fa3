// The `health_check` extension, like the Collector's: an HTTP endpoint that
// answers 200 while the service is serving and 503 while it is starting or
// stopping, so orchestrators route traffic and restart on facts.
// Unauthenticated by default (kubelet probes carry no token; the answer holds
// no data beyond up/down), with optional TLS and bearer-token auth like every
// Vigil server, timeouts against slow clients and a small connection cap.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Extension, ExtensionFactory, Host } from '../../pipeline/component.js';
import { splitHostPort } from '../../config/units.js';
import { type ServerAuthenticator, httpHeaders, refuseUnauthenticated, resolveAuthenticator } from '../../security/auth.js';
import { type HttpLimits, createHardenedServer } from '../../security/http-server.js';
import { SecurityMetrics } from '../../security/metrics.js';
import { ServerTls } from '../../security/tls.js';
import { type Logger, silentLogger } from '../../telemetry/logger.js';
import type { Telemetry } from '../../telemetry/metrics.js';
import { type HealthCheckConfig, healthCheckConfigSchema } from './config.js';

/** Probes are tiny and few. */
export const HEALTH_LIMITS: HttpLimits = { readHeaderTimeoutMs: 5_000, readTimeoutMs: 5_000, idleTimeoutMs: 30_000, maxConnections: 64 };

export class HealthCheckExtension implements Extension {
  private server: Server | undefined;
  private host: Host | undefined;
  private tls: ServerTls | undefined;
  private auth: ServerAuthenticator | undefined;
  private readonly startedAt = Date.now();
  private readonly metrics: SecurityMetrics;

  constructor(
    private readonly config: HealthCheckConfig,
    private readonly id = 'health_check',
    private readonly logger: Logger = silentLogger(),
    telemetry?: Telemetry,
  ) {
    this.metrics = new SecurityMetrics(telemetry);
  }

  describe(): string[] {
    const extras = [this.tls?.describe(), this.auth ? 'bearer auth' : undefined].filter((e) => e !== undefined);
    return [`health ${this.config.tls ? 'https' : 'http'}://${this.address()}${this.config.path}${extras.length > 0 ? ` (${extras.join(', ')})` : ''}`];
  }

  address(): string {
    const a = this.server?.address() as AddressInfo | null | undefined;
    return a ? `${a.address}:${a.port}` : this.config.endpoint;
  }

  async start(host: Host): Promise<void> {
    this.host = host;
    const key = `extensions.${this.id}`;
    if (this.config.auth) this.auth = resolveAuthenticator(host, this.config.auth, `${key}.auth`);
    if (this.config.tls) {
      this.tls = new ServerTls(this.config.tls, `${key}.tls`, this.logger);
      this.tls.load();
    }
    const { host: h, port } = splitHostPort(this.config.endpoint);
    const server = createHardenedServer((req, res) => this.serve(req, res), {
      limits: HEALTH_LIMITS,
      tls: this.tls,
      server: this.id,
      transport: 'http',
      metrics: this.metrics,
      logger: this.logger,
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`health_check cannot listen on ${this.config.endpoint}: ${err.message}`)));
      server.listen(port, h, () => resolve());
    });
    this.server = server;
    await this.tls?.start();
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    if (this.auth) {
      const outcome = this.auth.authenticate(httpHeaders(req));
      if (!outcome.ok) {
        this.metrics.refusedRequests.inc({ server: this.id, transport: 'http', reason: 'unauthenticated' });
        refuseUnauthenticated(res, this.auth, outcome);
        return;
      }
    }
    if ((req.url ?? '/').split('?')[0] !== this.config.path) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    // The service becomes ready only after every component started, i.e. after this extension.
    const state = this.host?.state ?? 'starting';
    const ok = state === 'ready';
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(
      JSON.stringify({
        status: ok ? 'Server available' : 'Server not available',
        state,
        upSince: new Date(this.startedAt).toISOString(),
        uptime: `${Math.round((Date.now() - this.startedAt) / 1000)}s`,
      }),
    );
  }

  async shutdown(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    this.tls?.stop();
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

export const healthCheckExtensionFactory: ExtensionFactory<HealthCheckConfig> = {
  kind: 'extension',
  type: 'health_check',
  configSchema: healthCheckConfigSchema,
  create: (config, ctx) => new HealthCheckExtension(config, ctx.id, ctx.logger, ctx.telemetry),
};
