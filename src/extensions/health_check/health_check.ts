// The `health_check` extension, like the Collector's: an HTTP endpoint that
// answers 200 while the service is serving and 503 while it is starting or
// stopping, so orchestrators route traffic and restart on facts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { Extension, ExtensionFactory, Host } from '../../pipeline/component.js';
import { hostPort, splitHostPort } from '../../config/units.js';

export const healthCheckConfigSchema = z
  .object({
    endpoint: hostPort().default('127.0.0.1:13133'),
    path: z.string().startsWith('/', 'path must start with /').default('/'),
  })
  .strict();
export type HealthCheckConfig = z.infer<typeof healthCheckConfigSchema>;

export class HealthCheckExtension implements Extension {
  private server: Server | undefined;
  private host: Host | undefined;
  private readonly startedAt = Date.now();

  constructor(private readonly config: HealthCheckConfig) {}

  describe(): string[] {
    return [`health http://${this.address()}${this.config.path}`];
  }

  address(): string {
    const a = this.server?.address() as AddressInfo | null | undefined;
    return a ? `${a.address}:${a.port}` : this.config.endpoint;
  }

  async start(host: Host): Promise<void> {
    this.host = host;
    const { host: h, port } = splitHostPort(this.config.endpoint);
    const server = createServer((req, res) => {
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
    });
    server.requestTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`health_check cannot listen on ${this.config.endpoint}: ${err.message}`)));
      server.listen(port, h, () => resolve());
    });
    this.server = server;
  }

  async shutdown(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

export const healthCheckExtensionFactory: ExtensionFactory<HealthCheckConfig> = {
  kind: 'extension',
  type: 'health_check',
  configSchema: healthCheckConfigSchema,
  create: (config) => new HealthCheckExtension(config),
};
