// S3 plumbing shared by the uploader and the verifier: the client (credentials
// from the standard AWS chain), the bucket's Object Lock setting, an object's lock.
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';

let sdkModule: Promise<typeof import('@aws-sdk/client-s3')> | undefined;

/** The AWS SDK, loaded on first use: commands that never touch S3 start without it (it is the heaviest import). */
export function s3sdk(): Promise<typeof import('@aws-sdk/client-s3')> {
  return (sdkModule ??= import('@aws-sdk/client-s3'));
}

export interface S3ClientOptions {
  endpoint?: string | undefined;
  region?: string | undefined;
  forcePathStyle?: boolean | undefined;
  timeoutMs?: number | undefined;
}

export async function createS3Client(o: S3ClientOptions): Promise<S3Client> {
  const { S3Client } = await s3sdk();
  const config: S3ClientConfig = {
    region: o.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1',
    forcePathStyle: o.forcePathStyle ?? false,
    // Retries are ours (ordered, with backlog); one attempt per call here.
    maxAttempts: 1,
    // Checksums only where S3 requires them: we send Content-MD5 ourselves, and
    // S3-compatible stores (radosgw 16) refuse the aws-chunked trailer encoding.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: Math.min(o.timeoutMs ?? 30_000, 10_000), requestTimeout: o.timeoutMs ?? 30_000 },
  };
  if (o.endpoint) config.endpoint = o.endpoint;
  return new S3Client(config);
}

export interface S3Location {
  bucket: string;
  /** '' or ending with '/'. */
  prefix: string;
}

/** `s3://bucket/some/prefix` → { bucket, prefix: 'some/prefix/' }. */
export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m || m[1].length < 3) throw new Error(`not an S3 URL: ${url} (expected s3://bucket/prefix)`);
  return { bucket: m[1], prefix: normalizePrefix(m[2]) };
}

export function normalizePrefix(p: string): string {
  const t = p.replace(/^\/+/, '');
  return t === '' || t.endsWith('/') ? t : `${t}/`;
}

export interface BucketLock {
  enabled: boolean;
  defaultMode?: string | undefined;
  defaultDays?: number | undefined;
  defaultYears?: number | undefined;
}

export async function bucketObjectLock(client: S3Client, bucket: string, signal?: AbortSignal): Promise<BucketLock> {
  const { GetObjectLockConfigurationCommand } = await s3sdk();
  try {
    const out = await client.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }), { abortSignal: signal });
    const c = out.ObjectLockConfiguration;
    const r = c?.Rule?.DefaultRetention;
    return { enabled: c?.ObjectLockEnabled === 'Enabled', defaultMode: r?.Mode, defaultDays: r?.Days, defaultYears: r?.Years };
  } catch (err) {
    const name = errorName(err);
    if (name === 'ObjectLockConfigurationNotFoundError' || name === 'ObjectLockConfigurationNotFound') return { enabled: false };
    throw err;
  }
}

export interface ObjectLockInfo {
  mode: string | undefined;
  retainUntil: Date | undefined;
  legalHold: string | undefined;
  versionId: string | undefined;
  etag: string | undefined;
  size: number | undefined;
  metadata: Record<string, string>;
  /** Server-side encryption as stored (ServerSideEncryption, SSEKMSKeyId). */
  sse: string | undefined;
  kmsKeyId: string | undefined;
}

export async function headObjectLock(client: S3Client, bucket: string, key: string, versionId?: string, signal?: AbortSignal): Promise<ObjectLockInfo | undefined> {
  const { HeadObjectCommand } = await s3sdk();
  try {
    const h = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }), { abortSignal: signal });
    return {
      mode: h.ObjectLockMode,
      retainUntil: h.ObjectLockRetainUntilDate,
      legalHold: h.ObjectLockLegalHoldStatus,
      versionId: h.VersionId,
      etag: h.ETag?.replaceAll('"', ''),
      size: h.ContentLength,
      metadata: h.Metadata ?? {},
      sse: h.ServerSideEncryption,
      kmsKeyId: h.SSEKMSKeyId,
    };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export function errorName(err: unknown): string {
  const e = err as { name?: string; Code?: string };
  return e?.Code ?? e?.name ?? 'Error';
}

export function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

export function isNotFound(err: unknown): boolean {
  const n = errorName(err);
  return n === 'NotFound' || n === 'NoSuchKey' || n === 'NoSuchVersion' || httpStatus(err) === 404;
}

/** A short description of an S3 error for logs: code, HTTP status, message. */
export function describeS3Error(err: unknown): string {
  const status = httpStatus(err);
  const msg = (err as Error)?.message;
  return `${errorName(err)}${status ? ` (HTTP ${status})` : ''}${msg && msg !== errorName(err) ? `: ${msg}` : ''}`;
}
