// Config of the otlp_grpc and otlp_http exporters, after the Collector's
// otlpexporter / otlphttpexporter and their exporterhelper settings
// (timeout, retry_on_failure, sending_queue), with the Collector's defaults.
import { z } from 'zod';
import { duration, size } from '../../config/units.js';

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const COMPONENT_ID = /^[a-z][a-z0-9_]*(\/[A-Za-z0-9_.-]+)?$/;

export const retryOnFailureSchema = z
  .object({
    enabled: z.boolean().default(true),
    initial_interval: duration().default(5_000),
    max_interval: duration().default(30_000),
    /** 0 = never give up. */
    max_elapsed_time: duration().default(300_000),
    multiplier: z.number().min(1, 'multiplier must be at least 1 (1.5 grows each wait by half)').default(1.5),
    randomization_factor: z.number().min(0).max(1, 'randomization_factor is a fraction between 0 and 1').default(0.5),
  })
  .strict()
  .refine((r) => r.initial_interval > 0, { path: ['initial_interval'], message: 'must be greater than 0, e.g. 5s' })
  .refine((r) => r.max_interval >= r.initial_interval, { path: ['max_interval'], message: 'must be at least initial_interval' });
export type RetryOnFailureConfig = z.infer<typeof retryOnFailureSchema>;

/** sending_queue.batch, after the Collector's exporterhelper: merge small batches before they are queued. */
export const queueBatchSchema = z
  .object({
    /** Longest a batch waits for others to join (its caller's acknowledgement waits as long at most). */
    flush_timeout: duration()
      .default(200)
      .refine((t) => t > 0, 'flush_timeout must be greater than 0, e.g. 200ms'),
    /** Flush as soon as this much is pending (records, or bytes with sizer: bytes). */
    min_size: z.number().int().min(0, 'min_size cannot be negative').default(8192),
    /** A merged batch never grows past this; 0 = no limit. */
    max_size: z.number().int().min(0, 'max_size cannot be negative (0 = no limit)').default(0),
    sizer: z.enum(['items', 'bytes'], { message: 'sizer is items or bytes' }).default('items'),
  })
  .strict()
  .refine((b) => b.max_size === 0 || b.max_size >= b.min_size, { path: ['max_size'], message: 'max_size must be at least min_size (or 0 for no limit)' });
export type QueueBatchConfig = z.infer<typeof queueBatchSchema>;

export const sendingQueueSchema = z
  .object({
    enabled: z.boolean().default(true),
    num_consumers: z.number().int().min(1, 'at least one consumer is needed to send').max(1000).default(10),
    /** In batches (one per Export call reaching the exporter). */
    queue_size: z.number().int().min(1, 'the queue must hold at least one batch').default(1000),
    /** Id of a storage extension (file_storage) that makes the queue persistent; in memory when absent. */
    storage: z.string().regex(COMPONENT_ID, 'name a storage extension id, e.g. file_storage or file_storage/queue').optional(),
    /** Present: merge batches before queueing (`batch: {}` takes the defaults). */
    batch: z.preprocess((v) => (v === null ? {} : v), queueBatchSchema).optional(),
  })
  .strict()
  .refine((q) => q.enabled || q.storage === undefined, {
    path: ['storage'],
    message: 'a persistent queue needs sending_queue.enabled: true (remove storage or enable the queue)',
  });
export type SendingQueueConfig = z.infer<typeof sendingQueueSchema>;

export const tlsSchema = z
  .object({
    /** gRPC: plaintext instead of TLS. For otlp_http the URL scheme decides; accepted there for compatibility. */
    insecure: z.boolean().default(false),
    ca_file: z.string().min(1).optional(),
    cert_file: z.string().min(1).optional(),
    key_file: z.string().min(1).optional(),
  })
  .strict()
  .refine((t) => (t.cert_file === undefined) === (t.key_file === undefined), {
    path: ['cert_file'],
    message: 'client certificates need both cert_file and key_file',
  });
export type TlsConfig = z.infer<typeof tlsSchema>;

