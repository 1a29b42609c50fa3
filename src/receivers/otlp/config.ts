// Config of the `otlp` receiver, after the Collector's otlpreceiver:
//   protocols: { grpc: { endpoint, max_recv_msg_size_mib, max_concurrent_streams, keepalive },
//                http: { endpoint, logs_url_path, max_request_body_size } }
// A protocol is enabled by naming it (`grpc:` with no settings takes the defaults).
import { z } from 'zod';
import { duration, hostPort, size } from '../../config/units.js';

/**
 * Keys the Collector has that Vigil does not implement yet: refused with a
 * message that says so, rather than the generic "unknown key" (or silently
 * ignored, which for TLS and auth would be worse). TLS/mTLS and bearer-token
 * auth arrive with the hardening issue: this is where their schemas go.
 */
function notYet(what: string) {
  return z.unknown().refine((v) => v === undefined, {
    message: `${what} is not supported by this version of Vigil yet: remove the key (terminate TLS or check tokens in front of Vigil for now)`,
  });
}

const MAX_RECV_MIB = 1024;

export const grpcConfigSchema = z
  .object({
    endpoint: hostPort().default('127.0.0.1:4317'),
    /** Largest request accepted, in MiB (after decompression); larger → RESOURCE_EXHAUSTED. */
    max_recv_msg_size_mib: z
      .number()
      .positive('must be a positive number of MiB, e.g. 4')
      .max(MAX_RECV_MIB, `must be at most ${MAX_RECV_MIB} (MiB)`)
      .default(4),
    max_concurrent_streams: z.number().int().positive('must be a positive whole number of streams per connection').optional(),
    keepalive: z
      .object({
        server_parameters: z
          .object({
            max_connection_idle: duration().optional(),
            max_connection_age: duration().optional(),
            max_connection_age_grace: duration().optional(),
            time: duration().optional(),
            timeout: duration().optional(),
          })
          .strict()
          .optional(),
        // Accepted for Collector compatibility; grpc-js has no server-side ping
        // policy, so the receiver warns at start-up that it is not enforced.
        enforcement_policy: z
          .object({ min_time: duration().optional(), permit_without_stream: z.boolean().optional() })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    tls: notYet('TLS on the OTLP receiver').optional(),
    auth: notYet('authentication on the OTLP receiver').optional(),
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
    tls: notYet('TLS on the OTLP receiver').optional(),
    auth: notYet('authentication on the OTLP receiver').optional(),
  })
  .strict();
export type HttpConfig = z.infer<typeof httpConfigSchema>;

/** `grpc:` with nothing after it is YAML null: the protocol with its defaults, as in the Collector. */
const enabled = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === null ? {} : v), schema).optional();

export const otlpReceiverConfigSchema = z
  .object({
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
