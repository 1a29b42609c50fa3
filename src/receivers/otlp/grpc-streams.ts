// Watching gRPC calls while their request message is still arriving: grpc-js
// buffers a message until it is complete and offers no hook before that, so a
// peer that opens streams and stalls mid-message holds memory no handler ever
// sees. This listens to the HTTP/2 streams grpc-js serves, counts each one's
// bytes against the receiver's in-flight budget (released once the message is
// complete or the stream is gone) and cuts a stream that
// - opens while the budget is spent, or sends bytes that do not fit: RST_STREAM
//   REFUSED_STREAM, which gRPC clients see as UNAVAILABLE and retry (the call
//   was not processed);
// - has not sent its whole message within receive_timeout: RST_STREAM CANCEL.
import type * as grpc from '@grpc/grpc-js';
import http2 from 'node:http2';
import type { InflightBudget } from './budget.js';

export interface StreamGuard {
  budget: InflightBudget;
  /** 0 = no limit. */
  receiveTimeoutMs: number;
  /** Told each time a stream is cut, with why. */
  onCut: (reason: 'inflight_budget' | 'receive_timeout') => void;
}

/** The HTTP/2 servers grpc-js made for its connection injectors (kept in a private map: there is no public accessor). */
function http2ServersOf(server: grpc.Server): http2.Http2Server[] {
  const map = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(map instanceof Map)) {
    throw new Error(
      'receivers.otlp: this @grpc/grpc-js version hides its HTTP/2 servers, so partly received calls cannot be bounded (max_inflight_bytes, protocols.grpc.receive_timeout): install @grpc/grpc-js 1.14',
    );
  }
  return [...(map as Map<http2.Http2Server, unknown>).keys()];
}

/** Starts guarding every stream of `server`'s connection injectors; call after createConnectionInjector. */
export function guardStreams(server: grpc.Server, guard: StreamGuard): void {
  for (const h2 of http2ServersOf(server)) h2.on('stream', (stream: http2.ServerHttp2Stream) => watch(stream, guard));
}

function watch(stream: http2.ServerHttp2Stream, guard: StreamGuard): void {
  const cut = (code: number, reason: 'inflight_budget' | 'receive_timeout') => {
    if (stream.closed || stream.destroyed) return;
    guard.onCut(reason);
    stream.close(code);
  };
  if (guard.budget.spent) {
    cut(http2.constants.NGHTTP2_REFUSED_STREAM, 'inflight_budget');
    return;
  }
  const hold = guard.budget.open();
  const timer =
    guard.receiveTimeoutMs > 0 ? setTimeout(() => cut(http2.constants.NGHTTP2_CANCEL, 'receive_timeout'), guard.receiveTimeoutMs).unref() : undefined;
  const done = () => {
    clearTimeout(timer);
    hold.release();
  };
  stream.on('data', (chunk: Buffer) => {
    if (!hold.add(chunk.length)) {
      done();
      cut(http2.constants.NGHTTP2_REFUSED_STREAM, 'inflight_budget');
    }
  });
  stream.once('end', done);
  stream.once('close', done);
}
