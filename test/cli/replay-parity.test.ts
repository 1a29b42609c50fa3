// Live and replay are the same code: records sent to a running `vigil run` over
// OTLP/gRPC, and the same records given to `vigil replay` as an OTLP JSON line,
// come out with identical attributes (audit.ingested_at aside), bodies and times.
// The records are made by the official OpenTelemetry logs SDK and its gRPC
// exporter (captured once by a test gRPC server, then sent byte for byte).
import * as grpc from '@grpc/grpc-js';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchToRequest, decodeProtobufRequest, encodeProtobufRequest } from '../../src/otlp/convert.js';
import { encodeJsonRequest, logRecordJsonText } from '../../src/otlp/json.js';
import type { LogRecord } from '../../src/pipeline/record.js';
import { startVigilProcess, vigilSync, listening } from '../helpers/cli.js';
import { startGrpcDownstream, until } from '../helpers/downstream.js';
import { logsOfJsonLines } from '../helpers/records.js';
import { tempDir } from '../helpers/tmp.js';
import { grpcExportOk } from '../receivers/otlp/clients.js';

const dir = tempDir('vigil-parity-');
const KEY_ENV = { VIGIL_PARITY_KEY: 'parity-test-key-0123456789abcdef' };
const CLF = '83.149.9.216 - alice [17/May/2015:10:05:03 +0000] "POST /login HTTP/1.1" 401 12 "-" "curl/8"';

/** Emits the test records with the logs SDK and returns the ExportLogsServiceRequest the gRPC exporter sent. */
async function sdkRequest(): Promise<Uint8Array> {
  const capture = await startGrpcDownstream();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'shop', 'deployment.environment.name': 'staging' }),
    processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `http://${capture.address}` }) })],
  });
  try {
    const logger = provider.getLogger('access', '1.0.0');
    logger.emit({ body: CLF, severityNumber: SeverityNumber.INFO });
    logger.emit({ body: CLF, severityNumber: SeverityNumber.INFO, timestamp: [1_700_000_000, 0], observedTimestamp: [1_700_000_000, 0] });
    logger.emit({ body: CLF, severityNumber: SeverityNumber.INFO, timestamp: [1_700_000_000, 0], observedTimestamp: [1_700_000_000, 0] });
    logger.emit({ body: JSON.stringify({ request: { client_ip: '8.8.8.8', method: 'GET', uri: '/api/orders/12345', headers: { 'User-Agent': ['ua'] } }, status: 200, duration: 0.01, ts: 1_700_000_001.5 }) });
    logger.emit({ body: { req: { method: 'DELETE', url: '/items/9', remoteAddress: '2a00:1450:4001:81b::200e' }, res: { statusCode: 204 }, responseTime: 3 } });
    logger.emit({ body: 'request handled', attributes: { 'http.request.method': 'PATCH', 'url.path': '/users/77', 'http.response.status_code': 500, 'client.address': '10.0.0.7', 'user.id': 'bob' } });
    logger.emit({ body: '\u0016\u0003\u0001 junk' });
    await provider.forceFlush();
    await until(() => capture.calls > 0, 'the SDK exporter to send');
    const records = capture.records();
    expect(records).toHaveLength(7);
    return encodeProtobufRequest(batchToRequest(records));
  } finally {
    await provider.shutdown();
    await capture.stop();
  }
}

/** A record as JSON, without audit.ingested_at (the one attribute that is the time of processing). */
function comparable(log: LogRecord): unknown {
  const j = JSON.parse(logRecordJsonText(log)) as { attributes: { key: string }[] };
  j.attributes = j.attributes.filter((a) => a.key !== 'audit.ingested_at');
  return j;
}

describe('live and replay give the same records', () => {
  it('a request sent to `vigil run` over gRPC and the same request through `vigil replay`', async () => {
    const live = join(dir, 'live.jsonl');
    const config = join(dir, 'vigil.yaml');
    writeFileSync(
      config,
      `receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0 }
processors:
  audit:
    environment: prod
    pseudonymisation: { key_env: VIGIL_PARITY_KEY }
exporters:
  file: { path: ${JSON.stringify(live)} }
service:
  telemetry:
    metrics: { address: '' }
  pipelines:
    logs:
      receivers: [otlp]
      processors: [audit]
      exporters: [file]
`,
    );
    const request = await sdkRequest();

    const vigil = await startVigilProcess(['run', '--config', config], { env: KEY_ENV });
    try {
      const address = listening(vigil).grpc || undefined;
      expect(address, vigil.stdout()).toBeDefined();
      await grpcExportOk(address!, request);
    } finally {
      vigil.child.kill('SIGTERM');
      expect(await vigil.exited).toBe(0);
    }

    const sent = join(dir, 'sent.jsonl');
    writeFileSync(sent, `${encodeJsonRequest(decodeProtobufRequest(request))}\n`);
    const replayed = join(dir, 'replayed.jsonl');
    const r = vigilSync(['replay', '--config', config, '--output', replayed, sent], { env: KEY_ENV });
    expect(r.status, r.stderr).toBe(0);

    const a = logsOfJsonLines(live);
    const b = logsOfJsonLines(replayed);
    expect(a).toHaveLength(7);
    expect(b.map(comparable)).toEqual(a.map(comparable));

    // And the records are enriched, not just equal.
    const attrs = (log: LogRecord) => Object.fromEntries(log.attributes.map((kv) => [kv.key, kv.value?.stringValue ?? kv.value?.intValue?.toString()]));
    expect(attrs(a[0])).toMatchObject({ 'audit.action': 'login', 'audit.outcome': 'failure', 'geo.country.iso_code': 'RU', 'deployment.environment.name': 'staging' });
    expect(attrs(a[0])['client.address']).toMatch(/^ps_/);
    expect(new Set(a.map((l) => attrs(l)['audit.record_id'])).size).toBe(7);
    expect(attrs(a[5])).toMatchObject({ 'audit.parse_status': 'ok', 'audit.resource': '/users/{id}', 'audit.outcome': 'failure' });
    expect(attrs(a[6])['audit.parse_status']).toBe('unparsed');
  });
});
