// Fan-out from one receiver to several pipelines, with real components: the OTLP
// receiver over gRPC, the audit processor, file exporters that fsync before the
// ack and an otlp_grpc exporter to a real downstream. Each pipeline must see the
// records as they arrived, whatever another pipeline's processors do to its copy,
// and the Export is acknowledged only once every pipeline's exporters took it.
import { status } from '@grpc/grpc-js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defaultRegistry } from '../../src/components.js';
import { validateConfig } from '../../src/config/load.js';
import { decodeProtobufRequest, encodeBatchProtobuf, requestToBatch } from '../../src/otlp/convert.js';
import { decodeProtobufBatch } from '../../src/otlp/wire-decode.js';
import { assertSameMeaning, setSpliceCheck } from '../../src/otlp/wire-encode.js';
import type { ExporterFactory } from '../../src/pipeline/component.js';
import { batchesFor, fanOutTo, type Target } from '../../src/pipeline/fan-out.js';
import {
  appendAttribute,
  attributesUndecoded,
  dropAttribute,
  type LogBatch,
  type LogRecord,
  type ReadonlyBatch,
  putAttribute,
  replaceAttribute,
} from '../../src/pipeline/record.js';
import { Service } from '../../src/pipeline/service.js';
import type { OtlpReceiver } from '../../src/receivers/otlp/otlp.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { Telemetry } from '../../src/telemetry/metrics.js';
import { startGrpcDownstream, until, withoutCheckpoints, type Downstream } from '../helpers/downstream.js';
import { kv, logsOfJsonLines, makeBatch, makeRecord } from '../helpers/records.js';
import { tempDir } from '../helpers/tmp.js';
import { grpcExport } from '../receivers/otlp/clients.js';

const services: Service[] = [];
const downstreams: Downstream[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.shutdown();
  for (const d of downstreams.splice(0)) await d.stop();
});

const LINES = [
  '203.0.113.7 - alice [01/Jan/2026:10:00:00 +0000] "POST /login HTTP/1.1" 401 12 "-" "curl/8"',
  '198.51.100.2 - bob [01/Jan/2026:10:00:01 +0000] "GET /orders/17 HTTP/1.1" 200 512 "-" "Mozilla/5.0"',
];

/** A request of access-log lines, each with one attribute of its own. */
function request(): Uint8Array {
  return encodeBatchProtobuf(LINES.map((line, i) => makeRecord({ body: { stringValue: line }, attrs: { 'log.file.name': `access-${i}.log` } })));
}

const read = (batch: LogBatch): LogBatch => batch.filter((r) => r.log.attributes.length >= 0);
const appended = (batch: LogBatch): LogBatch => {
  for (const r of batch) appendAttribute(r.log, kv('up.stream', 'x'));
  return batch;
};
const rewritten = (batch: LogBatch): LogBatch => {
  for (const r of batch) dropAttribute(r.log.attributes, 'log.file.name');
  return batch;
};

const attributeKeys = (logs: LogRecord[]) => logs.map((l) => l.attributes.map((a) => a.key));
const bodies = (logs: LogRecord[]) => logs.map((l) => l.body?.stringValue);

/** An exporter that breaks the read-only contract: it tags what it is given, while its factory says it does not. */
const taggingFactory: ExporterFactory<Record<string, never>> = {
  kind: 'exporter',
  type: 'tagging',
  mutatesData: false,
  configSchema: z.object({}).strict() as z.ZodType<Record<string, never>>,
  create: () => ({
    consume: async (batch: ReadonlyBatch) => {
      for (const r of batch as LogBatch) putAttribute(r.log.attributes, kv('tagged', true));
    },
  }),
};

async function startService(
  pipelines: Record<string, { processors: string[]; exporters: string[] }>,
  exporters: Record<string, unknown>,
  more: { extensions?: Record<string, unknown> } = {},
) {
  const withReceiver = Object.fromEntries(Object.entries(pipelines).map(([id, p]) => [id, { receivers: ['otlp'], ...p }]));
  const cfg = validateConfig(
    {
      receivers: { otlp: { protocols: { grpc: { endpoint: '127.0.0.1:0' } } } },
      processors: { audit: {}, anomaly: {} },
      exporters,
      extensions: more.extensions ?? {},
      service: { extensions: Object.keys(more.extensions ?? {}), pipelines: withReceiver },
    },
    defaultRegistry([taggingFactory]),
  );
  const svc = await Service.build(cfg, silentLogger(), new Telemetry({ processMetrics: false }), { checkReadOnly: true });
  services.push(svc);
  await svc.start();
  const address = (svc.receivers[0].instance as OtlpReceiver).grpcAddress()!;
  return { svc, address };
}

