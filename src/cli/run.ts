// `vigil run`: the sidecar. Loads and validates the config (exit 2 on any
// problem), starts extensions, exporters, processors and receivers, prints where
// it listens and stores, and on SIGTERM/SIGINT drains and exits 0.
import type { Command } from 'commander';
import { defaultRegistry } from '../components.js';
import { ConfigError } from '../config/errors.js';
import { loadConfig, type VigilConfig } from '../config/load.js';
import { Service } from '../pipeline/service.js';
import { createLogger } from '../telemetry/logger.js';
import { Telemetry } from '../telemetry/metrics.js';
import { TelemetryServer } from '../telemetry/server.js';
import { mountStatusPage } from '../telemetry/status/routes.js';
import { StatusState } from '../telemetry/status/state.js';

export interface RunningVigil {
  service: Service;
  telemetryServer: TelemetryServer | undefined;
  /** The status page's state (service.telemetry.status_page), when the telemetry server runs. */
  status: StatusState | undefined;
  stop(): Promise<boolean>;
}

/** Starts Vigil in this process from a config path (undefined = the embedded default). */
export async function startVigil(configPath: string | undefined): Promise<RunningVigil> {
  return startVigilWithConfig(loadConfig(configPath, defaultRegistry()));
}

/** Starts Vigil in this process from a validated config (the demo builds its own). */
export async function startVigilWithConfig(config: VigilConfig): Promise<RunningVigil> {
  const logger = createLogger(config.service.telemetry.logs.level);
  const telemetry = new Telemetry();
  const service = await Service.build(config, logger, telemetry);
  const metrics = config.service.telemetry.metrics;
  const addr = metrics.address;
  const telemetryServer =
    addr && metrics.level !== 'none'
      ? new TelemetryServer(addr, telemetry, { tls: metrics.tls, auth: metrics.auth, logger: logger.child({ component: 'telemetry' }) })
      : undefined;
  const status = telemetryServer && config.service.telemetry.status_page ? new StatusState(service, telemetry) : undefined;
  if (telemetryServer && status) mountStatusPage(telemetryServer, status);
  await service.start();
  try {
    await telemetryServer?.start(service);
    status?.start();
  } catch (err) {
    status?.stop();
    await service.shutdown();
    if (err instanceof ConfigError) throw err;
    throw new Error(`cannot serve metrics on ${addr}: ${(err as Error).message} (set service.telemetry.metrics.address)`);
  }
  logger.info({ config: config.source }, 'vigil started');
  return {
    service,
    telemetryServer,
    status,
    async stop() {
      const clean = await service.shutdown();
      status?.stop();
      await telemetryServer?.stop();
      logger.info({ clean }, 'vigil stopped');
      return clean;
    },
  };
}

function banner(v: RunningVigil): string {
  const lines = [`vigil ready (config: ${v.service.config.source})`];
  for (const r of v.service.receivers) for (const d of r.instance.describe?.() ?? [r.id]) lines.push(`  receiving  ${d}`);
  for (const e of v.service.exporters) for (const d of e.instance.describe?.() ?? [e.id]) lines.push(`  exporting  ${d}`);
  for (const x of v.service.extensions) for (const d of x.instance.describe?.() ?? []) lines.push(`  serving    ${d}`);
  if (v.telemetryServer) lines.push(`  metrics    ${v.telemetryServer.url('/metrics')}`);
  if (v.telemetryServer && v.status) lines.push(`  status     ${v.telemetryServer.url('/')}`);
  return `${lines.join('\n')}\n`;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the sidecar: receive OTLP logs, enrich, score, archive and forward them')
    .option('-c, --config <file>', 'Collector-style YAML config (default: the embedded default config)')
    .addHelpText(
      'after',
      `
With no --config, Vigil runs on its embedded default: OTLP/gRPC on 127.0.0.1:4317,
OTLP/HTTP on 127.0.0.1:4318, a durable local archive under ./vigil-data/, no downstream.
Config values may use \${env:NAME} and \${env:NAME:-default}.

Examples:
  vigil run
  vigil run --config examples/collector/vigil.yaml
  S3_ENDPOINT=http://127.0.0.1:7480 vigil run -c vigil.yaml`,
    )
    .action(async (opts: { config?: string }) => {
      const vigil = await startVigil(opts.config);
      await new Promise<void>((resolve) => {
        let stopping = false;
        const onSignal = (sig: NodeJS.Signals) => {
          if (stopping) {
            process.stderr.write(`vigil: second ${sig}, exiting without draining\n`);
            process.exit(1);
          }
          stopping = true;
          vigil
            .stop()
            .then((clean) => {
              process.exitCode = clean ? 0 : 1;
            })
            .catch(() => {
              process.exitCode = 1;
            })
            .finally(resolve);
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
        // Only now: whoever waits for the banner may signal at once, and must find the handlers in place.
        process.stdout.write(banner(vigil));
      });
    });
}
