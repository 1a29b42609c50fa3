// Factories of the `otlp_grpc` and `otlp_http` exporters.
import type { ExporterFactory } from '../../pipeline/component.js';
import type { LogBatch } from '../../pipeline/record.js';
import { batchToRequest, encodeBatchProtobuf, requestToBatch } from '../../otlp/convert.js';
import { decodeProtobufBatch } from '../../otlp/wire-decode.js';
import { decodeJsonRequest, encodeJsonRequestBytes } from '../../otlp/json.js';
import { type OtlpGrpcConfig, type OtlpHttpConfig, otlpGrpcConfigSchema, otlpHttpConfigSchema } from './config.js';
import { OtlpExporter } from './exporter.js';
import { GrpcSender } from './grpc.js';
import { HttpSender } from './http.js';

const encodeJson = (batch: LogBatch): Uint8Array => encodeJsonRequestBytes(batchToRequest(batch));
const decodeJson = (payload: Uint8Array): LogBatch => requestToBatch(decodeJsonRequest(Buffer.from(payload).toString('utf8')).request).records;
const decodeProtobuf = (payload: Uint8Array): LogBatch => decodeProtobufBatch(payload).records;

export const otlpGrpcExporterFactory: ExporterFactory<OtlpGrpcConfig> = {
  kind: 'exporter',
  type: 'otlp_grpc',
  mutatesData: false,
  configSchema: otlpGrpcConfigSchema,
  create: (config, ctx) =>
    new OtlpExporter({
      id: ctx.id,
      config,
      sender: new GrpcSender(ctx.id, config),
      encode: encodeBatchProtobuf,
      decode: decodeProtobuf,
      logger: ctx.logger,
      telemetry: ctx.telemetry,
    }),
};

export const otlpHttpExporterFactory: ExporterFactory<OtlpHttpConfig> = {
  kind: 'exporter',
  type: 'otlp_http',
  mutatesData: false,
  configSchema: otlpHttpConfigSchema,
  create: (config, ctx) =>
    new OtlpExporter({
      id: ctx.id,
      config,
      sender: new HttpSender(ctx.id, config),
      encode: config.encoding === 'json' ? encodeJson : encodeBatchProtobuf,
      decode: config.encoding === 'json' ? decodeJson : decodeProtobuf,
      logger: ctx.logger,
      telemetry: ctx.telemetry,
    }),
};