describe('fan-out to several pipelines', () => {
  for (const order of [
    ['logs/audited', 'logs/raw'],
    ['logs/raw', 'logs/audited'],
  ]) {
    it(`gives the raw pipeline the records as received, whatever the audited one does (pipelines ${order.join(', ')})`, async () => {
      const dir = tempDir();
      const spec = {
        'logs/audited': { processors: ['audit'], exporters: ['file/audited'] },
        'logs/raw': { processors: [], exporters: ['file/raw'] },
      };
      const { address } = await startService(Object.fromEntries(order.map((id) => [id, spec[id as keyof typeof spec]])), {
        'file/audited': { path: join(dir, 'audited.jsonl') },
        'file/raw': { path: join(dir, 'raw.jsonl') },
      });

      const r = await grpcExport(address, request());
      expect(r.code).toBe(status.OK);

      // Acknowledged means both files hold the records already (each file exporter fsyncs before resolving).
      const raw = logsOfJsonLines(join(dir, 'raw.jsonl'));
      const audited = logsOfJsonLines(join(dir, 'audited.jsonl'));
      expect(bodies(raw)).toEqual(LINES);
      expect(attributeKeys(raw)).toEqual([['log.file.name'], ['log.file.name']]);
      expect(bodies(audited)).toEqual(LINES);
      for (const keys of attributeKeys(audited)) {
        expect(keys[0]).toBe('log.file.name');
        expect(keys).toContain('audit.record_id');
        expect(keys.some((k) => k.startsWith('ocsf.'))).toBe(true);
        // Enriched once: no key twice.
        expect(new Set(keys).size).toBe(keys.length);
      }
    });
  }

  it('keeps the product pipeline\'s exporters to their read-only word (audit, anomaly → worm, otlp_grpc with a queue), beside a raw pipeline', async () => {
    const dir = tempDir();
    const down = await startGrpcDownstream();
    downstreams.push(down);
    const { address } = await startService(
      {
        logs: { processors: ['audit', 'anomaly'], exporters: ['worm', 'otlp_grpc'] },
        'logs/raw': { processors: [], exporters: ['file/raw'] },
      },
      {
        worm: { directory: join(dir, 'archive'), signing: { key_file: join(dir, 'keys', 'archive.key') } },
        otlp_grpc: { endpoint: down.address, tls: { insecure: true }, sending_queue: { storage: 'file_storage' } },
        'file/raw': { path: join(dir, 'raw.jsonl') },
      },
      { extensions: { file_storage: { directory: join(dir, 'queue') } } },
    );
    // checkReadOnly is on: a change by worm or otlp_grpc to the batch they share would refuse this Export.
    const r = await grpcExport(address, request());
    expect(r.details).toBe('');
    expect(r.code).toBe(status.OK);
    expect(attributeKeys(logsOfJsonLines(join(dir, 'raw.jsonl')))).toEqual([['log.file.name'], ['log.file.name']]);
    // The archive also sends its first signed checkpoint down this pipeline's otlp_grpc, within a second
    // of the records: on a slow machine it can arrive with the batch.
    const batch = () => withoutCheckpoints(down.records());
    await until(() => batch().length >= LINES.length, () => `the queue delivered the batch (${batch().length} of ${LINES.length} records)`);
    expect(batch()).toHaveLength(LINES.length);
    for (const rec of batch()) expect(rec.log.attributes.map((a) => a.key)).toEqual(expect.arrayContaining(['audit.record_id', 'anomaly.score']));
  });

  for (const order of [
    ['logs/audited', 'logs/raw'],
    ['logs/raw', 'logs/audited'],
  ]) {
    it(`copies for the audited pipeline from the bytes: the raw pipeline's records are never decoded, and forwarded as they came (pipelines ${order.join(', ')})`, async () => {
      const dir = tempDir();
      const down = await startGrpcDownstream();
      downstreams.push(down);
      const kept: ReadonlyBatch[] = [];
      const keeping: ExporterFactory<Record<string, never>> = {
        kind: 'exporter',
        type: 'keeping',
        mutatesData: false,
        configSchema: z.object({}).strict() as z.ZodType<Record<string, never>>,
        create: () => ({ consume: async (batch: ReadonlyBatch) => void kept.push(batch) }),
      };
      const spec = {
        'logs/audited': { receivers: ['otlp'], processors: ['audit'], exporters: ['file/audited'] },
        'logs/raw': { receivers: ['otlp'], processors: [], exporters: ['keeping', 'otlp_grpc'] },
      };
      const cfg = validateConfig(
        {
          receivers: { otlp: { protocols: { grpc: { endpoint: '127.0.0.1:0' } } } },
          processors: { audit: {} },
          exporters: {
            'file/audited': { path: join(dir, 'audited.jsonl') },
            otlp_grpc: { endpoint: down.address, tls: { insecure: true }, retry_on_failure: { enabled: false }, sending_queue: { enabled: false } },
            keeping: {},
          },
          service: { pipelines: Object.fromEntries(order.map((id) => [id, spec[id as keyof typeof spec]])) },
        },
        defaultRegistry([keeping]),
      );
      // Without checkReadOnly, which encodes the shared batch from its objects (and so reads every record).
      const svc = await Service.build(cfg, silentLogger(), new Telemetry({ processMetrics: false }));
      services.push(svc);
      await svc.start();
      const r = await grpcExport((svc.receivers[0].instance as OtlpReceiver).grpcAddress()!, request());
      expect(r.code).toBe(status.OK);
      // The receiver decoded lazily (the pipeline given the original reads nothing), and the audited copy decoded none of it.
      expect(kept).toHaveLength(1);
      expect(kept[0].filter((rec) => !attributesUndecoded(rec.log))).toHaveLength(0);
      expect(attributeKeys(down.records().map((rec) => rec.log))).toEqual([['log.file.name'], ['log.file.name']]);
      expect(bodies(down.records().map((rec) => rec.log))).toEqual(LINES);
      const audited = logsOfJsonLines(join(dir, 'audited.jsonl'));
      expect(bodies(audited)).toEqual(LINES);
      for (const keys of attributeKeys(audited)) expect(keys).toEqual(expect.arrayContaining(['log.file.name', 'audit.record_id']));
    });
  }

  it('acknowledges an Export only after every pipeline took it, and refuses it when one pipeline did not', async () => {
    const dir = tempDir();
    const down = await startGrpcDownstream();
    downstreams.push(down);
    const { address } = await startService(
      {
        'logs/audited': { processors: ['audit'], exporters: ['file/audited'] },
        'logs/forward': { processors: [], exporters: ['otlp_grpc'] },
      },
      {
        'file/audited': { path: join(dir, 'audited.jsonl') },
        otlp_grpc: { endpoint: down.address, tls: { insecure: true }, retry_on_failure: { enabled: false }, sending_queue: { enabled: false } },
      },
    );

    down.failNext(1, status.PERMISSION_DENIED);
    const refused = await grpcExport(address, request());
    expect(refused.code).not.toBe(status.OK);
    expect(down.records()).toHaveLength(0);

    const ok = await grpcExport(address, request());
    expect(ok.code).toBe(status.OK);
    // The forwarded copy is the raw one; the archive has the refused batch too (at-least-once) and the accepted one.
    expect(attributeKeys(down.records().map((r) => r.log))).toEqual([['log.file.name'], ['log.file.name']]);
    expect(existsSync(join(dir, 'audited.jsonl'))).toBe(true);
    expect(bodies(logsOfJsonLines(join(dir, 'audited.jsonl')))).toEqual([...LINES, ...LINES]);
  });
});

