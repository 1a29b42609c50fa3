// Reading an archive wherever it is: a local directory or an S3 prefix. The
// auditor's commands (verify, prove, query, check) see only this interface.
import { lstat, readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { type SegmentFiles, belongsInArchive, formatOfName, parseSegmentFileName, sealedNameOf } from './layout.js';
import { decompressSegment } from './compression.js';
import { readFileNoFollow } from './safe-fs.js';
import { type ArchiveKey, plaintextOf } from './encryption.js';
import type { Manifest } from './manifest.js';
import { type BucketLock, type ObjectLockInfo, bucketObjectLock, createS3Client, headObjectLock, parseS3Url, s3sdk } from './s3.js';

export interface ArchiveObject {
  name: string;
  size?: number;
}

export interface ObjectVersions {
  /** Versions that hold data (not delete markers). */
  versions: { versionId: string; isLatest: boolean; size: number | undefined }[];
  /** Whether the newest version of the key is a delete marker (the object looks deleted). */
  deleted: boolean;
}

export interface S3Access {
  client: S3Client;
  bucket: string;
  keyPrefix: string;
  objectLock(name: string): Promise<ObjectLockInfo | undefined>;
  bucketLock(): Promise<BucketLock>;
  /** Every version and delete marker under the archive's prefix, by object name. */
  versions(): Promise<Map<string, ObjectVersions>>;
  readVersion(name: string, versionId: string): Promise<Buffer>;
}

export interface ArchiveSource {
  /** Where it is, for messages: a path or s3://bucket/prefix/. */
  readonly location: string;
  readonly local: boolean;
  list(): Promise<ArchiveObject[]>;
  read(name: string): Promise<Buffer>;
  /** Where the object `name` lives on the local file system, for readers that stream it (local archives only). */
  localPath?(name: string): string;
  /** Entries that Vigil did not write: symbolic links, unknown files, directories (local), unknown objects (S3). */
  foreign?(): Promise<{ name: string; what: string }[]>;
  s3?: S3Access;
  /** The archive encryption key, when the reader holds it (encrypted segments: encryption.ts). */
  archiveKey?: ArchiveKey | undefined;
}

export class ArchiveNotFoundError extends Error {}

export class LocalSource implements ArchiveSource {
  readonly local = true;
  archiveKey?: ArchiveKey | undefined;
  readonly location: string;
  constructor(readonly directory: string) {
    this.location = directory;
  }

  async list(): Promise<ArchiveObject[]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (err) {
      throw new ArchiveNotFoundError(`cannot read archive directory ${this.directory}: ${(err as Error).message}`);
    }
    const out: ArchiveObject[] = [];
    for (const name of names) {
      if (!parseSegmentFileName(name)) continue;
      // lstat: a link under a segment's name is not the segment (foreign() names it).
      const st = await lstat(join(this.directory, name)).catch(() => undefined);
      if (st?.isFile()) out.push({ name, size: st.size });
    }
    return out;
  }

  read(name: string): Promise<Buffer> {
    return readFileNoFollow(this.localPath(name));
  }

  localPath(name: string): string {
    return join(this.directory, name);
  }

  async foreign(): Promise<{ name: string; what: string }[]> {
    const out: { name: string; what: string }[] = [];
    for (const e of await readdir(this.directory, { withFileTypes: true })) {
      if (e.isSymbolicLink()) out.push({ name: e.name, what: 'a symbolic link' });
      else if (e.isDirectory()) out.push({ name: e.name, what: 'an unexpected directory' });
      else if (!e.isFile()) out.push({ name: e.name, what: 'not a regular file' });
      else if (!belongsInArchive(e.name, 'directory')) out.push({ name: e.name, what: 'a file Vigil did not write' });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }
}

export class S3Source implements ArchiveSource {
  readonly local = false;
  archiveKey?: ArchiveKey | undefined;
  readonly location: string;
  readonly s3: S3Access;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly keyPrefix: string,
    /** Prefixes below this one that hold archives of their own (each verified as its own source). */
    private readonly nestedArchives: readonly string[] = [],
  ) {
    this.location = `s3://${bucket}/${keyPrefix}`;
    this.s3 = {
      client,
      bucket,
      keyPrefix,
      objectLock: (name) => headObjectLock(client, bucket, keyPrefix + name),
      bucketLock: () => bucketObjectLock(client, bucket),
      versions: () => this.versions(),
      readVersion: (name, versionId) => this.get(name, versionId),
    };
  }

  async list(): Promise<ArchiveObject[]> {
    const out: ArchiveObject[] = [];
    for await (const o of listAll(this.client, this.bucket, this.keyPrefix)) {
      const name = o.key.slice(this.keyPrefix.length);
      if (belongsInArchive(name, 's3')) out.push({ name, size: o.size });
    }
    return out;
  }

  async foreign(): Promise<{ name: string; what: string }[]> {
    const out: { name: string; what: string }[] = [];
    for await (const o of listAll(this.client, this.bucket, this.keyPrefix)) {
      if (this.nestedArchives.some((p) => o.key.startsWith(p))) continue;
      const name = o.key.slice(this.keyPrefix.length);
      if (name.includes('/')) out.push({ name, what: 'an object below a sub-prefix of the archive (Vigil writes none there)' });
      else if (!belongsInArchive(name, 's3')) out.push({ name, what: 'an object Vigil did not write (it uploads only sealed segments and their manifests)' });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  read(name: string): Promise<Buffer> {
    return this.get(name, undefined);
  }

  private async get(name: string, versionId: string | undefined): Promise<Buffer> {
    const { GetObjectCommand } = await s3sdk();
    const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyPrefix + name, VersionId: versionId }));
    return Buffer.from(await out.Body!.transformToByteArray());
  }

  private async versions(): Promise<Map<string, ObjectVersions>> {
    const by = new Map<string, ObjectVersions>();
    const entry = (key: string) => {
      const name = key.slice(this.keyPrefix.length);
      let v = by.get(name);
      if (!v) by.set(name, (v = { versions: [], deleted: false }));
      return v;
    };
    const { ListObjectVersionsCommand } = await s3sdk();
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    for (;;) {
      const out = await this.client.send(
        new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: this.keyPrefix, KeyMarker: keyMarker, VersionIdMarker: versionMarker }),
      );
      for (const v of out.Versions ?? []) entry(v.Key!).versions.push({ versionId: v.VersionId ?? 'null', isLatest: !!v.IsLatest, size: v.Size });
      for (const d of out.DeleteMarkers ?? []) if (d.IsLatest) entry(d.Key!).deleted = true;
      if (!out.IsTruncated) break;
      keyMarker = out.NextKeyMarker;
      versionMarker = out.NextVersionIdMarker;
    }
    return by;
  }
}

