// The spine end to end, as a user runs it: `vigil run` as a child process with
// the issue's config shape (otlp receiver → file + otlp_grpc + otlp_http with a
// persistent queue), official OpenTelemetry exporters and hand-made requests as
// clients, real downstream OTLP servers. Checks fidelity, restart with queued
// records, and SIGTERM under load.
import { ROOT_CONTEXT, SeverityNumber, TraceFlags, trace } from '@opentelemetry/api';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as HttpJsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as HttpProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { batchToRequest, encodeProtobufRequest, type ExportRequestMessage } from '../../src/otlp/convert.js';
import { decodeJsonRequest, encodeJsonRequest } from '../../src/otlp/json.js';
import { getStringAttribute, type LogBatch } from '../../src/pipeline/record.js';
import { listening, startVigilProcess, type VigilProcess } from '../helpers/cli.js';
import { startGrpcDownstream, startHttpDownstream, until, type Downstream } from '../helpers/downstream.js';
import { tempDir } from '../helpers/tmp.js';
import { fullRequest, grpcExport } from '../receivers/otlp/clients.js';

const running: VigilProcess[] = [];
const downstreams: Downstream[] = [];
afterEach(async () => {
  for (const v of running.splice(0)) if (v.child.exitCode === null) v.child.kill('SIGKILL');
  for (const d of downstreams.splice(0)) await d.stop().catch(() => undefined);
});

function config(dir: string, grpcDown: string, httpDown?: string): string {
  const path = join(dir, 'vigil.yaml');
  writeFileSync(
    path,
    `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0 }
      http: { endpoint: 127.0.0.1:0 }
exporters:
  file: { path: ${dir}/archive.jsonl }
  otlp_grpc:
    endpoint: ${grpcDown}
    tls: { insecure: true }
    retry_on_failure: { initial_interval: 50ms, max_interval: 200ms }
    sending_queue: { storage: file_storage }
${
  httpDown
    ? `  otlp_http:
    endpoint: http://${httpDown}
    encoding: json
    retry_on_failure: { initial_interval: 50ms, max_interval: 200ms }
    sending_queue: { storage: file_storage }`
    : ''
}
extensions:
  file_storage: { directory: ${dir}/queue }
  health_check: { endpoint: 127.0.0.1:0 }
service:
  extensions: [file_storage, health_check]
  telemetry: { metrics: { address: '' }, logs: { level: warn } }
  shutdown_timeout: 10s
  pipelines:
    logs: { receivers: [otlp], processors: [], exporters: [file, otlp_grpc${httpDown ? ', otlp_http' : ''}] }
`,
  );
  return path;
}


function archived(dir: string): LogBatch {
  const text = readFileSync(join(dir, 'archive.jsonl'), 'utf8').trim();
  return text === '' ? [] : text.split('\n').flatMap((l) => batchFromJson(l));
}

function batchFromJson(line: string): LogBatch {
  const req = decodeJsonRequest(line).request;
  return req.resourceLogs.flatMap((rl) =>
    rl.scopeLogs.flatMap((sl) =>
      sl.logRecords.map((log) => ({ resource: { resource: rl.resource!, schemaUrl: rl.schemaUrl ?? '' }, scope: { scope: sl.scope ?? {}, schemaUrl: sl.schemaUrl ?? '' }, log })),
    ),
  );
}

const seqOf = (b: LogBatch) => b.map((r) => getStringAttribute(r.log.attributes, 'test.seq')).filter((s): s is string => s !== undefined);

async function sendWithSdk(exporter: LogRecordExporter, tag: string): Promise<void> {
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'e2e', 'host.cpu.count': 2 }),
    processors: [new BatchLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger('e2e-scope', '1.2.3');
  const ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', traceFlags: TraceFlags.SAMPLED });
  logger.emit({
    eventName: 'http.access',
    timestamp: [1764115200, 123456789],
    severityNumber: SeverityNumber.WARN,
    severityText: 'WARN',
    body: `GET /api ${tag}`,
    attributes: { 'test.seq': tag, 'str.attr': 'héllo', 'bool.attr': true, 'int.attr': 42, 'double.attr': 2.5, 'array.attr': ['a', 'b'], 'map.attr': { k: 'v' } },
    context: ctx,
  });
  await provider.forceFlush();
  await provider.shutdown();
}

