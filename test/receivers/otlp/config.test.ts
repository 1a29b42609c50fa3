// The otlp receiver's config: Collector defaults, Collector shorthands, and
// errors that name the key path and say how to fix it.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { validateConfig } from '../../../src/config/load.js';
import { otlpReceiverConfigSchema } from '../../../src/receivers/otlp/config.js';
import { serverOptions } from '../../../src/receivers/otlp/grpc.js';
import { registry } from './harness.js';

function issues(receiver: unknown): { path: string; message: string }[] {
  try {
    validateConfig(
      {
        receivers: { otlp: receiver },
        exporters: { file: { path: '/tmp/unused.jsonl' } },
        service: { pipelines: { logs: { receivers: ['otlp'], exporters: ['file'] } } },
      },
      registry,
    );
  } catch (err) {
    // Only the receiver's own issues (an invalid receiver also leaves the pipeline naming an undefined one).
    if (err instanceof ConfigError) return err.issues.filter((i) => i.path.startsWith('receivers.'));
    throw err;
  }
  return [];
}

describe('otlp receiver config', () => {
  it('fills the Collector defaults; `grpc:` and `http:` with no settings enable a protocol', () => {
    const c = otlpReceiverConfigSchema.parse({ protocols: { grpc: null, http: null } });
    expect(c.max_inflight_bytes).toBe(64 * 1024 * 1024);
    expect(c.protocols.grpc).toEqual({
      endpoint: '127.0.0.1:4317',
      max_recv_msg_size_mib: 4,
      max_request_records: 100_000,
      // Safe defaults where the Collector has none: bounded streams, call receive time and connection lifetimes.
      max_concurrent_streams: 100,
      receive_timeout: 60_000,
      max_connections: 1000,
      keepalive: { server_parameters: { max_connection_idle: 300_000, max_connection_age: 3_600_000, max_connection_age_grace: 60_000 } },
    });
    expect(serverOptions(c.protocols.grpc!)).toEqual({
      'grpc.max_receive_message_length': 4 * 1024 * 1024,
      'grpc.max_concurrent_streams': 100,
      'grpc.max_connection_idle_ms': 300_000,
      'grpc.max_connection_age_ms': 3_600_000,
      'grpc.max_connection_age_grace_ms': 60_000,
    });
    expect(c.protocols.http).toEqual({
      endpoint: '127.0.0.1:4318',
      logs_url_path: '/v1/logs',
      max_request_body_size: 20 * 1024 * 1024,
      max_request_records: 100_000,
      max_connections: 1000,
      read_header_timeout: 10_000,
      read_timeout: 60_000,
      idle_timeout: 60_000,
    });
    expect(otlpReceiverConfigSchema.parse({ protocols: { http: {} } }).protocols.grpc).toBeUndefined();
  });

  it('takes sizes and durations as operators write them, and maps gRPC settings to grpc-js options', () => {
    const c = otlpReceiverConfigSchema.parse({
      protocols: {
        grpc: {
          endpoint: '0.0.0.0:14317',
          max_recv_msg_size_mib: 16,
          max_concurrent_streams: 100,
          keepalive: {
            server_parameters: { max_connection_idle: '11s', max_connection_age: '12s', max_connection_age_grace: '5s', time: '30s', timeout: '20s' },
            enforcement_policy: { min_time: '10s', permit_without_stream: true },
          },
        },
        http: { max_request_body_size: '1MiB', logs_url_path: 'custom/logs' },
      },
    });
    expect(c.protocols.http?.max_request_body_size).toBe(1024 * 1024);
    expect(c.protocols.http?.logs_url_path).toBe('/custom/logs');
    expect(serverOptions(c.protocols.grpc!)).toEqual({
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
      'grpc.max_concurrent_streams': 100,
      'grpc.max_connection_idle_ms': 11_000,
      'grpc.max_connection_age_ms': 12_000,
      'grpc.max_connection_age_grace_ms': 5_000,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 20_000,
    });
  });

  it('needs at least one protocol', () => {
    expect(issues({})).toEqual([{ path: 'receivers.otlp.protocols', message: expect.stringMatching(/set protocols/) }]);
    expect(issues(null)).toEqual([{ path: 'receivers.otlp.protocols', message: expect.stringMatching(/set protocols/) }]);
    expect(issues({ protocols: {} })).toEqual([{ path: 'receivers.otlp.protocols', message: expect.stringMatching(/at least one protocol/) }]);
  });

  it('names the key of every mistake', () => {
    const found = issues({
      protocols: {
        grpc: { endpoint: 'localhost', max_recv_msg_size_mib: 0, keepalive: { server_parameters: { time: 'soon' } } },
        http: { max_request_body_size: 'lots', endpnt: '127.0.0.1:1' },
      },
    });
    const paths = found.map((i) => i.path).sort();
    expect(paths).toEqual([
      'receivers.otlp.protocols.grpc.endpoint',
      'receivers.otlp.protocols.grpc.keepalive.server_parameters.time',
      'receivers.otlp.protocols.grpc.max_recv_msg_size_mib',
      'receivers.otlp.protocols.http',
      'receivers.otlp.protocols.http.max_request_body_size',
    ]);
    expect(found.find((i) => i.path.endsWith('grpc.endpoint'))?.message).toMatch(/host:port/);
    expect(found.find((i) => i.path.endsWith('protocols.http'))?.message).toMatch(/unknown key\(s\) "endpnt"/);
  });

  it('takes Collector-shaped tls and auth blocks, and names the key of their mistakes', () => {
    const c = otlpReceiverConfigSchema.parse({
      protocols: {
        grpc: { tls: { cert_file: 'a.pem', key_file: 'a.key', client_ca_file: 'ca.pem', min_version: 1.3 }, auth: { authenticator: 'bearertokenauth' } },
        http: { tls: { cert_file: 'a.pem', key_file: 'a.key', reload_interval: '5s' }, auth: { authenticator: 'bearertokenauth/ingest' } },
      },
    });
    expect(c.protocols.grpc?.tls).toEqual({ cert_file: 'a.pem', key_file: 'a.key', client_ca_file: 'ca.pem', min_version: '1.3', reload_interval: 60_000 });
    expect(c.protocols.http?.tls).toEqual({ cert_file: 'a.pem', key_file: 'a.key', min_version: '1.2', reload_interval: 5_000 });
    expect(c.protocols.http?.auth).toEqual({ authenticator: 'bearertokenauth/ingest' });
    const found = issues({
      protocols: {
        grpc: { tls: { cert_file: 'a.pem', ca_file: 'ca.pem', min_version: '1.1' } },
        http: { auth: { authenticator: 'Bearer Token' } },
      },
    });
    expect(found).toEqual([
      { path: 'receivers.otlp.protocols.grpc.tls.key_file', message: expect.stringMatching(/set key_file/) },
      { path: 'receivers.otlp.protocols.grpc.tls.min_version', message: expect.stringMatching(/"1\.2" or "1\.3"/) },
      { path: 'receivers.otlp.protocols.grpc.tls.ca_file', message: expect.stringMatching(/client_ca_file/) },
      { path: 'receivers.otlp.protocols.http.auth.authenticator', message: expect.stringMatching(/extension id/) },
    ]);
    expect(issues({ protocols: { http: { read_header_timeout: '30s', read_timeout: '5s' } } })).toEqual([
      { path: 'receivers.otlp.protocols.http.read_timeout', message: expect.stringMatching(/at least read_header_timeout/) },
    ]);
    expect(issues({ protocols: { thrift: {} } })[0].path).toBe('receivers.otlp.protocols');
  });
});
