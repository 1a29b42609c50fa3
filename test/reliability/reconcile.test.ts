// The harness's own arithmetic: the final account and the metrics reader.
import { describe, expect, it } from 'vitest';
import { crashVerdict, type CrashReport } from '../helpers/harness/crash.js';
import { reconcile } from '../helpers/harness/reconcile.js';
import { sumMetric } from '../helpers/harness/vigil.js';

const seen = (recordId: string, count = 1) => ({ recordId, count });

describe('reconcile', () => {
  it('counts lost, duplicated and stored-but-unacknowledged records', () => {
    const acked = new Set(['a', 'b', 'c', 'd']);
    const archive = new Map([
      ['a', seen('ra', 2)],
      ['b', seen('rb')],
      ['c', seen('rc')],
      ['x', seen('rx')],
    ]);
    const downstream = new Map([
      ['a', seen('ra', 3)],
      ['b', seen('rb')],
      ['d', seen('rd')],
    ]);
    const r = reconcile(acked, archive, downstream);
    expect(r).toMatchObject({ acked: 4, archived: 3, delivered: 3, lost: 2, lostFromArchive: ['d'], lostDownstream: ['c'], duplicatesDownstream: 2, duplicatesArchived: 1, storedUnacked: 1, idMismatches: [] });
  });

  it('flags a record whose audit.record_id differs between the archive and the downstream', () => {
    const r = reconcile(new Set(['a']), new Map([['a', seen('r1')]]), new Map([['a', seen('r2')]]), ['z']);
    expect(r.lost).toBe(0);
    expect(r.idMismatches.sort()).toEqual(['a', 'z']);
  });

  it('without a downstream, only the archive counts', () => {
    const r = reconcile(new Set(['a', 'b']), new Map([['a', seen('r')]]), undefined);
    expect(r).toMatchObject({ archived: 1, delivered: 0, lost: 1, lostDownstream: [] });
  });
});

describe('crashVerdict', () => {
  const base: CrashReport = {
    seed: 1,
    kills: [
      { n: 0, moment: 'seal', hit: true, detail: '', uptimeMs: 1, tornTail: true },
      { n: 1, moment: 'append', hit: true, detail: '', uptimeMs: 1, tornTail: false },
    ],
    reconciliation: reconcile(new Set(['a']), new Map([['a', seen('r')]]), new Map([['a', seen('r')]])),
    verify: { exitCode: 0, text: '', ok: true, breaks: [], repairedTruncations: 1, uncleanStops: 1, records: { checked: 1, valid: 1 }, segments: 1 },
    verifyS3: undefined,
    s3Backlog: undefined,
    finalExit: 0,
    clients: { requests: 1, ackedRecords: 1, attempts: 1, refusals: {}, hinted: 0, abandoned: 0, permanent: [] },
    downstream: { calls: 1, refused: 0, records: 1, foreign: 0 },
    archive: { total: 1, foreign: 0, queryExit: 0 },
    durationMs: 1,
  };

  it('passes a clean run', () => {
    expect(crashVerdict(base)).toEqual([]);
  });

  it('fails a recovery that verify did not name, a hidden torn tail, a loss, an unclean exit', () => {
    expect(crashVerdict({ ...base, verify: { ...base.verify, uncleanStops: 0 } }).join('\n')).toMatch(/names 1 recoveries for 2 kills/);
    expect(crashVerdict({ ...base, verify: { ...base.verify, repairedTruncations: 0, uncleanStops: 2 } }).join('\n')).toMatch(/0 repaired truncations for 1 torn tails/);
    expect(crashVerdict({ ...base, reconciliation: reconcile(new Set(['a', 'b']), new Map([['a', seen('r')]]), new Map([['a', seen('r')]])) }).join('\n')).toMatch(/1 acknowledged records lost/);
    expect(crashVerdict({ ...base, finalExit: 'SIGKILL' }).join('\n')).toMatch(/exited with SIGKILL/);
  });
});

describe('sumMetric', () => {
  const text = [
    '# HELP vigil_exporter_queue_size batches',
    '# TYPE vigil_exporter_queue_size gauge',
    'vigil_exporter_queue_size{exporter="otlp_grpc"} 7',
    'vigil_exporter_queue_size{exporter="otlp_http/eu"} 3',
    'vigil_exporter_queue_size_total 100',
    'vigil_receiver_accepted_log_records_total{receiver="otlp",transport="grpc"} 10',
    'vigil_receiver_accepted_log_records_total{receiver="otlp",transport="http"} 5',
  ].join('\n');

  it('sums the series whose labels match, and only that metric', () => {
    expect(sumMetric(text, 'vigil_exporter_queue_size')).toBe(10);
    expect(sumMetric(text, 'vigil_exporter_queue_size', { exporter: 'otlp_grpc' })).toBe(7);
    expect(sumMetric(text, 'vigil_receiver_accepted_log_records_total')).toBe(15);
    expect(sumMetric(text, 'vigil_receiver_accepted_log_records_total', { transport: 'http' })).toBe(5);
    expect(sumMetric(text, 'vigil_missing')).toBeUndefined();
  });
});
