// Start-up and shutdown of the otlp receiver: addresses it reports, a port
// already taken, draining in-flight Export calls (their acknowledgement
// matters), refusing what arrives meanwhile, and force-closing at the deadline.
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeProtobufRequest } from '../../../src/otlp/convert.js';
import { until } from '../../helpers/downstream.js';
import { tempDir } from '../../helpers/tmp.js';
import { fullRequest, grpcExport, httpPost } from './clients.js';
import { type Harness, startHarness } from './harness.js';

const dir = tempDir('vigil-otlp-lifecycle-');
const running: Harness[] = [];

async function harness(opts: Parameters<typeof startHarness>[1] = {}): Promise<Harness> {
  const h = await startHarness(dir, opts);
  running.push(h);
  return h;
}

afterEach(async () => {
  for (const h of running.splice(0)) {
    h.gate.release();
    await h.stop();
  }
});

const PROTO = { 'content-type': 'application/x-protobuf' };

describe('otlp receiver lifecycle', () => {
  it('describes the addresses it actually bound', async () => {
    const h = await harness({ http: { logs_url_path: 'ingest/logs' } });
    const [g, http] = h.receiver.describe();
    expect(g).toBe(`OTLP/gRPC ${h.grpc}`);
    expect(h.grpc).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    expect(http).toBe(`OTLP/HTTP ${h.http}/ingest/logs`);
    const out = await httpPost(`${h.http}/ingest/logs`, encodeProtobufRequest(fullRequest()), PROTO);
    expect(out.status).toBe(200);
  });

  it('runs one protocol alone when only one is configured', async () => {
    const h = await harness({ grpc: null });
    expect(h.receiver.grpcAddress()).toBeUndefined();
    expect(h.receiver.describe()).toEqual([`OTLP/HTTP ${h.http}/v1/logs`]);
  });

  it('fails to start with a clear message when the port is taken', async () => {
    const first = await harness();
    await expect(startHarness(dir, { grpc: { endpoint: first.grpc } })).rejects.toThrow(
      new RegExp(`cannot listen for OTLP/gRPC on ${first.grpc.replace(/\./g, '\\.')}`),
    );
    await expect(startHarness(dir, { http: { endpoint: first.http.replace('http://', '') } })).rejects.toThrow(/cannot listen for OTLP\/HTTP/);
  });

  it('shutdown lets in-flight calls finish and be acknowledged, and refuses new ones', async () => {
    const h = await harness();
    h.gate.hold();
    const grpcCall = grpcExport(h.grpc, encodeProtobufRequest(fullRequest()));
    const httpCall = httpPost(`${h.http}/v1/logs`, encodeProtobufRequest(fullRequest()), PROTO);
    await until(() => h.gate.arrived === 2, 'both calls to reach the pipeline');

    const ac = new AbortController();
    let stopped = false;
    const stopping = h.receiver.shutdown(ac.signal).then(() => (stopped = true));

    // New calls: gRPC clients see UNAVAILABLE (retryable), new HTTP connections are refused.
    const late = await grpcExport(h.grpc, encodeProtobufRequest(fullRequest()));
    expect(late.code).toBe(grpc.status.UNAVAILABLE);
    await expect(httpPost(`${h.http}/v1/logs`, encodeProtobufRequest(fullRequest()), PROTO)).rejects.toThrow();
    expect(stopped).toBe(false);
    expect(h.stored()).toHaveLength(0);

    h.gate.release();
    expect((await grpcCall).code).toBe(grpc.status.OK);
    expect((await httpCall).status).toBe(200);
    await stopping;
    expect(h.stored()).toHaveLength(8);
    expect(await h.counted('grpc')).toMatchObject({ accepted: 4 });
  });

  it('force-closes calls still in flight when the deadline signal aborts', async () => {
    const h = await harness();
    h.gate.hold();
    const grpcCall = grpcExport(h.grpc, encodeProtobufRequest(fullRequest()));
    const httpCall = httpPost(`${h.http}/v1/logs`, encodeProtobufRequest(fullRequest()), PROTO).then(
      (r) => r.status,
      (err: Error) => err,
    );
    await until(() => h.gate.arrived === 2, 'both calls to reach the pipeline');
    await h.receiver.shutdown(AbortSignal.abort(new Error('deadline')));
    expect((await grpcCall).code).not.toBe(grpc.status.OK);
    expect(await httpCall).toBeInstanceOf(Error);
  });
});