describe('vigil run: the spine end to end', () => {
  it('official exporters and a hand-made request reach the file and both downstreams intact', async () => {
    const dir = tempDir();
    const g = await startGrpcDownstream();
    const h = await startHttpDownstream();
    downstreams.push(g, h);
    const v = await startVigilProcess(['run', '--config', config(dir, g.address, h.address)], { cwd: dir });
    running.push(v);
    const a = listening(v);

    await sendWithSdk(new GrpcLogExporter({ url: `http://${a.grpc}`, compression: 'gzip' as never }), 'grpc');
    await sendWithSdk(new HttpJsonLogExporter({ url: a.http }), 'http-json');
    await sendWithSdk(new HttpProtoLogExporter({ url: a.http, compression: 'gzip' as never }), 'http-proto');
    const full: ExportRequestMessage = fullRequest();
    expect((await grpcExport(a.grpc, encodeProtobufRequest(full))).code).toBe(0);

    const fullRecords = 4;
    await until(() => g.records().length === 3 + fullRecords && h.records().length === 3 + fullRecords, 'both downstreams to receive every record');
    for (const d of [g, h]) {
      expect(seqOf(d.records()).sort()).toEqual(['grpc', 'http-json', 'http-proto']);
      const sdk = d.records().find((r) => getStringAttribute(r.log.attributes, 'test.seq') === 'grpc')!;
      expect(sdk.log.eventName).toBe('http.access');
      expect(sdk.log.severityNumber).toBe(SeverityNumber.WARN);
      expect(Buffer.from(sdk.log.traceId!).toString('hex')).toBe('5b8efff798038103d269b633813fc60c');
      expect(sdk.scope.scope).toMatchObject({ name: 'e2e-scope', version: '1.2.3' });
      // The hand-made request, with every field, comes out byte-for-byte as it went in.
      const handmade = d.batches.find((b) => b.length === fullRecords)!;
      expect(encodeJsonRequest(batchToRequest(handmade))).toBe(encodeJsonRequest(full));
    }
    const stored = archived(dir);
    expect(stored).toHaveLength(3 + fullRecords);

    v.child.kill('SIGTERM');
    expect(await v.exited).toBe(0);
  });

  it('records queued while the downstream is down are delivered after a restart', async () => {
    const dir = tempDir();
    const g = await startGrpcDownstream();
    const port = g.address.split(':')[1];
    await g.stop(); // downstream down
    const cfg = config(dir, g.address);
    const v1 = await startVigilProcess(['run', '--config', cfg], { cwd: dir });
    running.push(v1);
    for (let i = 0; i < 5; i++) {
      const req = batchToRequest([{ resource: { resource: { attributes: [] }, schemaUrl: '' }, scope: { scope: {}, schemaUrl: '' }, log: { attributes: [{ key: 'test.seq', value: { stringValue: `q${i}` } }] } }]);
      expect((await grpcExport(listening(v1).grpc, encodeProtobufRequest(req))).code).toBe(0); // acked: durably queued
    }
    v1.child.kill('SIGTERM');
    expect(await v1.exited).toBe(0);

    const g2 = await startGrpcDownstream(Number(port));
    downstreams.push(g2);
    const v2 = await startVigilProcess(['run', '--config', cfg], { cwd: dir });
    running.push(v2);
    await until(() => g2.records().length >= 5, 'queued records to be delivered after restart');
    expect(seqOf(g2.records()).sort()).toEqual(['q0', 'q1', 'q2', 'q3', 'q4']);
    v2.child.kill('SIGTERM');
    expect(await v2.exited).toBe(0);
  });

  it('SIGTERM under load: exit 0, every acknowledged record is in the file and downstream', async () => {
    const dir = tempDir();
    const g = await startGrpcDownstream();
    downstreams.push(g);
    const v = await startVigilProcess(['run', '--config', config(dir, g.address)], { cwd: dir });
    running.push(v);
    const { grpc: addr } = listening(v);
    const acked: string[] = [];
    let sent = 0;
    let stop = false;
    // Four clients send 20-record requests until Vigil stops answering (bounded at 400 requests).
    const clients = Array.from({ length: 4 }, async (_, c) => {
      while (!stop && sent < 400) {
        const n = sent++;
        const ids = Array.from({ length: 20 }, (_, i) => `c${c}-${n}-${i}`);
        const req = batchToRequest(
          ids.map((id) => ({ resource: { resource: { attributes: [] }, schemaUrl: '' }, scope: { scope: {}, schemaUrl: '' }, log: { attributes: [{ key: 'test.seq', value: { stringValue: id } }], body: { stringValue: 'x'.repeat(200) } } })),
        );
        const r = await grpcExport(addr, encodeProtobufRequest(req));
        if (r.code === 0) acked.push(...ids);
        else stop = true; // refused or connection gone: Vigil is shutting down
      }
    });
    await until(() => acked.length >= 400, 'some load to be acknowledged');
    v.child.kill('SIGTERM');
    expect(await v.exited).toBe(0);
    stop = true;
    await Promise.all(clients);
    const inFile = new Set(seqOf(archived(dir)));
    expect(acked.filter((id) => !inFile.has(id))).toEqual([]);
    // Delivery downstream continues from the persistent queue on the next start if shutdown left any.
    const v2 = await startVigilProcess(['run', '--config', config(dir, g.address)], { cwd: dir });
    running.push(v2);
    await until(() => {
      const got = new Set(seqOf(g.records()));
      return acked.every((id) => got.has(id));
    }, 'every acknowledged record downstream');
    v2.child.kill('SIGTERM');
    expect(await v2.exited).toBe(0);
  });
});
