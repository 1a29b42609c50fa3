// Slow and abusive clients against the OTLP receiver, with real sockets:
// HTTP slowloris (headers byte by byte) and slow bodies are cut off with 408,
// idle keep-alive connections are closed, oversized headers get 431, and the
// connection cap holds on both protocols; on gRPC, peers that do not answer
// keepalive PINGs are dropped, idle and old connections get GOAWAY, and a
// peer opening more streams than max_concurrent_streams is refused.
// Every abusive loop is bounded; waits are on events with deadlines.
import * as grpc from '@grpc/grpc-js';
import { connect as h2connect } from 'node:http2';
import type { Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../helpers/downstream.js';
import { tempDir } from '../helpers/tmp.js';
import { BODY, closedBy, grpcCall, rawConnect, request } from './clients.js';
import { FRAME, RawH2, frame, hpack } from './h2raw.js';
import { type Secured, logLines, startSecured } from './harness.js';

const dir = tempDir('vigil-abuse-');
const running: Secured[] = [];
const sockets: Socket[] = [];
afterAll(async () => {
  for (const s of sockets) s.destroy();
  for (const h of running) await h.stop();
});

async function start(opts: Parameters<typeof startSecured>[1]): Promise<Secured> {
  const h = await startSecured(dir, opts);
  running.push(h);
  return h;
}

async function raw(address: string): Promise<Socket> {
  const s = await rawConnect(address);
  sockets.push(s);
  return s;
}

/** The head of a keep-alive OTLP/HTTP POST of BODY. */
const postHead = () => `POST /v1/logs HTTP/1.1\r\nHost: vigil\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${BODY.length}\r\n\r\n`;

/**
 * Writes `bytes` one at a time every `everyMs` until the server closes the
 * connection or the bytes run out; resolves with how many were written and
 * what came back.
 */
async function drip(s: Socket, bytes: Buffer, everyMs: number): Promise<{ sent: number; reply: string; cut: boolean }> {
  const gone = closedBy(s);
  let closed = false;
  void gone.then(() => (closed = true));
  let sent = 0;
  while (sent < bytes.length && !closed) {
    s.write(bytes.subarray(sent, sent + 1));
    sent++;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  const cut = closed;
  s.destroy();
  return { sent, reply: (await gone).toString('latin1'), cut };
}

describe('HTTP: slow clients', () => {
  it('cuts off a slowloris client (headers byte by byte) with 408, while others are served; nothing stored', async () => {
    // Limits of a second or two, not less: the normal request below must beat them even when a loaded
    // machine stalls Vigil's event loop between accepting its connection and reading it.
    const h = await start({ grpc: null, http: { read_header_timeout: '1s', read_timeout: '2s' } });
    const s = await raw(h.http);
    s.write(`POST /v1/logs HTTP/1.1\r\nHost: vigil\r\nContent-Type: application/x-protobuf\r\n`);
    // At most 400 bytes at 20ms each: 8s if never cut, far beyond the 1s limit.
    const slow = drip(s, Buffer.from(`X-Slow: ${'a'.repeat(390)}\r\n`), 20);
    const normal = await request(`http://${h.http}/v1/logs`);
    expect(normal.status).toBe(200);
    const out = await slow;
    expect(out.cut).toBe(true);
    expect(out.sent).toBeLessThan(400);
    expect(out.reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(h.stored()).toHaveLength(4); // the normal request's records only
  });

  it('cuts off a client that sends its body byte by byte (read_timeout) with 408; nothing stored', async () => {
    // BODY is ~1 kB: 20 s at 20 ms a byte if never cut, far beyond the 2s limit.
    const h = await start({ grpc: null, http: { read_header_timeout: '1s', read_timeout: '2s' } });
    const s = await raw(h.http);
    s.write(`POST /v1/logs HTTP/1.1\r\nHost: vigil\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${BODY.length}\r\n\r\n`);
    const out = await drip(s, Buffer.from(BODY), 20);
    expect(out.cut).toBe(true);
    expect(out.sent).toBeLessThan(BODY.length);
    expect(out.reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(h.gate.arrived).toBe(0);
    expect(h.stored()).toHaveLength(0);
  });

  it('closes keep-alive connections left idle for idle_timeout (not after Node\'s 5 s default)', async () => {
    const h = await start({ grpc: null, http: { idle_timeout: '1s' } });
    const s = await raw(h.http);
    const gone = closedBy(s);
    s.write(postHead());
    s.write(BODY);
    const reply = (await gone).toString('latin1');
    // Answered 200 with keep-alive, then closed by the server once idle. The advertised timeout is
    // the one the server closes on: 1 s from idle_timeout, where Node's own default would say 5.
    expect(reply).toMatch(/^HTTP\/1\.1 200 [\s\S]*Connection: keep-alive\r\n/);
    expect(reply).toMatch(/\r\nKeep-Alive: timeout=1\r\n/);
    // And the default is the receiver's documented 60 s, not Node's 5 s.
    const d = await start({ grpc: null, http: {} });
    const ds = await raw(d.http);
    const answered = new Promise<string>((resolve) => ds.once('data', (b: Buffer) => resolve(b.toString('latin1'))));
    ds.write(postHead());
    ds.write(BODY);
    expect(await answered).toMatch(/\r\nKeep-Alive: timeout=60\r\n/);
  });

  it('answers 431 to a header block over 16 KiB', async () => {
    const h = await start({ grpc: null, http: {} });
    const s = await raw(h.http);
    const gone = closedBy(s);
    s.write(`POST /v1/logs HTTP/1.1\r\nHost: vigil\r\nX-Big: ${'b'.repeat(17 * 1024)}\r\n\r\n`);
    expect((await gone).toString('latin1')).toMatch(/^HTTP\/1\.1 431 /);
  });
});

describe('connection cap (max_connections)', () => {
  it('HTTP: closes connections over the cap as soon as they are accepted, counts and logs them, and recovers', async () => {
    const log = logLines();
    const h = await start({ grpc: null, http: { max_connections: 3 }, logger: log.logger });
    // Three keep-alive connections, each proven accepted by an answer.
    const held: Socket[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await raw(h.http);
      const answered = new Promise<string>((resolve) => s.once('data', (d: Buffer) => resolve(d.toString('latin1'))));
      s.write(postHead());
      s.write(BODY);
      expect(await answered).toMatch(/^HTTP\/1\.1 200 /);
      held.push(s);
    }
    const extra = await raw(h.http);
    extra.write(postHead());
    expect((await closedBy(extra)).length).toBe(0);
    expect(await h.metric('vigil_server_refused_connections_total', { server: 'otlp', transport: 'http', reason: 'max_connections' })).toBe(1);
    expect(log.lines.find((l) => l.msg === 'connection limit reached: closing new connections')).toMatchObject({ level: 'warn', max_connections: 3 });

    held[0].destroy();
    await until(async () => (await request(`http://${h.http}/v1/logs`).then((r) => r.status, () => 0)) === 200, 'a slot to free up');
  });

  it('gRPC: closes connections over the cap; clients get UNAVAILABLE (and retry) until a slot frees up', async () => {
    const h = await start({ http: null, grpc: { max_connections: 2 } });
    const peers: RawH2[] = [];
    for (let i = 0; i < 2; i++) {
      const p = new RawH2(await raw(h.grpc));
      p.hello();
      await until(() => p.has(FRAME.SETTINGS), 'the server SETTINGS (the connection was accepted)');
      peers.push(p);
    }
    const extra = await raw(h.grpc);
    expect((await closedBy(extra)).length).toBe(0);
    expect((await grpcCall(h.grpc)).code).toBe(grpc.status.UNAVAILABLE);
    expect(await h.metric('vigil_server_refused_connections_total', { server: 'otlp', transport: 'grpc', reason: 'max_connections' })).toBeGreaterThanOrEqual(2);
    expect(h.stored()).toHaveLength(0);

    peers[0].socket.destroy();
    await until(async () => (await grpcCall(h.grpc)).code === grpc.status.OK, 'a slot to free up');
    expect(h.stored()).toHaveLength(4);
  });
});

describe('gRPC: keepalive and connection lifetime', () => {
  it('drops a peer that does not answer keepalive PINGs (time / timeout)', async () => {
    const h = await start({ http: null, grpc: { keepalive: { server_parameters: { time: '100ms', timeout: '100ms' } } } });
    const deaf = new RawH2(await raw(h.grpc));
    deaf.hello();
    await deaf.done;
    expect(deaf.has(FRAME.PING, (f) => (f.flags & 1) === 0)).toBe(true);
  });

  it('keeps a peer that answers its PINGs', async () => {
    // A PING every 50 ms, but 5 s to answer each: a loaded machine can hold the test's answer back for
    // longer than 100 ms, and that would drop a polite peer.
    const h = await start({ http: null, grpc: { keepalive: { server_parameters: { time: '50ms', timeout: '5s' } } } });
    const polite = new RawH2(await raw(h.grpc), true);
    polite.hello();
    // Several PING rounds answered: well past the point where a deaf peer is dropped.
    await until(() => polite.frames.filter((f) => f.type === FRAME.PING).length >= 4, () => `four PINGs (${polite.frames.filter((f) => f.type === FRAME.PING).length} seen, connection ${polite.closed ? 'closed' : 'open'})`);
    expect(polite.closed).toBe(false);
  });

  it('sends GOAWAY to connections idle for max_connection_idle, even ones that never sent the HTTP/2 preface', async () => {
    const h = await start({ http: null, grpc: { keepalive: { server_parameters: { max_connection_idle: '200ms' } } } });
    const idle = new RawH2(await raw(h.grpc));
    idle.hello();
    await idle.done;
    expect(idle.has(FRAME.GOAWAY)).toBe(true);
    const silent = await raw(h.grpc);
    await closedBy(silent); // a TCP connection that never says anything is closed too
  });

  it('sends GOAWAY to connections older than max_connection_age, closing them after the grace period', async () => {
    const h = await start({ http: null, grpc: { keepalive: { server_parameters: { max_connection_age: '200ms', max_connection_age_grace: '200ms' } } } });
    const old = new RawH2(await raw(h.grpc), true);
    old.hello();
    await old.done;
    expect(old.has(FRAME.GOAWAY)).toBe(true);
  });

  it('advertises max_concurrent_streams and drops a peer that opens more', async () => {
    const h = await start({ http: null, grpc: { max_concurrent_streams: 2 } });
    // What a well-behaved client is told.
    const session = h2connect(`http://${h.grpc}`);
    const settings = await new Promise<{ maxConcurrentStreams?: number }>((resolve) => session.once('remoteSettings', resolve));
    session.close();
    expect(settings.maxConcurrentStreams).toBe(2);

    // A client that ignores it: three open streams (headers only, no END_STREAM) on one connection.
    const rude = new RawH2(await raw(h.grpc));
    rude.hello();
    await until(() => rude.has(FRAME.SETTINGS, (f) => (f.flags & 1) === 0), 'the server SETTINGS');
    const headers = hpack([
      [':method', 'POST'],
      [':scheme', 'http'],
      [':path', '/opentelemetry.proto.collector.logs.v1.LogsService/Export'],
      [':authority', 'vigil'],
      ['content-type', 'application/grpc'],
      ['te', 'trailers'],
    ]);
    for (const id of [1, 3, 5]) rude.send(frame(FRAME.HEADERS, 0x4, id, headers));
    // nghttp2 treats it as a protocol violation: GOAWAY (PROTOCOL_ERROR) naming stream 3 as the last
    // one it took, then the connection closes.
    await rude.done;
    const goaway = rude.frames.find((f) => f.type === FRAME.GOAWAY)!;
    expect(goaway.payload.readUInt32BE(0) & 0x7fffffff).toBe(3);
    expect(goaway.payload.readUInt32BE(4)).toBe(1); // PROTOCOL_ERROR
    expect(goaway.payload.subarray(8).toString()).toMatch(/max concurrent streams exceeded/);
  });
});
