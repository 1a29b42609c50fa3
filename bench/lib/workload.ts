// Realistic access-log requests for benchmarks: 512-record ExportLogsServiceRequests
// shaped like what an instrumented web service sends (semconv attributes and a
// Combined Log Format body), with a spread of users, addresses, routes and statuses.
import { hash } from 'node:crypto';
import Long from 'long';
import type { ExportRequestMessage } from '../../src/otlp/convert.js';
import { decodeProtobufRequest, encodeProtobufRequest } from '../../src/otlp/convert.js';

// The records themselves come from the reliability harness, which the soak and the tests share.
export { accessLogRecord, rng } from '../../test/helpers/harness/access-log.js';
import { accessLogRecord, rng, s } from '../../test/helpers/harness/access-log.js';

export function accessLogRequest(records: number, seed: number, startMs = Date.UTC(2026, 10, 1)): ExportRequestMessage {
  const r = rng(seed);
  return {
    resourceLogs: [
      {
        resource: { attributes: [s('service.name', 'shop-frontend'), s('deployment.environment.name', 'production'), s('host.name', 'web-7')] },
        schemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
        scopeLogs: [
          {
            scope: { name: 'access-log', version: '1.0.0' },
            logRecords: Array.from({ length: records }, (_, k) => accessLogRecord(r, startMs + k * 10)),
          },
        ],
      },
    ],
  };
}

/** Distinct encoded requests to cycle through (so no layer can cache one answer). */
export function encodedRequests(count: number, recordsPerRequest = 512): Uint8Array[] {
  return Array.from({ length: count }, (_, k) => encodeProtobufRequest(accessLogRequest(recordsPerRequest, k + 1, Date.UTC(2026, 10, 1) + k * 60_000)));
}

/**
 * The Node ceiling's work on one request, the reference the spine's targets are
 * set against: protobufjs decode + encode + SHA-256 of the request as received.
 */
export function ceilingWork(request: Uint8Array): void {
  hash('sha256', encodeProtobufRequest(decodeProtobufRequest(request)));
}

export { Long };