const headers = z
  .record(
    z.string().regex(HEADER_NAME, 'header names are HTTP tokens (letters, digits, - and a few symbols)'),
    z.string().refine((v) => !/[\r\n\0]/.test(v), 'header values cannot contain line breaks'),
  )
  .default({});

const compression = z
  .enum(['gzip', 'none', ''], { message: 'compression is gzip or none' })
  .default('gzip')
  .transform((c): 'gzip' | 'none' => (c === '' ? 'none' : c));

/** What a default Collector accepts in one request (its gRPC max_recv_msg_size_mib: 4). */
export const DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024;

const common = {
  headers,
  /** Largest request sent downstream, encoded, before compression: batches are split to fit. */
  max_request_bytes: size()
    .default(DEFAULT_MAX_REQUEST_BYTES)
    .refine((n) => n >= 1024, 'max_request_bytes must be at least 1KiB, e.g. 4MiB (what a default Collector accepts)'),
  /** Most records in one request sent downstream; 0 = no limit. */
  max_batch_records: z.number().int('a whole number of records').min(0, 'a number of records (0 = no limit)').default(0),
  timeout: duration()
    .default(5_000)
    .refine((t) => t > 0, 'timeout must be greater than 0, e.g. 5s'),
  compression,
  retry_on_failure: retryOnFailureSchema.prefault({}),
  sending_queue: sendingQueueSchema.prefault({}),
  tls: tlsSchema.prefault({}),
};

/** `host:port`, or `http://host:port` (plaintext) / `https://host:port` (TLS) as the Collector accepts. */
export function parseGrpcEndpoint(endpoint: string): { target: string; scheme: 'http' | 'https' | undefined } | undefined {
  const m = /^(?:(https?):\/\/)?((?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5}))\/?$/.exec(endpoint.trim());
  if (!m || Number(m[3]) > 65535) return undefined;
  return { target: m[2], scheme: m[1] as 'http' | 'https' | undefined };
}

export const otlpGrpcConfigSchema = z
  .object({
    endpoint: z
      .string({ message: 'set the downstream address, e.g. endpoint: 127.0.0.1:4317' })
      .refine((e) => parseGrpcEndpoint(e) !== undefined, 'expected host:port (or http://host:port, https://host:port), e.g. 127.0.0.1:4317'),
    ...common,
  })
  .strict();
export type OtlpGrpcConfig = z.infer<typeof otlpGrpcConfigSchema>;

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}
const httpUrl = (example: string) => z.string().refine(isHttpUrl, `expected an http:// or https:// URL, e.g. ${example}`);

export const otlpHttpConfigSchema = z
  .object({
    /** Base URL: logs go to `<endpoint>/v1/logs`. */
    endpoint: httpUrl('http://127.0.0.1:4318').optional(),
    /** Full URL for logs, used as is (overrides endpoint). */
    logs_endpoint: httpUrl('http://127.0.0.1:4318/v1/logs').optional(),
    encoding: z.enum(['proto', 'json'], { message: 'encoding is proto or json' }).default('proto'),
    ...common,
  })
  .strict()
  .refine((c) => c.endpoint !== undefined || c.logs_endpoint !== undefined, {
    path: ['endpoint'],
    message: 'set the downstream base URL, e.g. endpoint: http://127.0.0.1:4318 (or logs_endpoint)',
    // Report a missing endpoint together with any other mistake, not after they are fixed.
    when: (p) => typeof p.value === 'object' && p.value !== null,
  });
export type OtlpHttpConfig = z.infer<typeof otlpHttpConfigSchema>;

/** The URL logs are POSTed to. */
export function logsUrl(c: Pick<OtlpHttpConfig, 'endpoint' | 'logs_endpoint'>): URL {
  if (c.logs_endpoint) return new URL(c.logs_endpoint);
  const base = new URL(c.endpoint!);
  base.pathname = `${base.pathname.replace(/\/+$/, '')}/v1/logs`;
  return base;
}

/** What both exporters share, after validation. */
export type OtlpCommonConfig = Pick<
  OtlpGrpcConfig,
  'headers' | 'timeout' | 'compression' | 'retry_on_failure' | 'sending_queue' | 'tls' | 'max_request_bytes' | 'max_batch_records'
>;