describe('fanOutTo', () => {
  /** A consumer that records what it saw, and (if it mutates) tags the records as soon as it is called. */
  function target(id: string, mutates: boolean, seen: Map<string, string[][]>): Target {
    return {
      id,
      mutatesData: mutates,
      consumer: {
        consume: async (batch) => {
          seen.set(id, batch.map((r) => r.log.attributes.map((a) => a.key)));
          if (mutates) for (const r of batch) r.log.attributes.push(kv(`by.${id}`, true));
        },
      },
    };
  }

  it('copies for mutating consumers only, all copies made before any consumer runs', async () => {
    for (const order of [
      ['m1', 'r1', 'm2', 'r2'],
      ['r1', 'm1', 'r2', 'm2'],
      ['m1', 'm2'],
    ]) {
      const seen = new Map<string, string[][]>();
      const batch = makeBatch(2);
      const targets = order.map((id) => target(id, id.startsWith('m'), seen));
      const batches = batchesFor(targets, batch);
      const shared = batches.filter((b) => b === batch).length;
      // Readers share the original; with no reader, the last mutator takes it.
      expect(shared).toBe(order.some((id) => id.startsWith('r')) ? order.filter((id) => id.startsWith('r')).length : 1);
      await fanOutTo(targets, batch, true);
      for (const id of order) expect(seen.get(id), `${id} in ${order.join(',')}`).toEqual([[], []]);
    }
  });

  it('keeps consumers apart on batches decoded from protobuf, lazily or at once, read or not, appended to or rewritten', async () => {
    const bytes = encodeBatchProtobuf(
      LINES.map((line, i) =>
        makeRecord({ body: { stringValue: line }, attrs: { 'log.file.name': `access-${i}.log`, 'http.response.status_code': 200 + i } }),
      ),
    );
    const states: Record<string, () => LogBatch> = {
      'lazy, unread': () => decodeProtobufBatch(bytes).records,
      'lazy, appended to unread': () => appended(decodeProtobufBatch(bytes).records),
      'lazy, read': () => read(decodeProtobufBatch(bytes).records),
      eager: () => decodeProtobufBatch(bytes, true).records,
      'eager, appended to': () => appended(decodeProtobufBatch(bytes, true).records),
      'eager, rewritten': () => rewritten(decodeProtobufBatch(bytes, true).records),
    };
    const expected = (name: string) => (name.includes('appended') ? ['log.file.name', 'http.response.status_code', 'up.stream'] : name.includes('rewritten') ? ['http.response.status_code'] : ['log.file.name', 'http.response.status_code']);
    setSpliceCheck(true);
    try {
      for (const [name, make] of Object.entries(states)) {
        for (const order of [
          ['m1', 'r1', 'm2'],
          ['m1', 'm2'],
        ]) {
          const seen = new Map<string, string[][]>();
          const encoded = new Map<string, Buffer>();
          const batch = make();
          const reference = requestToBatch(decodeProtobufRequest(encodeBatchProtobuf(batch))).records;
          const targets = order.map((id): Target => {
            const mutates = id.startsWith('m');
            return {
              id,
              mutatesData: mutates,
              readsRecords: id === 'm1' ? true : undefined,
              consumer: {
                consume: async (b) => {
                  // What it was given, encoded (spliced where it may be, checked against the objects), then read.
                  encoded.set(id, Buffer.from(encodeBatchProtobuf(b)));
                  seen.set(id, b.map((r) => r.log.attributes.map((a) => a.key)));
                  if (!mutates) return;
                  for (const r of b) {
                    appendAttribute(r.log, kv(`by.${id}`, true));
                    if (r.log.traceId && r.log.traceId.length > 0) r.log.traceId[0] ^= 0xff;
                    replaceAttribute(r.log.attributes, kv('http.response.status_code', id));
                  }
                },
              },
            };
          });
          await fanOutTo(targets, batch);
          for (const id of order) {
            expect(seen.get(id), `${name}: ${id} in ${order.join(',')}`).toEqual([expected(name), expected(name)]);
            assertSameMeaning(encoded.get(id)!, encodeBatchProtobuf(reference));
          }
        }
      }
    } finally {
      setSpliceCheck(false);
    }
  });

  it('with checkReadOnly, refuses a batch that a consumer declared read-only changed, naming it', async () => {
    const seen = new Map<string, string[][]>();
    const liar: Target = { ...target('liar', true, seen), mutatesData: false };
    await expect(fanOutTo([liar], makeBatch(1), true)).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('liar declared mutatesData: false') });
    // Without the check it goes unnoticed (the check is for tests and debugging).
    await expect(fanOutTo([liar], makeBatch(1), false)).resolves.toBeUndefined();
  });

  it('catches an exporter that breaks its read-only declaration in a running service', async () => {
    const dir = tempDir();
    const { address } = await startService(
      { 'logs/a': { processors: ['audit'], exporters: ['file/a'] }, 'logs/b': { processors: [], exporters: ['tagging', 'file/b'] } },
      { 'file/a': { path: join(dir, 'a.jsonl') }, 'file/b': { path: join(dir, 'b.jsonl') }, tagging: {} },
    );
    const r = await grpcExport(address, request());
    expect(r.code).toBe(status.INTERNAL);
    expect(r.details).toContain('exporter tagging');
  });
});
