// Live and replay give identical anomaly scores: the same records sent to a
// running `vigil run` over OTLP/gRPC (in several Export calls) and given to
// `vigil replay` as OTLP JSON lines come out with the same anomaly.score,
// anomaly.detected and anomaly.reasons, record for record, and the same alert
// records. Time is the records' own event time, never the wall clock.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchToRequest, decodeProtobufRequest, encodeProtobufRequest } from '../../../src/otlp/convert.js';
import { encodeJsonRequest } from '../../../src/otlp/json.js';
import { getAttribute, type LogRecord } from '../../../src/pipeline/record.js';
import { startVigilProcess, vigilSync, listening } from '../../helpers/cli.js';
import { logsOfJsonLines } from '../../helpers/records.js';
import { tempDir } from '../../helpers/tmp.js';
import { grpcExportOk } from '../../receivers/otlp/clients.js';
import { DAY, HOUR, login, makeUsers, normalTraffic, Rng, START, toRecord } from './traffic.js';

const dir = tempDir('vigil-anomaly-parity-');

function anomalyOf(log: LogRecord) {
  const reasons = log.attributes.find((a) => a.key === 'anomaly.reasons')?.value?.arrayValue?.values.map((v) => v.stringValue);
  return {
    id: getAttribute(log.attributes, 'audit.record_id'),
    event: log.eventName ?? '',
    score: getAttribute(log.attributes, 'anomaly.score'),
    detected: getAttribute(log.attributes, 'anomaly.detected'),
    reasons,
  };
}

describe('anomaly scores: live (gRPC) and replay', () => {
  it('are identical for the same records', async () => {
    const rng = new Rng(99);
    const users = makeUsers(30, rng);
    const events = normalTraffic(users, 4, rng);
    const attackAt = START + 3 * DAY + 11 * HOUR;
    for (let i = 0; i < 30; i++) events.push(login(users[3], attackAt + i * 3000, rng, 'failure', '203.0.113.66', 'RU'));
    events.sort((a, b) => a.t - b.t);
    const requests: Uint8Array[] = [];
    for (let i = 0; i < events.length; i += 700) requests.push(encodeProtobufRequest(batchToRequest(events.slice(i, i + 700).map((e, j) => toRecord(e, `p-${i + j}`)))));

    const live = join(dir, 'live.jsonl');
    const config = join(dir, 'vigil.yaml');
    writeFileSync(
      config,
      `receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0 }
processors:
  audit: {}
  anomaly: {}
exporters:
  file: { path: ${JSON.stringify(live)} }
service:
  telemetry:
    metrics: { address: '' }
  pipelines:
    logs:
      receivers: [otlp]
      processors: [audit, anomaly]
      exporters: [file]
`,
    );

    const vigil = await startVigilProcess(['run', '--config', config]);
    try {
      const address = listening(vigil).grpc || undefined;
      expect(address, vigil.stdout()).toBeDefined();
      for (const body of requests) await grpcExportOk(address!, body); // in order, one call at a time
    } finally {
      vigil.child.kill('SIGTERM');
      expect(await vigil.exited).toBe(0);
    }

    const sent = join(dir, 'sent.jsonl');
    writeFileSync(sent, `${requests.map((r) => encodeJsonRequest(decodeProtobufRequest(r))).join('\n')}\n`);
    const replayed = join(dir, 'replayed.jsonl');
    const r = vigilSync(['replay', '--quiet', '--config', config, '--output', replayed, sent]);
    expect(r.status, r.stderr).toBe(0);

    const a = logsOfJsonLines(live).map(anomalyOf);
    const b = logsOfJsonLines(replayed).map(anomalyOf);
    const records = (xs: ReturnType<typeof anomalyOf>[]) => xs.filter((x) => x.event !== 'vigil.anomaly');
    const alerts = (xs: ReturnType<typeof anomalyOf>[]) => xs.filter((x) => x.event === 'vigil.anomaly').map((x) => x.id);
    expect(records(a)).toHaveLength(events.length);
    expect(records(b)).toEqual(records(a));
    expect(alerts(b)).toEqual(alerts(a));
    // Not vacuous: the brute force was flagged and alerted.
    expect(records(a).some((x) => x.reasons?.some((s) => s?.startsWith(`login_failures [${users[3].id}]`)))).toBe(true);
    expect(alerts(a).length).toBeGreaterThan(0);
  });
});
