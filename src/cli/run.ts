// `vigil run`: the sidecar. Loads and validates the config (exit 2 on any
// problem), starts extensions, exporters, processors and receivers, prints where
// it listens and stores, and on SIGTERM/SIGINT drains and exits 0 (1 when the
// drain could not finish before service.shutdown_timeout).
import type { Command } from 'commander';
import { defaultRegistry } from '../components.js';
import { ConfigError } from '../config/errors.js';
import { type ConfigSources, loadConfig, type VigilConfig } from '../config/load.js';
import { Service } from '../pipeline/service.js';
import { createLogger } from '../telemetry/logger.js';
import { Telemetry } from '../telemetry/metrics.js';
import { TelemetryServer } from '../telemetry/server.js';
import { mountStatusPage } from '../telemetry/status/routes.js';
import { StatusState } from '../telemetry/status/state.js';
import { preflight } from '../config/preflight.js';
import { addConfigOptions, type ConfigCliOptions, configSources } from './config-options.js';
import { explainStartError } from './start-errors.js';

export interface RunningVigil {
  service: Service;
  telemetryServer: TelemetryServer | undefined;
  /** The status page's state (service.telemetry.status_page), when the telemetry server runs. */
  status: StatusState | undefined;
  stop(): Promise<boolean>;
}

/** Starts Vigil in this process from a config path, several, or sources with --set (undefined = the embedded default). */
export async function startVigil(from: string | readonly string[] | ConfigSources | undefined): Promise<RunningVigil> {
  return startVigilWithConfig(loadConfig(from, defaultRegistry()));
}

/** Starts Vigil in this process from a validated config (the demo builds its own). */
export async function startVigilWithConfig(config: VigilConfig): Promise<RunningVigil> {
  const logs = config.service.telemetry.logs;
  const logger = createLogger(logs.level, logs.encoding);
  for (const w of config.warnings) logger.warn({ key: w.path }, w.message);
  const telemetry = new Telemetry();
  preflight(config);
  let service: Service;
  try {
    service = await Service.build(config, logger, telemetry);
  } catch (err) {
    throw explainStartError(err, config);
  }
  const metrics = config.service.telemetry.metrics;
  const addr = metrics.address;
  const telemetryServer =
    addr && metrics.level !== 'none'
      ? new TelemetryServer(addr, telemetry, { tls: metrics.tls, auth: metrics.auth, logger: logger.child({ component: 'telemetry' }) })
      : undefined;
  const status = telemetryServer && config.service.telemetry.status_page ? new StatusState(service, telemetry) : undefined;
  if (telemetryServer && status) mountStatusPage(telemetryServer, status);
  try {
    await service.start();
  } catch (err) {
    throw explainStartError(err, config);
  }
  try {
    await telemetryServer?.start(service);
    status?.start();
  } catch (err) {
    status?.stop();
    await service.shutdown();
    if (err instanceof ConfigError) throw err;
    const explained = explainStartError(err, config);
    if (explained !== err) throw explained;
    throw new Error(`cannot serve metrics on ${addr}: ${(err as Error).message} (set service.telemetry.metrics.address)`);
  }
  logger.info({ config: config.source }, 'vigil started');
  return {
    service,
    telemetryServer,
    status,
    async stop() {
      logger.info(drainPlan(service), 'shutting down: draining');
      const clean = await service.shutdown();
      status?.stop();
      await telemetryServer?.stop();
      if (clean) logger.info({ clean }, 'vigil stopped');
      else logger.error({ clean, exit_code: 1 }, 'vigil stopped before the drain finished (see the errors above; raise service.shutdown_timeout if it ran out)');
      return clean;
    },
  };
}

/** What shutdown waits for, in order, for the "draining" log line. */
export function drainPlan(service: Service): Record<string, unknown> {
  const ids = (xs: { id: string }[]) => xs.map((x) => x.id);
  return {
    deadline_ms: service.config.service.shutdown_timeout,
    waits_for: {
      receivers: `${ids(service.receivers).join(', ') || 'none'}: stop accepting, answer requests in flight`,
      processors: `${ids(service.processors).join(', ') || 'none'}: finish batches in flight`,
      exporters: `${ids(service.exporters).join(', ') || 'none'}: flush and sync what they accepted (an archive seals its open segment)`,
      extensions: ids(service.extensions).join(', ') || 'none',
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
  const cmd = program.command('run').description('run the sidecar: receive OTLP logs, enrich, score, archive and forward them');
  addConfigOptions(cmd, 'Collector-style YAML config')
    .addHelpText(
      'after',
      `
With no --config, Vigil runs on its embedded default: OTLP/gRPC on 127.0.0.1:4317,
OTLP/HTTP on 127.0.0.1:4318, a durable local archive under ./vigil-data/, no downstream.
Config values may use \${NAME}, \${env:NAME} and \${env:NAME:-default}.

On SIGTERM or SIGINT Vigil stops accepting, drains (seals the archive's open
segment, syncs queues) and exits. Exit status: 0 stopped cleanly, 1 a failure at
run time or a drain that could not finish within service.shutdown_timeout,
2 an invalid config or usage error. A second signal exits at once (status 1).

Examples:
  npx vigil run
  npx vigil run --config examples/collector/vigil.yaml
  npx vigil run --config base.yaml --config prod.yaml --set service::telemetry::logs::level=debug
  S3_ENDPOINT=http://127.0.0.1:7480 npx vigil run -c vigil.yaml`,
    )
    .action(async (opts: ConfigCliOptions) => {
      const vigil = await startVigil(configSources(opts));
      // A sidecar runs until it is signalled, even when nothing else holds the event loop
      // (a config without receivers or metrics server would otherwise exit at once, undrained).
      const keepAlive = setInterval(() => undefined, 2 ** 30);
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
            .finally(() => {
              clearInterval(keepAlive);
              resolve();
            });
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
        // Only now: whoever waits for the banner may signal at once, and must find the handlers in place.
        process.stdout.write(banner(vigil));
      });
    });
}
