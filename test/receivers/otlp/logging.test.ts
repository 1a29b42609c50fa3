// What the receiver logs: structured JSON about refusals (code, record count,
// retry hint, reason), at warn when the pipeline refused and at debug when the
// client sent garbage, and never the payload.
import * as grpc from '@grpc/grpc-js';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeProtobufRequest } from '../../../src/otlp/convert.js';
import { Refusal } from '../../../src/pipeline/errors.js';
import { tempDir } from '../../helpers/tmp.js';
import { fullRequest, grpcExport, httpPost } from './clients.js';
import { type Harness, startHarness } from './harness.js';

const dir = tempDir('vigil-otlp-logging-');
const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
    done();
  },
});
let h: Harness;

const MARKER = 'PAYLOAD-MUST-NOT-BE-LOGGED';

beforeAll(async () => {
  const logger = pino({ level: 'debug', formatters: { level: (label) => ({ level: label }) } }, sink);
  h = await startHarness(dir, { logger, grpc: { keepalive: { enforcement_policy: { min_time: '5s' } } } });
});
afterAll(async () => {
  await h?.stop();
});

function request() {
  const req = fullRequest();
  req.resourceLogs[0].scopeLogs[0].logRecords[0].body = { stringValue: MARKER };
  return encodeProtobufRequest(req);
}

describe('otlp receiver logs', () => {
  it('says where it listens, and that enforcement_policy is not enforced', () => {
    expect(lines.find((l) => l.msg === 'otlp receiver listening')).toMatchObject({ level: 'info', listening: h.receiver.describe() });
    expect(lines.find((l) => typeof l.msg === 'string' && /enforcement_policy/.test(l.msg))).toMatchObject({ level: 'warn' });
  });

  it('logs a pipeline refusal at warn with its code, count and retry hint, never the payload', async () => {
    h.gate.refusal = Refusal.unavailable('queue is full', 4000);
    const out = await grpcExport(h.grpc, request());
    h.gate.refusal = undefined;
    expect(out.code).toBe(grpc.status.UNAVAILABLE);
    expect(lines.find((l) => l.msg === 'export refused' && l.code === 'UNAVAILABLE')).toMatchObject({
      level: 'warn',
      component: 'otlp',
      transport: 'grpc',
      records: 4,
      retry_after_ms: 4000,
      err: 'queue is full',
    });
  });

  it('logs malformed requests at debug only', async () => {
    // JSON.parse's own message quotes the input: the client gets it back, the log does not.
    const out = await httpPost(`${h.http}/v1/logs`, `{"a": ${MARKER}}`, { 'content-type': 'application/json' });
    expect(out.status).toBe(400);
    expect(out.body.toString()).toContain('PAYLOAD');
    const line = lines.find((l) => l.msg === 'export refused' && l.code === 'INVALID_ARGUMENT');
    expect(line).toMatchObject({ level: 'debug', transport: 'http', records: 0, err: expect.stringMatching(/excerpt omitted/) });
    await httpPost(`${h.http}/v1/logs`, 'x', { 'content-type': 'text/plain' });
    expect(lines.find((l) => l.msg === 'request refused' && l.status === 415)).toMatchObject({ level: 'debug' });
  });

  it('never wrote the payload', () => {
    expect(JSON.stringify(lines)).not.toContain(MARKER);
  });
});
