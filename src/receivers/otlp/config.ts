// Config of the `otlp` receiver, after the Collector's otlpreceiver:
//   max_inflight_bytes,
//   protocols: { grpc: { endpoint, max_recv_msg_size_mib, max_request_records, max_concurrent_streams, receive_timeout,
//                        max_connections, keepalive, tls, auth },
//                http: { endpoint, logs_url_path, max_request_body_size, max_request_records, max_connections,
//                        read_header_timeout, read_timeout, idle_timeout, tls, auth } }
// Keys the Collector does not have (max_inflight_bytes, max_request_records, receive_timeout) bound the
// work and memory one client can cause; see README.md.
// A protocol is enabled by naming it (`grpc:` with no settings takes the defaults).
import { z } from 'zod';
import { duration, hostPort, size } from '../../config/units.js';
import { serverAuthSchema } from '../../security/auth.js';
import { tlsServerSchema } from '../../security/tls.js';

/** Concurrent connections per protocol by default: far above what a sidecar or gateway needs, far below what exhausts file descriptors. */
export const DEFAULT_MAX_CONNECTIONS = 1000;

const maxConnections = z
  .number()
  .int('a whole number of connections')
  .min(0, 'a number of connections (0 = unlimited)')
  .default(DEFAULT_MAX_CONNECTIONS);

const MAX_RECV_MIB = 1024;

/** Streams per gRPC connection by default (grpc-go and the Collector advertise no limit; 100 is what most HTTP/2 servers allow). */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 100;

/**
 * Connection lifetimes by default (the Collector leaves them unlimited): an idle
 * connection holds a socket and a session for nothing, and an old one is asked
 * to reconnect (GOAWAY, calls in flight finish within the grace period), so no
 * peer keeps a connection, and what it holds, forever.
 */
export const DEFAULT_KEEPALIVE = { max_connection_idle: 5 * 60_000, max_connection_age: 60 * 60_000, max_connection_age_grace: 60_000 } as const;

/** Bytes of requests still arriving, across both protocols, by default. */
export const DEFAULT_MAX_INFLIGHT_BYTES = 64 * 1024 * 1024;

/**
 * Records one request may hold by default: far above what SDKs and Collectors
 * batch (512 / 8192), far below the millions of empty records a 4 MiB request
 * can carry, each of which would be enriched, archived and exported.
 */
export const DEFAULT_MAX_REQUEST_RECORDS = 100_000;

const maxRequestRecords = z
  .number()
  .int('a whole number of log records')
  .positive('must be a positive number of log records, e.g. 100000')
  .default(DEFAULT_MAX_REQUEST_RECORDS);

