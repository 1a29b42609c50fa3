// S3 server-side encryption of archive objects (`worm.s3.encryption`): the
// config, the PutObject parameters, what HeadObject says an object carries, and
// the start-up probe. Every object Vigil writes (segments, manifests, and
// anything else under the archive's prefix) goes through ssePutParams, and its
// encryption is read back: a store that accepts the header but stores the
// object in clear (radosgw without its own SSE-S3 setup does exactly that) is
// caught, never trusted.
import { randomBytes } from 'node:crypto';
import type { PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { describeS3Error, httpStatus, s3sdk } from './s3.js';

export type SseMode = 'sse-kms' | 'sse-s3' | 'none';

export const sseConfigSchema = z
  .object({
    mode: z.enum(['sse-kms', 'sse-s3', 'none'], { message: 'mode is sse-kms (a KMS key you manage), sse-s3 (keys managed by the store) or none' }).default('sse-s3'),
    /** Key id, key ARN or alias (SSE-KMS only). */
    kms_key_id: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.mode === 'sse-kms' && !c.kms_key_id) ctx.addIssue({ code: 'custom', path: ['kms_key_id'], message: 'sse-kms needs kms_key_id: the KMS key id or ARN the objects are encrypted with' });
    if (c.mode !== 'sse-kms' && c.kms_key_id) ctx.addIssue({ code: 'custom', path: ['kms_key_id'], message: `kms_key_id is used only with mode: sse-kms (mode is ${c.mode})` });
  });

export type SseConfig = z.infer<typeof sseConfigSchema>;
export const DEFAULT_SSE: SseConfig = { mode: 'sse-s3' };

/** What an object carries, as HeadObject reports it. */
export interface ObjectEncryption {
  mode: SseMode;
  kmsKeyId?: string | undefined;
}

export function ssePutParams(c: SseConfig): Pick<PutObjectCommandInput, 'ServerSideEncryption' | 'SSEKMSKeyId'> {
  if (c.mode === 'sse-kms') return { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: c.kms_key_id };
  if (c.mode === 'sse-s3') return { ServerSideEncryption: 'AES256' };
  return {};
}

/** HeadObject's ServerSideEncryption / SSEKMSKeyId → our terms. */
export function encryptionOf(sse: string | undefined, kmsKeyId: string | undefined): ObjectEncryption {
  if (sse === 'aws:kms' || sse === 'aws:kms:dsse') return { mode: 'sse-kms', kmsKeyId };
  if (sse === 'AES256') return { mode: 'sse-s3' };
  return { mode: 'none' };
}

export function describeEncryption(e: ObjectEncryption): string {
  return e.mode === 'sse-kms' ? `sse-kms (key ${e.kmsKeyId ?? 'unknown'})` : e.mode;
}

/**
 * Whether a KMS key as configured names the key HeadObject reports. AWS answers
 * with the key's ARN whatever was sent; an alias cannot be resolved here, so it
 * accepts any KMS key (configure the key id or ARN for an exact check).
 */
export function kmsKeyMatches(configured: string, reported: string | undefined): boolean {
  if (reported === undefined) return false;
  if (configured === reported) return true;
  if (configured.startsWith('alias/') || configured.includes(':alias/')) return true;
  return reported.endsWith(`:key/${configured}`);
}

/** What an expectation requires: `any` = some server-side encryption, whichever. */
export type SseExpectation = SseConfig | 'any';

/** Why `actual` does not meet `expected`, or undefined when it does. */
export function encryptionMismatch(expected: SseExpectation, actual: ObjectEncryption): string | undefined {
  if (expected === 'any') return actual.mode === 'none' ? 'the object carries no server-side encryption' : undefined;
  if (expected.mode === 'none') return undefined;
  if (actual.mode === 'none') return `the object carries no server-side encryption (${describeEncryption(expectedAsObject(expected))} expected)`;
  if (actual.mode !== expected.mode) return `the object is encrypted with ${describeEncryption(actual)}, ${describeEncryption(expectedAsObject(expected))} expected`;
  if (expected.mode === 'sse-kms' && !kmsKeyMatches(expected.kms_key_id!, actual.kmsKeyId)) {
    return `the object is encrypted with KMS key ${actual.kmsKeyId ?? 'unknown'}, ${expected.kms_key_id} expected`;
  }
  return undefined;
}