async function* listAll(client: S3Client, bucket: string, prefix: string): AsyncGenerator<{ key: string; size: number | undefined }> {
  const { ListObjectsV2Command } = await s3sdk();
  let token: string | undefined;
  for (;;) {
    const out = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of out.Contents ?? []) yield { key: o.Key!, size: o.Size };
    if (!out.IsTruncated) return;
    token = out.NextContinuationToken;
  }
}

export interface OpenOptions {
  endpoint?: string | undefined;
  region?: string | undefined;
  /** Path-style addressing (default on when an endpoint is given: S3-compatible stores). */
  forcePathStyle?: boolean | undefined;
}

/**
 * Opens ARCHIVE (a directory or s3://bucket/prefix). An S3 prefix holding the
 * archives of several Vigil instances (prefix/<archive id>/…) yields one source each.
 */
export async function openArchives(spec: string, opts: OpenOptions = {}): Promise<{ sources: ArchiveSource[]; close(): void }> {
  if (!spec.startsWith('s3://')) {
    const dir = resolve(spec);
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) throw new ArchiveNotFoundError(`${spec} is not a directory (give an archive directory or s3://bucket/prefix)`);
    return { sources: [new LocalSource(dir)], close() {} };
  }
  const loc = parseS3Url(spec);
  const client = await createS3Client({ endpoint: opts.endpoint, region: opts.region, forcePathStyle: opts.forcePathStyle ?? !!opts.endpoint });
  const prefixes = new Set<string>();
  let direct = false;
  for await (const o of listAll(client, loc.bucket, loc.prefix)) {
    const rest = o.key.slice(loc.prefix.length);
    const slash = rest.indexOf('/');
    if (slash < 0) {
      if (parseSegmentFileName(rest)) direct = true;
    } else if (parseSegmentFileName(rest.slice(slash + 1))) prefixes.add(loc.prefix + rest.slice(0, slash + 1));
  }
  const sources: ArchiveSource[] = [];
  const nested = [...prefixes].sort();
  if (direct) sources.push(new S3Source(client, loc.bucket, loc.prefix, nested));
  for (const p of nested) sources.push(new S3Source(client, loc.bucket, p));
  if (sources.length === 0) {
    client.destroy();
    throw new ArchiveNotFoundError(`no archive under ${spec}: expected segment-*.manifest.json objects there or one level below (<prefix>/<archive id>/)`);
  }
  return { sources, close: () => client.destroy() };
}

/**
 * A segment's content (entries of either format, entries.ts): the open file as
 * is, a sealed one decompressed, never past compression.ts contentLimit of
 * `expected` (its manifest's content_bytes) when given, else MAX_CONTENT_BYTES.
 */
export async function readSegmentContent(source: ArchiveSource, files: SegmentFiles, expected?: number): Promise<{ content: Buffer; sealed: boolean; stored: number }> {
  if (files.sealed) {
    const data = await source.read(files.sealed);
    return { content: await decompressSegment(formatOfName(files.sealed), plaintextOf(data, source.archiveKey, files.segment, 'sealed'), expected), sealed: true, stored: data.length };
  }
  if (files.open) {
    try {
      const data = await source.read(files.open);
      return { content: plaintextOf(data, source.archiveKey, files.segment, 'open'), sealed: false, stored: data.length };
    } catch (err) {
      // Sealed since the listing (a live archive): read the sealed file instead.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return readSegmentContent(source, { ...files, open: undefined, sealed: sealedNameOf(files.open) });
    }
  }
  throw new ArchiveNotFoundError(`segment ${files.segment} has no data in ${source.location}`);
}

/** Every manifest of the archive, parsed but not verified (for navigation: time ranges, counts). */
export async function readManifests(source: ArchiveSource, groups: SegmentFiles[]): Promise<Map<number, { manifest: Manifest; bytes: Buffer }>> {
  const out = new Map<number, { manifest: Manifest; bytes: Buffer }>();
  for (const g of groups) {
    if (!g.manifest) continue;
    const bytes = await source.read(g.manifest);
    try {
      const m = (JSON.parse(bytes.toString('utf8')) as { manifest: Manifest }).manifest;
      if (m && typeof m.first_seq === 'number') out.set(g.segment, { manifest: m, bytes });
    } catch {
      /* unreadable manifests are verify's business */
    }
  }
  return out;
}