export const grpcConfigSchema = z
  .object({
    endpoint: hostPort().default('127.0.0.1:4317'),
    /** Largest request accepted, in MiB (after decompression); larger → RESOURCE_EXHAUSTED. */
    max_recv_msg_size_mib: z
      .number()
      .positive('must be a positive number of MiB, e.g. 4')
      .max(MAX_RECV_MIB, `must be at most ${MAX_RECV_MIB} (MiB)`)
      .default(4),
    /** Log records one request may hold, counted before it is decoded; more → INVALID_ARGUMENT. */
    max_request_records: maxRequestRecords,
    /** Concurrent calls per HTTP/2 connection (advertised in SETTINGS). */
    max_concurrent_streams: z.number().int().positive('must be a positive whole number of streams per connection').default(DEFAULT_MAX_CONCURRENT_STREAMS),
    /** A call's request message must be fully received within this after the call opened; else the stream is cancelled. 0 = no limit. */
    receive_timeout: duration().default(60_000),
    /** Concurrent connections; more are closed as soon as accepted (0 = unlimited). */
    max_connections: maxConnections,
    keepalive: z
      .object({
        server_parameters: z
          .object({
            max_connection_idle: duration().default(DEFAULT_KEEPALIVE.max_connection_idle),
            max_connection_age: duration().default(DEFAULT_KEEPALIVE.max_connection_age),
            max_connection_age_grace: duration().default(DEFAULT_KEEPALIVE.max_connection_age_grace),
            time: duration().optional(),
            timeout: duration().optional(),
          })
          .strict()
          .prefault({}),
        // Accepted for Collector compatibility; grpc-js has no server-side ping
        // policy, so the receiver warns at start-up that it is not enforced
        // (see the README: keepalive pings and max_connection_idle/age are).
        enforcement_policy: z
          .object({ min_time: duration().optional(), permit_without_stream: z.boolean().optional() })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
    /** TLS (mTLS with client_ca_file); plaintext when absent. */
    tls: tlsServerSchema.optional(),
    /** `authenticator: <extension id>`: every call must carry a valid credential. */
    auth: serverAuthSchema.optional(),
  })
  .strict();
export type GrpcConfig = z.infer<typeof grpcConfigSchema>;

export const httpConfigSchema = z
  .object({
    endpoint: hostPort().default('127.0.0.1:4318'),
    // Like the Collector, a path without its leading slash gets one.
    logs_url_path: z
      .string()
      .min(1, 'set the path logs are POSTed to, e.g. /v1/logs')
      .refine((p) => !/[\s?#]/.test(p), 'a URL path has no spaces, ? or #')
      .transform((p) => (p.startsWith('/') ? p : `/${p}`))
      .default('/v1/logs'),
    /** Largest request body accepted, compressed and after decompression; larger → 413. */
    max_request_body_size: size()
      .refine((n) => n > 0, 'must be greater than 0, e.g. 20MiB')
      .default(20 * 1024 * 1024),
    /** Log records one request may hold, counted before it is decoded; more → 400. */
    max_request_records: maxRequestRecords,
    /** Concurrent connections; more are closed as soon as accepted (0 = unlimited). */
    max_connections: maxConnections,
    /** Request headers must arrive within this (slowloris): 408 and close otherwise. */
    read_header_timeout: duration()
      .refine((t) => t > 0, 'must be greater than 0, e.g. 10s')
      .default(10_000),
    /** The whole request (headers and body) must arrive within this; 0 = no limit. */
    read_timeout: duration().default(60_000),
    /** Keep-alive connections idle this long are closed. */
    idle_timeout: duration()
      .refine((t) => t > 0, 'must be greater than 0, e.g. 60s')
      .default(60_000),
    /** TLS (mTLS with client_ca_file); plaintext when absent. */
    tls: tlsServerSchema.optional(),
    /** `authenticator: <extension id>`: every request must carry a valid credential. */
    auth: serverAuthSchema.optional(),
  })
  .strict()
  .refine((h) => h.read_timeout === 0 || h.read_timeout >= h.read_header_timeout, {
    path: ['read_timeout'],
    message: 'read_timeout covers the headers too: make it at least read_header_timeout (or 0 for no limit)',
  });
export type HttpConfig = z.infer<typeof httpConfigSchema>;

/** `grpc:` with nothing after it is YAML null: the protocol with its defaults, as in the Collector. */
const enabled = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === null ? {} : v), schema).optional();

export const otlpReceiverConfigSchema = z
  .object({
    /** Bytes of requests still arriving (gRPC messages, HTTP bodies), across both protocols; beyond → retryable refusal. */
    max_inflight_bytes: size()
      .refine((n) => n >= 64 * 1024, 'must be at least 64KiB, e.g. 64MiB')
      .default(DEFAULT_MAX_INFLIGHT_BYTES),
    protocols: z
      .object(
        { grpc: enabled(grpcConfigSchema), http: enabled(httpConfigSchema) },
        { error: (iss) => (iss.input === undefined ? 'set protocols: { grpc: {...} } and/or { http: {...} }' : undefined) },
      )
      .strict()
      .refine((p) => p.grpc !== undefined || p.http !== undefined, {
        message: 'enable at least one protocol: grpc and/or http, e.g. protocols: { grpc: { endpoint: 127.0.0.1:4317 } }',
      }),
  })
  .strict();
export type OtlpReceiverConfig = z.infer<typeof otlpReceiverConfigSchema>;
