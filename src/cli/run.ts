// `vigil run`: the sidecar. Loads and validates the config (exit 2 on any
// problem), starts extensions, exporters, processors and receivers, prints where
// it listens and stores, and on SIGTERM/SIGINT drains and exits 0 (1 when the
// drain could not finish before service.shutdown_timeout).
import type { Command } from 'commander';
import { addConfigOptions, type ConfigCliOptions, configSources } from './config-options.js';
import { compactHeapAfterStart, IdleHeapCompactor } from '../util/compact-heap.js';
import { type RunningVigil, startVigil } from './start.js';

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
      // Return what start-up grew the heap to before going idle, and later what a burst left (see compact-heap.ts).
      compactHeapAfterStart();
      const compactor = new IdleHeapCompactor();
      compactor.start();
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
          compactor.stop();
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
