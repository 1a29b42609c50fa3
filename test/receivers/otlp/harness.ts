// A real Vigil pipeline for receiver tests: the otlp receiver on free ports in
// front of a `test_gate` processor and the real `file` exporter writing to a
// temp file, read back as OTLP JSON lines.
//
// `test_gate` is a real (tiny) processor: while `refusal` is set it refuses
// every batch with it, and while `hold` is set it keeps batches until released
// (for shutdown tests). Refusing in a processor, before the fan-out, means a
// refused batch reaches no exporter: "nothing stored" is checkable.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { validateConfig } from '../../../src/config/load.js';
import { fileExporterFactory } from '../../../src/exporters/file/file.js';
import { requestToBatch } from '../../../src/otlp/convert.js';
import { decodeJsonRequest } from '../../../src/otlp/json.js';
import type { AnyFactory, Processor, ProcessorFactory } from '../../../src/pipeline/component.js';
import type { Refusal } from '../../../src/pipeline/errors.js';
import type { LogBatch } from '../../../src/pipeline/record.js';
import { Service } from '../../../src/pipeline/service.js';
import { otlpReceiverFactory, type OtlpReceiver } from '../../../src/receivers/otlp/otlp.js';
import { type Logger, silentLogger } from '../../../src/telemetry/logger.js';
import { Telemetry } from '../../../src/telemetry/metrics.js';

export class GateProcessor implements Processor {
  refusal: Refusal | undefined;
  private held: { release: () => void; promise: Promise<void> } | undefined;
  /** Batches that reached the gate (whether passed, held or refused). */
  arrived = 0;

  process(batch: LogBatch): Promise<LogBatch> | LogBatch {
    this.arrived++;
    if (this.refusal) throw this.refusal;
    if (this.held) return this.held.promise.then(() => batch);
    return batch;
  }

  /** From now on batches wait at the gate until release(). */
  hold(): void {
    let release!: () => void;
    const promise = new Promise<void>((r) => (release = r));
    this.held = { release, promise };
  }

  release(): void {
    this.held?.release();
    this.held = undefined;
  }
}

export const gateFactory: ProcessorFactory<Record<string, never>> = {
  kind: 'processor',
  type: 'test_gate',
  configSchema: z.object({}).strict(),
  create: () => new GateProcessor(),
};

/** Only what these tests need, so that other components' work in progress cannot break them. */
export const registry = new Map<string, AnyFactory>(
  [otlpReceiverFactory, fileExporterFactory, gateFactory].map((f) => [`${f.kind}:${f.type}`, f as AnyFactory]),
);

export interface Harness {
  service: Service;
  receiver: OtlpReceiver;
  gate: GateProcessor;
  telemetry: Telemetry;
  /** host:port of OTLP/gRPC. */
  grpc: string;
  /** http://host:port of OTLP/HTTP (without the path). */
  http: string;
  filePath: string;
  /** Every record the file exporter stored so far. */
  stored(): LogBatch;
  /** The receiver's accepted / refused counters for a transport. */
  counted(transport: 'grpc' | 'http'): Promise<{ accepted: number; refused: number }>;
  stop(): Promise<boolean>;
}

export async function startHarness(
  dir: string,
  opts: { grpc?: Record<string, unknown> | null; http?: Record<string, unknown> | null; shutdownTimeout?: string; logger?: Logger } = {},
): Promise<Harness> {
  const filePath = join(dir, `archive-${Math.random().toString(36).slice(2)}.jsonl`);
  const protocols: Record<string, unknown> = {};
  if (opts.grpc !== null) protocols.grpc = { endpoint: '127.0.0.1:0', ...opts.grpc };
  if (opts.http !== null) protocols.http = { endpoint: '127.0.0.1:0', ...opts.http };
  const config = validateConfig(
    {
      receivers: { otlp: { protocols } },
      processors: { test_gate: {} },
      exporters: { file: { path: filePath } },
      service: {
        telemetry: { metrics: { address: null } },
        shutdown_timeout: opts.shutdownTimeout ?? '20s',
        pipelines: { logs: { receivers: ['otlp'], processors: ['test_gate'], exporters: ['file'] } },
      },
    },
    registry,
  );
  const telemetry = new Telemetry({ processMetrics: false });
  const service = await Service.build(config, opts.logger ?? silentLogger(), telemetry);
  await service.start();
  const receiver = service.receivers[0].instance as OtlpReceiver;
  const gate = service.processors[0].instance as GateProcessor;
  const value = async (metric: 'receiverAccepted' | 'receiverRefused', transport: string) => {
    const m = await telemetry[metric].get();
    return m.values.find((v) => v.labels.transport === transport && v.labels.receiver === 'otlp')?.value ?? 0;
  };
  return {
    service,
    receiver,
    gate,
    telemetry,
    grpc: receiver.grpcAddress() ?? '',
    http: receiver.httpAddress() ? `http://${receiver.httpAddress()}` : '',
    filePath,
    stored: () => readStored(filePath),
    counted: async (t) => ({ accepted: await value('receiverAccepted', t), refused: await value('receiverRefused', t) }),
    stop: () => service.shutdown(),
  };
}

/** The records in an OTLP JSON lines file (one ExportLogsServiceRequest per line). */
export function readStored(path: string): LogBatch {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .flatMap((line) => requestToBatch(decodeJsonRequest(line).request).records);
}
