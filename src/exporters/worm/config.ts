// The `worm` exporter's configuration (exporters: { worm: { ... } }).
// Every field has a default except what only the operator can know (bucket);
// unknown keys are refused so that a typo never silently weakens the archive.
import { z } from 'zod';
import { duration, size } from '../../config/units.js';
import { type Retention, type RetentionInput, parseRetention } from './retention.js';
import { DEFAULT_SSE, sseConfigSchema } from './sse.js';

const retentionSchema = z
  .union([z.string(), z.number(), z.object({ preset: z.string().optional(), period: z.union([z.string(), z.number()]).optional() }).strict()])
  .transform((v, ctx): Retention => {
    try {
      return parseRetention(v as RetentionInput);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

const s3Schema = z
  .object({
    bucket: z.string().min(3, 'set the bucket name (created with Object Lock enabled)'),
    prefix: z
      .string()
      .default('')
      .refine((p) => !p.startsWith('/'), { message: 'the prefix is a key prefix such as vigil/, without a leading slash' }),
    endpoint: z
      .string()
      .refine((e) => e === '' || /^https?:\/\/[^/\s]+/.test(e), { message: 'expected a URL such as https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:7480' })
      .optional(),
    region: z.string().min(1).optional(),
    force_path_style: z.boolean().default(false),
    object_lock: z
      .object({
        mode: z.enum(['COMPLIANCE', 'GOVERNANCE'], { message: 'mode is COMPLIANCE (nobody can shorten or delete) or GOVERNANCE (privileged bypass allowed)' }).default('COMPLIANCE'),
        legal_hold: z.boolean().default(false),
      })
      .strict()
      .default({ mode: 'COMPLIANCE', legal_hold: false }),
    /** Server-side encryption of every object (sse-s3 by default, as AWS does since 2023). */
    encryption: sseConfigSchema.default(DEFAULT_SSE),
    /** Accept a bucket without Object Lock (objects are then not WORM-protected): an explicit, logged opt-out. */
    allow_unlocked_bucket: z.boolean().default(false),
    retry: z
      .object({ initial_interval: duration().default(1000), max_interval: duration().default(60_000) })
      .strict()
      .default({ initial_interval: 1000, max_interval: 60_000 }),
    /** Per-request timeout. */
    timeout: duration().default(30_000),
  })
  .strict();

export const wormConfigSchema = z
  .object({
    directory: z.string().min(1).default('./vigil-data/archive'),
    segment: z
      .object({
        max_bytes: size()
          .default(64 * 1024 * 1024)
          .refine((n) => n >= 4096, { message: 'max_bytes below 4KiB would seal on almost every batch: use e.g. 64MiB' })
          // Readers refuse to inflate a segment past compression.ts MAX_CONTENT_BYTES (1 GiB: a bomb, not a segment); this keeps every segment below it.
          .refine((n) => n <= 512 * 1024 * 1024, { message: 'max_bytes above 512MiB: archive readers refuse segments that inflate past 1GiB; use e.g. 64MiB' }),
        max_age: duration()
          .default(300_000)
          .refine((n) => n >= 100, { message: 'max_age must be at least 100ms, e.g. 5m' }),
      })
      .strict()
      .default({ max_bytes: 64 * 1024 * 1024, max_age: 300_000 }),
    heartbeat: duration()
      .default(60_000)
      .refine((n) => n >= 100, { message: 'heartbeat must be at least 100ms, e.g. 1m' }),
    signing: z
      .object({
        key_file: z.string().min(1).default('./vigil-data/keys/archive.key'),
        /** Generate the key pair when key_file does not exist (first run). */
        generate: z.boolean().default(true),
        /**
         * Allow this start to sign with a key other than the one that signed the
         * archive (or to create one when the key file is missing): the rotation is
         * recorded in the chain. Off, a missing or different key refuses the start.
         */
        rotate: z.boolean().default(false),
      })
      .strict()
      .default({ key_file: './vigil-data/keys/archive.key', generate: true, rotate: false }),
    retention: retentionSchema.optional(),
    /** Keep local copies of uploaded, locked segments this long (unset: keep them forever). */
    local_retention: duration().optional(),
    /**
     * How entries are stored (docs/archive-format.md): `proto`, format v2: each record's
     * protobuf bytes in a length-framed binary entry, segments sealed with zstd; `json`,
     * format v1: each record's OTLP/JSON in a JSON line, sealed with gzip (readable with
     * zcat and jq, at several times the CPU per record). Readers take both, in one archive.
     */
    encoding: z.enum(['proto', 'json'], { message: 'encoding is proto (format v2, the default) or json (format v1: OTLP/JSON lines)' }).default('proto'),
    /** Level of the sealed segments' compression: zstd 1–19 for proto (default 1), gzip 1–9 for json (default 3). */
    compression_level: z.number().int().min(1).max(19).optional(),
    s3: s3Schema.optional(),
    /** Encrypt local segments (open and sealed) with a fresh data key each, wrapped by this 256-bit key (encryption.ts). */
    encryption: z
      .object({
        key_file: z.string().min(1),
        /** The day keys that wrap data keys (default: <key_file name>.keyring.json beside it); back it up with the key. */
        keyring: z.string().min(1).optional(),
        /** Not supported: named so that the error can say why (docs/encryption.md). */
        kms_key_id: z
          .string()
          .optional()
          .refine((v) => v === undefined, {
            message: 'local segments are encrypted with key_file only: an S3-compatible KMS (radosgw) offers no data-key API to wrap keys with; use s3.encryption for SSE-KMS of the uploaded objects',
          }),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.encoding === 'json' && c.compression_level !== undefined && c.compression_level > 9) {
      ctx.addIssue({ code: 'custom', path: ['compression_level'], message: 'encoding: json seals with gzip, whose levels are 1–9 (zstd levels up to 19 are for encoding: proto)' });
    }
    if (c.s3 && !c.retention) {
      ctx.addIssue({ code: 'custom', path: ['retention'], message: 'S3 Object Lock needs a retention: set retention: 400d or a preset (pci-dss, hipaa, sec-17a-4, sox)' });
    }
    if (c.local_retention !== undefined && !c.s3) {
      ctx.addIssue({ code: 'custom', path: ['local_retention'], message: 'local copies are pruned only once uploaded to S3: configure s3 or remove local_retention' });
    }
  });

export type WormConfig = z.infer<typeof wormConfigSchema>;
export type S3Config = NonNullable<WormConfig['s3']>;
