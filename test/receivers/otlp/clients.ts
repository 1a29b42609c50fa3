// Plain clients for hand-made requests: a raw grpc-js unary call (bytes in,
// status and trailers out) and fetch for OTLP/HTTP; plus a request that
// exercises every field of the OTLP logs schema.
import * as grpc from '@grpc/grpc-js';
import Long from 'long';
import type { ExportRequestMessage } from '../../../src/otlp/convert.js';
import { EXPORT_METHOD_PATH } from '../../../src/otlp/schema.js';

export interface GrpcOutcome {
  code: grpc.status;
  details: string;
  /** Trailers (error) or empty metadata (success). */
  metadata: grpc.Metadata;
  response?: Buffer;
}

const identity = (b: Buffer) => b;

/** Per call: a multi-megabyte request that Vigil enriches before acknowledging took tens of seconds on a loaded machine. */
const CALL_DEADLINE_MS = 120_000;

/** A gRPC client whose connection stays open between sends (grpcExport opens one per call). */
export function grpcSession(address: string, opts: { gzip?: boolean } = {}): { send(body: Uint8Array, metadata?: Record<string, string>): Promise<GrpcOutcome>; close(): void } {
  const channelOptions: grpc.ChannelOptions = { 'grpc.max_send_message_length': -1 };
  if (opts.gzip) channelOptions['grpc.default_compression_algorithm'] = 2; // gzip
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), channelOptions);
  return {
    send: (body, metadata = {}) => {
      const md = new grpc.Metadata();
      for (const [k, v] of Object.entries(metadata)) md.set(k, v);
      return new Promise<GrpcOutcome>((resolve) => {
        client.makeUnaryRequest(EXPORT_METHOD_PATH, identity, identity, Buffer.from(body), md, { deadline: Date.now() + CALL_DEADLINE_MS }, (err, response) => {
          if (err) resolve({ code: err.code, details: err.details, metadata: err.metadata });
          else resolve({ code: grpc.status.OK, details: '', metadata: new grpc.Metadata(), response });
        });
      });
    },
    close: () => client.close(),
  };
}

export async function grpcExport(
  address: string,
  body: Uint8Array,
  opts: { gzip?: boolean; metadata?: Record<string, string> } = {},
): Promise<GrpcOutcome> {
  const session = grpcSession(address, opts);
  try {
    return await session.send(body, opts.metadata);
  } finally {
    session.close();
  }
}

/** Sends one request over gRPC and fails unless it was acknowledged (OK). */
export async function grpcExportOk(address: string, body: Uint8Array): Promise<void> {
  const r = await grpcExport(address, body);
  if (r.code !== grpc.status.OK) throw new Error(`export refused: ${grpc.status[r.code]} ${r.details}`);
}

export interface HttpOutcome {
  status: number;
  headers: Headers;
  body: Buffer;
}

export async function httpPost(url: string, body: Uint8Array | string, headers: Record<string, string>, method = 'POST'): Promise<HttpOutcome> {
  const res = await fetch(url, { method, headers, body: method === 'GET' || method === 'HEAD' ? undefined : body });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

const bytes = (...xs: number[]) => Uint8Array.from(xs);

/** A request with every field of the logs schema set, in every AnyValue kind. */
export function fullRequest(): ExportRequestMessage {
  const everyKind = [
    { key: 'str', value: { stringValue: 'héllo ✓' } },
    { key: 'bool', value: { boolValue: true } },
    { key: 'int', value: { intValue: Long.fromString('-9007199254740993') } },
    { key: 'double', value: { doubleValue: 3.25 } },
    { key: 'array', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: Long.fromNumber(7) }, { boolValue: false }] } } },
    {
      key: 'kvlist',
      value: { kvlistValue: { values: [{ key: 'nested', value: { kvlistValue: { values: [{ key: 'deep', value: { doubleValue: -0.5 } }] } } }] } },
    },
    { key: 'bytes', value: { bytesValue: bytes(0, 1, 2, 254, 255) } },
    { key: 'empty', value: {} },
  ];
  return {
    resourceLogs: [
      {
        resource: {
          attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }, ...everyKind],
          droppedAttributesCount: 3,
          entityRefs: [
            { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0', type: 'service', idKeys: ['service.name'], descriptionKeys: ['service.version'] },
          ],
        },
        schemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
        scopeLogs: [
          {
            scope: { name: 'io.vigil.test', version: '2.1.0', attributes: [{ key: 'scope.attr', value: { stringValue: 'x' } }], droppedAttributesCount: 1 },
            schemaUrl: 'https://opentelemetry.io/schemas/1.29.0',
            logRecords: [
              {
                timeUnixNano: Long.fromString('1764115200123456789', true),
                observedTimeUnixNano: Long.fromString('1764115200223456789', true),
                severityNumber: 17,
                severityText: 'ERROR',
                body: { kvlistValue: { values: [{ key: 'msg', value: { stringValue: 'payment failed' } }, { key: 'list', value: { arrayValue: { values: [{ doubleValue: 1.5 }] } } }] } },
                attributes: everyKind,
                droppedAttributesCount: 2,
                flags: 1,
                traceId: bytes(...Array.from({ length: 16 }, (_, i) => i + 1)),
                spanId: bytes(...Array.from({ length: 8 }, (_, i) => 0xa0 + i)),
                eventName: 'payment.failed',
              },
              {
                timeUnixNano: Long.fromString('1764115200323456789', true),
                severityNumber: 9,
                body: { bytesValue: bytes(0xde, 0xad, 0xbe, 0xef) },
                attributes: [],
              },
            ],
          },
          { scope: { name: 'second-scope' }, logRecords: [{ body: { stringValue: 'plain line' }, attributes: [] }] },
        ],
      },
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'other' } }] },
        scopeLogs: [{ scope: {}, logRecords: [{ body: { intValue: Long.fromNumber(42) }, attributes: [], severityText: 'INFO' }] }],
      },
    ],
  };
}
