// A real Vigil pipeline with the security parts on: the otlp receiver (TLS,
// auth, limits as the test configures) with extensions (bearertokenauth,
// health_check) → the test_gate processor → the real file exporter.
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { validateConfig } from '../../src/config/load.js';
import { fileExporterFactory } from '../../src/exporters/file/file.js';
import { bearerTokenAuthExtensionFactory } from '../../src/extensions/bearertokenauth/bearertokenauth.js';
import { healthCheckExtensionFactory } from '../../src/extensions/health_check/health_check.js';
import type { AnyFactory } from '../../src/pipeline/component.js';
import type { LogBatch } from '../../src/pipeline/record.js';
import { Service } from '../../src/pipeline/service.js';
import { otlpReceiverFactory, type OtlpReceiver } from '../../src/receivers/otlp/otlp.js';
import { type Logger, silentLogger } from '../../src/telemetry/logger.js';
import { Telemetry } from '../../src/telemetry/metrics.js';
import { type GateProcessor, gateFactory, readStored } from '../receivers/otlp/harness.js';

export const registry = new Map<string, AnyFactory>(
  [otlpReceiverFactory, fileExporterFactory, gateFactory, bearerTokenAuthExtensionFactory, healthCheckExtensionFactory].map((f) => [
    `${f.kind}:${f.type}`,
    f as AnyFactory,
  ]),
);

export interface Secured {
  service: Service;
  receiver: OtlpReceiver;
  gate: GateProcessor;
  telemetry: Telemetry;
  /** host:port of OTLP/gRPC. */
  grpc: string;
  /** host:port of OTLP/HTTP. */
  http: string;
  stored(): LogBatch;
  /** A counter's value for the given labels (0 when never incremented). */
  metric(name: string, labels: Record<string, string>): Promise<number>;
  stop(): Promise<boolean>;
}

export async function startSecured(
  dir: string,
  opts: {
    grpc?: Record<string, unknown> | null;
    http?: Record<string, unknown> | null;
    extensions?: Record<string, unknown>;
    /** Receiver-level settings beside protocols (max_inflight_bytes). */
    receiver?: Record<string, unknown>;
    logger?: Logger;
  } = {},
): Promise<Secured> {
  const filePath = join(dir, `archive-${Math.random().toString(36).slice(2)}.jsonl`);
  const protocols: Record<string, unknown> = {};
  if (opts.grpc !== null) protocols.grpc = { endpoint: '127.0.0.1:0', ...opts.grpc };
  if (opts.http !== null) protocols.http = { endpoint: '127.0.0.1:0', ...opts.http };
  const extensions = opts.extensions ?? {};
  const config = validateConfig(
    {
      receivers: { otlp: { ...opts.receiver, protocols } },
      processors: { test_gate: {} },
      exporters: { file: { path: filePath } },
      extensions,
      service: {
        extensions: Object.keys(extensions),
        telemetry: { metrics: { address: null } },
        shutdown_timeout: '10s',
        pipelines: { logs: { receivers: ['otlp'], processors: ['test_gate'], exporters: ['file'] } },
      },
    },
    registry,
  );
  const telemetry = new Telemetry({ processMetrics: false });
  const service = await Service.build(config, opts.logger ?? silentLogger(), telemetry);
  await service.start();
  const receiver = service.receivers[0].instance as OtlpReceiver;
  return {
    service,
    receiver,
    gate: service.processors[0].instance as GateProcessor,
    telemetry,
    grpc: receiver.grpcAddress() ?? '',
    http: receiver.httpAddress() ?? '',
    stored: () => readStored(filePath),
    metric: async (name, labels) => {
      const m = telemetry.registry.getSingleMetric(name);
      if (!m) return 0;
      const values = (await m.get()).values;
      return values.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))?.value ?? 0;
    },
    stop: () => service.shutdown(),
  };
}

/** Collects pino JSON lines written to it, for tests that check what was logged. */
export function logLines(): { logger: Logger; lines: Record<string, unknown>[]; text: () => string } {
  const lines: Record<string, unknown>[] = [];
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      const s = chunk.toString();
      chunks.push(s);
      for (const l of s.split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'debug', formatters: { level: (label) => ({ level: label }) } }, sink);
  return { lines, text: () => chunks.join(''), logger };
}
