// Starts Vigil in this process: extensions, exporters, processors, receivers,
// the telemetry server and status page; stop() drains in order. Shared by
// `vigil run` and `vigil demo`.
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
