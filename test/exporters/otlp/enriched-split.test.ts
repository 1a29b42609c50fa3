// Issue 13, item 8, end to end: a 2.8 MB request of 9,533 access-log records
// fits the receiver's 4 MiB limit; the audit processor roughly doubles it, past
// what a default downstream (grpc-js / Collector: 4 MiB) takes. `vigil run`
// must deliver every acknowledged record anyway: split to max_request_bytes
// before sending (the default), or split after the downstream's
// RESOURCE_EXHAUSTED when max_request_bytes is set too high.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeProtobufRequest, type ExportRequestMessage } from '../../../src/otlp/convert.js';
import { startVigilProcess, type VigilProcess, listening } from '../../helpers/cli.js';
import { startGrpcDownstream, until, type Downstream } from '../../helpers/downstream.js';
import { tempDir } from '../../helpers/tmp.js';
import { grpcExport } from '../../receivers/otlp/clients.js';

const RECORDS = 9_533;

function accessLogRequest(): Uint8Array {
  const logRecords = Array.from({ length: RECORDS }, (_, i) => ({
    body: {
      stringValue: `203.0.113.${i % 250} - user${i % 97} [10/Oct/2026:13:55:36 +0000] "GET /api/orders/${i}?page=${i % 13}&sort=created HTTP/1.1" 200 ${1000 + i} "https://shop.example/checkout/${i}" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 r${i}"`,
    },
    attributes: [],
  }));
  const req: ExportRequestMessage = {
    resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] }, scopeLogs: [{ scope: { name: 'access' }, logRecords }] }],
  };
  return encodeProtobufRequest(req);
}

function config(dir: string, downstream: string, exporter: Record<string, unknown>): string {
  const cfg = {
    receivers: { otlp: { protocols: { grpc: { endpoint: '127.0.0.1:0' } } } },
    processors: { audit: {} },
    exporters: { otlp_grpc: { endpoint: downstream, tls: { insecure: true }, retry_on_failure: { initial_interval: '10ms', max_interval: '50ms' }, ...exporter } },
    service: {
      telemetry: { metrics: { address: '127.0.0.1:0' }, logs: { level: 'warn' } },
      pipelines: { logs: { receivers: ['otlp'], processors: ['audit'], exporters: ['otlp_grpc'] } },
    },
  };
  const path = join(dir, 'vigil.yaml');
  writeFileSync(path, stringify(cfg));
  return path;
}

let vigil: VigilProcess | undefined;
let down: Downstream | undefined;
afterEach(async () => {
  if (vigil && vigil.child.exitCode === null) {
    vigil.child.kill('SIGTERM');
    await vigil.exited;
  }
  await down?.stop();
  vigil = undefined;
  down = undefined;
});

describe('an acknowledged request that enrichment makes too large for the downstream', () => {
  const body = accessLogRequest();

  it.each([
    ['split before sending (default max_request_bytes: 4MiB)', {}],
    ['split after the downstream refuses it (max_request_bytes above the downstream limit)', { max_request_bytes: '64MiB' }],
  ])('%s: every record is delivered, none dropped', async (_name, exporter) => {
    expect(body.length).toBeGreaterThan(2_500_000);
    expect(body.length).toBeLessThan(4 * 1024 * 1024);
    // A grpc-js server with its default receive limit, 4 MiB, as a default Collector's.
    down = await startGrpcDownstream();
    const dir = tempDir('vigil-split-');
    vigil = await startVigilProcess(['run', '--config', config(dir, down.address, exporter)]);
    const r = await grpcExport(listening(vigil).grpc, body);
    expect(r.code, r.details).toBe(0);
    // Distinct records, not a count: a chunk the downstream took but answered after the exporter's
    // timeout (a loaded machine) is sent again, and its duplicates must not stand in for missing records.
    const distinct = () => new Set(down!.records().map((rec) => rec.log.body?.stringValue));
    let seen = 0;
    await until(() => (seen = distinct().size) >= RECORDS, () => `every acknowledged record downstream (${seen} of ${RECORDS} distinct records in ${down!.records().length} received)`, 90_000);
    const bodies = distinct();
    expect(bodies.size).toBe(RECORDS);
    expect(down.batches.length).toBeGreaterThan(1);
    // Enrichment really did take the request past the downstream's limit.
    expect(down.records()[0].log.attributes.length).toBeGreaterThan(5);
    const out = vigil.stdout() + vigil.stderr();
    expect(out).not.toMatch(/dropping it/);
    if ('max_request_bytes' in exporter) expect(out).toMatch(/refused the request as too large; splitting it/);
  }, 180_000);
});