function expectedAsObject(c: SseConfig): ObjectEncryption {
  return { mode: c.mode, kmsKeyId: c.kms_key_id };
}

/** Object classes for reporting: segments, manifests, and whatever else the archive holds (checkpoints). */
export function objectClass(name: string): string {
  if (name.endsWith('.manifest.json')) return 'manifest';
  if (name.endsWith('.jsonl.gz') || name.endsWith('.vlog.zst')) return 'segment';
  if (name.includes('checkpoint')) return 'checkpoint';
  return 'other';
}

/** Counts per object class and encryption ("sse-kms (key k)": n), as verify gathers them and check reports them. */
export type EncryptionCensus = Record<string, Record<string, number>>;

export function countEncryption(census: EncryptionCensus, name: string, e: ObjectEncryption): void {
  const byClass = (census[objectClass(name)] ??= {});
  const label = describeEncryption(e);
  byClass[label] = (byClass[label] ?? 0) + 1;
}

export class EncryptionRefusedError extends Error {}

/** The probe's key: beside the archives under the prefix, not inside one (openArchives ignores it). */
export function probeKey(prefix: string): string {
  return `${prefix}vigil-encryption-probe`;
}

/**
 * Puts a tiny object with the configured encryption and reads its encryption
 * back, before anything is archived: an unknown key, a missing permission or a
 * store that does not honour the header is a start-up error naming the fix.
 * Throws EncryptionRefusedError for those; other errors (S3 unreachable) as is,
 * so the caller can retry later. The probe version is deleted when the bucket's
 * default retention allows it.
 */
export async function probeEncryption(client: S3Client, bucket: string, prefix: string, c: SseConfig, signal?: AbortSignal): Promise<void> {
  const { PutObjectCommand, HeadObjectCommand, DeleteObjectCommand } = await s3sdk();
  const key = probeKey(prefix);
  const body = randomBytes(16);
  const where = `s3://${bucket}/${key}`;
  const setting = c.mode === 'sse-kms' ? `mode sse-kms, kms_key_id ${c.kms_key_id}` : `mode ${c.mode}`;
  let versionId: string | undefined;
  try {
    const out = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/octet-stream', ...ssePutParams(c) }), { abortSignal: signal });
    versionId = out.VersionId;
  } catch (err) {
    const status = httpStatus(err);
    if (status !== undefined && status >= 400 && status < 500) {
      throw new EncryptionRefusedError(
        `S3 refused an object encrypted as configured (exporters.worm.s3.encryption: ${setting}): ${describeS3Error(err)}. ` +
          (c.mode === 'sse-kms'
            ? 'Check that the KMS key exists and is enabled, and that the credentials may use it (kms:GenerateDataKey, kms:Decrypt), or choose another kms_key_id'
            : 'Check that the store supports this mode, or choose another'),
      );
    }
    throw err;
  }
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }), { abortSignal: signal });
  const actual = encryptionOf(head.ServerSideEncryption, head.SSEKMSKeyId);
  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }), { abortSignal: signal }).catch(() => undefined);
  const wrong = encryptionMismatch(c, actual);
  if (wrong) {
    throw new EncryptionRefusedError(
      `S3 accepted an object with exporters.worm.s3.encryption (${setting}) but stored it ${actual.mode === 'none' ? 'unencrypted' : `as ${describeEncryption(actual)}`} (${where}): ` +
        `the store does not honour that mode (radosgw needs its own SSE-S3 setup); use mode sse-kms with a key the store knows, or enable the mode on the store`,
    );
  }
}
