// Against a real S3 that enforces Object Lock: Ceph radosgw started by
// scripts/s3/start-rgw.sh (CI sets S3_ENDPOINT and the AWS_* credentials it prints).
// Without S3_ENDPOINT these tests skip, saying so.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectRetentionCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPublicKeys, type PublicKeyEntry } from '../../../src/exporters/worm/keys.js';
import { createS3Client } from '../../../src/exporters/worm/s3.js';
import { parseCheckpoint } from '../../../src/exporters/worm/checkpoint.js';
import { openArchives } from '../../../src/exporters/worm/source.js';
import { queryArchive, type QueryStats } from '../../../src/exporters/worm/query.js';
import { verifyArchive, type Finding } from '../../../src/exporters/worm/verify.js';
import type { WormExporter } from '../../../src/exporters/worm/worm.js';
import { Telemetry } from '../../../src/telemetry/metrics.js';
import type { SseExpectation } from '../../../src/exporters/worm/sse.js';
import { assessEncryption } from '../../../src/exporters/worm/encryption-check.js';
import { vigilSync } from '../../helpers/cli.js';
import { makeBatch, newExporter, tempDir, waitFor, wormConfig } from './helpers.js';

const endpoint = process.env.S3_ENDPOINT;
if (!endpoint) console.warn('worm S3 tests skipped: S3_ENDPOINT is not set (start radosgw with scripts/s3/start-rgw.sh and export what it prints)');

const run = promisify(execFile);
const scripts = resolve(process.cwd(), 'scripts/s3');
const rgwBase = process.env.RGW_BASE ?? join(homedir(), '.cache/vigil-rgw');

let client: S3Client;
let dir: string;
let cleanup: () => Promise<void>;

async function newBucket(locked = true): Promise<string> {
  const name = `vigil-test-${randomBytes(5).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: locked }));
  return name;
}

function s3Config(bucket: string, extra: Record<string, unknown> = {}, ep = endpoint) {
  return {
    retention: '2d',
    // sse-kms: the local radosgw honours it (KMS testing backend); it accepts SSE-S3 headers but stores in clear.
    s3: { bucket, prefix: 'vigil/', endpoint: ep, region: 'us-east-1', force_path_style: true, encryption: { mode: 'sse-kms', kms_key_id: 'testkey-1' }, retry: { initial_interval: '100ms', max_interval: '400ms' }, timeout: '3s', ...extra },
  };
}

async function keys(d = dir): Promise<Map<string, PublicKeyEntry>> {
  return loadPublicKeys([join(d, 'keys', 'archive.pub')]);
}

async function verifyS3(bucket: string, d = dir, encryption?: SseExpectation, checkpoints: string[] = []) {
  const { sources, close } = await openArchives(`s3://${bucket}/vigil/`, { endpoint });
  try {
    expect(sources).toHaveLength(1);
    return await verifyArchive(sources[0], { keys: await keys(d), encryption, checkpoints: checkpoints.map(parseCheckpoint) });
  } finally {
    close();
  }
}

const breaks = (fs: Finding[]) => fs.filter((f) => f.severity === 'break');

async function receipts(d = dir) {
  const names = (await readdir(join(d, 'archive'))).filter((n) => n.endsWith('.uploaded.json')).sort();
  return Promise.all(names.map(async (n) => JSON.parse(await readFile(join(d, 'archive', n), 'utf8'))));
}

async function writeSegments(w: WormExporter, segments: number, per = 5, start = 0): Promise<void> {
  for (let s = 0; s < segments; s++) {
    await w.consume(makeBatch(per, { start: start + s * per }));
    await w.sealNow();
  }
}

describe.skipIf(!endpoint)('worm exporter on S3 with Object Lock (radosgw)', () => {
  beforeAll(async () => {
    client = await createS3Client({ endpoint, forcePathStyle: true });
    ({ dir, cleanup } = await tempDir('vigil-s3-'));
  });
  afterAll(async () => {
    client?.destroy();
    await cleanup?.();
  });

  it('uploads every sealed segment and manifest with COMPLIANCE retention until seal time + retention; deletes and shortening are refused', async () => {
    const bucket = await newBucket();
    const d = join(dir, 'compliance');
    const w = newExporter(d, s3Config(bucket));
    await w.start();
    await writeSegments(w, 2);
    await w.shutdown(new AbortController().signal);
    const rs = await receipts(d);
    expect(rs).toHaveLength(3); // two sealed by hand, one at shutdown
    for (const r of rs) {
      const manifest = JSON.parse(await readFile(join(d, 'archive', r.manifest.key.split('/').pop()), 'utf8')).manifest;
      // retain-until = seal time + 2 days, to the second
      expect(Date.parse(manifest.retain_until)).toBe(Math.ceil((Date.parse(manifest.sealed_at) + 2 * 86_400_000) / 1000) * 1000);
      for (const o of [r.segment, r.manifest]) {
        expect(o.key).toMatch(new RegExp(`^vigil/${manifest.archive_id}/segment-\\d{12}\\.(vlog\\.zst|manifest\\.json)$`));
        const ret = await client.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: o.key, VersionId: o.version_id }));
        expect(ret.Retention?.Mode).toBe('COMPLIANCE');
        expect(ret.Retention?.RetainUntilDate?.toISOString()).toBe(manifest.retain_until);
      }
    }
    const victim = rs[0].segment;
    const del = await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: victim.key, VersionId: victim.version_id })).catch((e) => e);
    expect(del.$metadata?.httpStatusCode).toBe(403);
    const shorten = await client
      .send(new PutObjectRetentionCommand({ Bucket: bucket, Key: victim.key, VersionId: victim.version_id, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(Date.now() + 3_600_000) } }))
      .catch((e) => e);
    expect(shorten.$metadata?.httpStatusCode).toBe(403);
    const toGovernance = await client
      .send(new PutObjectRetentionCommand({ Bucket: bucket, Key: victim.key, VersionId: victim.version_id, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 10 * 86_400_000) } }))
      .catch((e) => e);
    expect(toGovernance.$metadata?.httpStatusCode).toBe(403);
    const r = await verifyS3(bucket, d);
    expect(r.findings).toEqual([]);
    expect(r).toMatchObject({ ok: true, segments: { total: 3, valid: 3 }, records: { checked: 10, valid: 10 } });
  });

  it('SSE-KMS: every segment and manifest carries the configured key (HeadObject); verify and check report mode and key per object class', async () => {
    const bucket = await newBucket();
    const d = join(dir, 'sse-kms');
    const extra = s3Config(bucket, { encryption: { mode: 'sse-kms', kms_key_id: 'testkey-2' } });
    const w = newExporter(d, extra);
    await w.start();
    await writeSegments(w, 2);
    await w.shutdown(new AbortController().signal);
    const rs = await receipts(d);
    expect(rs).toHaveLength(3);
    for (const r of rs) {
      for (const o of [r.segment, r.manifest]) {
        const h = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: o.key, VersionId: o.version_id }));
        expect({ key: o.key, sse: h.ServerSideEncryption, kms: h.SSEKMSKeyId }).toEqual({ key: o.key, sse: 'aws:kms', kms: 'testkey-2' });
      }
    }
    const report = await verifyS3(bucket, d, { mode: 'sse-kms', kms_key_id: 'testkey-2' });
    expect(report.findings).toEqual([]);
    expect(report.encryption).toEqual({ segment: { 'sse-kms (key testkey-2)': 3 }, manifest: { 'sse-kms (key testkey-2)': 3 } });
    const item = assessEncryption(wormConfig(d, extra), [report]);
    expect(item).toMatchObject({ id: 'encryption', status: 'pass', details: { configured: { mode: 'sse-kms', kms_key_id: 'testkey-2' } } });
    expect(item.summary).toContain('segments: sse-kms (key testkey-2) ×3; manifests: sse-kms (key testkey-2) ×3');
    // Expecting another key: every object is named.
    const wrongKey = await verifyS3(bucket, d, { mode: 'sse-kms', kms_key_id: 'testkey-1' });
    expect(breaks(wrongKey.findings).map((f) => f.kind)).toEqual(Array(6).fill('unencrypted object'));
    expect(breaks(wrongKey.findings)[0].detail).toMatch(/encrypted with KMS key testkey-2, testkey-1 expected/);
  });

  it('an unknown KMS key is refused at start-up with a clear error, before anything is archived; the same archive then starts with a valid key', async () => {
    const bucket = await newBucket();
    const d = join(dir, 'sse-unknown');
    const refused = newExporter(d, s3Config(bucket, { encryption: { mode: 'sse-kms', kms_key_id: 'no-such-key' } }));
    await expect(refused.start()).rejects.toThrow(/S3 refused an object encrypted as configured \(exporters\.worm\.s3\.encryption: mode sse-kms, kms_key_id no-such-key\): InvalidAccessKeyId \(HTTP 403\).*KMS key exists/);
    expect(existsSync(join(d, 'archive'))).toBe(false); // nothing written, nothing acknowledged
    const w = newExporter(d, s3Config(bucket));
    await w.start();
    await writeSegments(w, 1);
    await w.shutdown(new AbortController().signal);
    expect(await receipts(d)).toHaveLength(2);
    const r = await verifyS3(bucket, d, { mode: 'sse-kms', kms_key_id: 'testkey-1' });
    expect(r.findings).toEqual([]);
    expect(r.records).toEqual({ checked: 5, valid: 5 });
  });

  it('SSE-S3 on this radosgw (no SSE-S3 setup of its own): the header is accepted but the probe object comes back unencrypted, so start-up refuses', async () => {
    const bucket = await newBucket();
    const d = join(dir, 'sse-s3');
    const w = newExporter(d, s3Config(bucket, { encryption: { mode: 'sse-s3' } }));
    await expect(w.start()).rejects.toThrow(/accepted an object with exporters\.worm\.s3\.encryption \(mode sse-s3\) but stored it unencrypted/);
  });

  it('objects uploaded without encryption (mode none) are each reported as unencrypted object by verify', async () => {
    const bucket = await newBucket();
    const d = join(dir, 'sse-none');
    const extra = s3Config(bucket, { encryption: { mode: 'none' } });
    const w = newExporter(d, extra);
    await w.start();
    await writeSegments(w, 1);
    await w.shutdown(new AbortController().signal);
    const r = await verifyS3(bucket, d);
    expect(r.ok).toBe(false);
    expect(breaks(r.findings).map((f) => `${f.kind}@${f.segment}`)).toEqual(['unencrypted object@1', 'unencrypted object@1', 'unencrypted object@2', 'unencrypted object@2']);
    expect(assessEncryption(wormConfig(d, extra), [r]).status).toBe('fail');
    // Checking against mode none accepts them.
    expect((await verifyS3(bucket, d, { mode: 'none' })).ok).toBe(true);
  });

  it('a KMS refusal after start-up is a retryable upload failure: nothing uploaded unencrypted, segments wait locally, a working key uploads them all', async () => {
    const bucket = await newBucket();
    const d = join(dir, 'sse-later');
    const local = newExporter(d, { retention: '2d' }); // sealed locally first, as if S3 refused during the run
    await local.start();
    await writeSegments(local, 2);
    await local.shutdown(new AbortController().signal);
    const archiveId = JSON.parse(await readFile(join(d, 'archive', 'archive.json'), 'utf8')).archive_id;
    const { Uploader } = await import('../../../src/exporters/worm/uploader.js');
    const { silentLogger } = await import('../../../src/telemetry/logger.js');
    const config = (kms: string) => wormConfig(d, s3Config(bucket, { encryption: { mode: 'sse-kms', kms_key_id: kms } })).s3!;
    const refused = new Uploader({ directory: join(d, 'archive'), archiveId, s3: config('disabled-key'), logger: silentLogger(), client });
    await refused.start(archiveId); // no preflight: the key fails on the first attempt
    await waitFor(() => (refused.status().lastError ?? '') !== '', 10_000, 'the first refused upload');
    expect(refused.status().lastError).toMatch(/S3 refused an object encrypted as configured .*kms_key_id disabled-key.*InvalidAccessKeyId \(HTTP 403\)/);
    expect(refused.pending).toBe(3);
    const { ListObjectVersionsCommand } = await import('@aws-sdk/client-s3');
    await refused.stop();
    const listed = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'vigil/' }));
    expect(listed.Versions ?? []).toEqual([]);
    const ok = new Uploader({ directory: join(d, 'archive'), archiveId, s3: config('testkey-1'), logger: silentLogger() });
    await ok.preflight();
    await ok.start(archiveId);
    expect(await ok.drain()).toBe(0);
    await ok.stop();
    const r = await verifyS3(bucket, d, { mode: 'sse-kms', kms_key_id: 'testkey-1' });
    expect(r.findings).toEqual([]);
    expect(r.records).toEqual({ checked: 10, valid: 10 });
  });

  it('local encryption and SSE-KMS together: S3 holds only Vigil ciphertext, verify s3:// proves it without the key and reads every record with it', async () => {
    const bucket = await newBucket();
    const d = join(dir, 'sse-local');
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(join(d, 'keys'), { recursive: true });
    const keyFile = join(d, 'keys', 'data.key');
    await writeFile(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
    const wEnc = newExporter(d, { ...s3Config(bucket), encryption: { key_file: keyFile } }); // s3Config: SSE-KMS testkey-1
    await wEnc.start();
    await writeSegments(wEnc, 2);
    await wEnc.shutdown(new AbortController().signal);
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    for (const r of await receipts(d)) {
      const body = Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: r.segment.key }))).Body!.transformToByteArray());
      expect(body.subarray(0, 10).toString()).toBe('VIGILENC1\n'); // what the store's operator sees after SSE decryption
      expect(body.includes('/items/')).toBe(false);
    }
    const { sources, close } = await openArchives(`s3://${bucket}/vigil/`, { endpoint });
    try {
      const without = await verifyArchive(sources[0], { keys: await keys(d), encryption: { mode: 'sse-kms', kms_key_id: 'testkey-1' } });
      expect(without.ok).toBe(true);
      expect(without.records).toEqual({ checked: 10, valid: 0 });
      const { loadArchiveKey } = await import('../../../src/exporters/worm/encryption.js');
      sources[0].archiveKey = await loadArchiveKey(keyFile);
      const withKey = await verifyArchive(sources[0], { keys: await keys(d), encryption: { mode: 'sse-kms', kms_key_id: 'testkey-1' } });
      expect(withKey.findings).toEqual([]);
      expect(withKey.records).toEqual({ checked: 10, valid: 10 });
    } finally {
      close();
    }
  });

  it('a v1 archive continued by a v2 writer: both formats uploaded (gzip and zstd), verify s3:// proves one chain, export s3:// yields every record in order', async () => {
    const bucket = await newBucket();
    const d = join(dir, 'formats');
    const v1 = newExporter(d, { ...s3Config(bucket), encoding: 'json' });
    await v1.start();
    await writeSegments(v1, 1);
    await v1.shutdown(new AbortController().signal);
    const v2 = newExporter(d, s3Config(bucket));
    await v2.start();
    await writeSegments(v2, 2, 5, 5);
    await v2.shutdown(new AbortController().signal);
    const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
    const types = new Map<string, string | undefined>();
    for (const r of await receipts(d)) types.set(r.segment.key.split('/').pop(), (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: r.segment.key }))).ContentType);
    expect(types.get('segment-000000000001.jsonl.gz')).toBe('application/gzip');
    expect(types.get('segment-000000000003.vlog.zst')).toBe('application/zstd');
    const report = await verifyS3(bucket, d);
    expect(report.findings).toEqual([]);
    expect(report.records).toEqual({ checked: 15, valid: 15 });
    const { exportRecords } = await import('../../../src/exporters/worm/export.js');
    const { sources, close } = await openArchives(`s3://${bucket}/vigil/`, { endpoint });
    try {
      const ids: string[] = [];
      for await (const r of exportRecords(sources[0], { keys: await keys(d) })) ids.push(r.request().resourceLogs[0].scopeLogs[0].logRecords[0].attributes![0].value!.stringValue!);
      expect(ids).toEqual(Array.from({ length: 15 }, (_, i) => `rid-${i}`));
    } finally {
      close();
    }
  });

  it('verify s3:// catches a segment hidden by a delete marker', async () => {
    const bucket = await newBucket();
    const d = join(dir, 'marker');
    const w = newExporter(d, s3Config(bucket));
    await w.start();
    await writeSegments(w, 3);
    await w.shutdown(new AbortController().signal);
    const rs = await receipts(d);
    // A plain delete (no version id) is allowed: it only adds a delete marker.
    for (const o of [rs[1].segment, rs[1].manifest]) {
      const out = await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.key }));
      expect(out.DeleteMarker).toBe(true);
    }
    const r = await verifyS3(bucket, d);
    expect(r.ok).toBe(false);
    const b = breaks(r.findings);
    expect(b).toHaveLength(1);
    expect(b[0]).toMatchObject({ kind: 'missing', segment: 2 });
    expect(b[0].detail).toMatch(/hidden by S3 delete markers: segment-000000000002\.(vlog\.zst|manifest\.json) \(1 locked version still retained/);
  });

  it('vigil verify s3:// reports objects Vigil did not write under the archive prefix as foreign file (exit 1); an intact archive verifies', async () => {
    const bucket = await newBucket();
    const d = join(dir, 'foreign');
    const w = newExporter(d, s3Config(bucket));
    await w.start();
    await writeSegments(w, 2);
    await w.shutdown(new AbortController().signal);
    const archivePrefix = (await receipts(d))[0].manifest.key.replace(/segment-[^/]+$/, '');
    const cli = (...extra: string[]) => vigilSync(['verify', `s3://${bucket}/vigil/`, '--endpoint', endpoint!, '-k', join(d, 'keys', 'archive.pub'), ...extra]);
    const intact = cli();
    expect(intact.stderr).toBe('');
    expect(intact.status).toBe(0);
    // A stray file, an open segment (Vigil never uploads one) and an object below a sub-prefix.
    const stray = ['notes.txt', 'segment-000000000009.jsonl', 'stash/segment-000000000001.jsonl.gz'];
    for (const name of stray) await client.send(new PutObjectCommand({ Bucket: bucket, Key: archivePrefix + name, Body: 'planted' }));
    const r = cli('--json');
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout) as { ok: boolean; archives: { findings: Finding[] }[] };
    expect(report.ok).toBe(false);
    const found = report.archives[0].findings.filter((f) => f.severity === 'break');
    expect(found.map((f) => [f.kind, f.object])).toEqual(stray.map((name) => ['foreign file', name]).sort((a, b) => a[1].localeCompare(b[1])));
    expect(found.find((f) => f.object === 'segment-000000000009.jsonl')!.detail).toMatch(/uploads only sealed segments and their manifests/);
    expect(cli().stdout).toMatch(/notes\.txt: FOREIGN FILE/);
  });

  it('verify s3:// --checkpoint: a tail hidden by delete markers after a clean shutdown is truncated', async () => {
    const bucket = await newBucket();
    const d = join(dir, 'checkpoint');
    const w = newExporter(d, s3Config(bucket));
    await w.start();
    await writeSegments(w, 2);
    await w.shutdown(new AbortController().signal);
    const w2 = newExporter(d, s3Config(bucket));
    await w2.start();
    await writeSegments(w2, 1, 5, 10);
    await w2.shutdown(new AbortController().signal);
    const kept = (await readFile(join(d, 'archive', 'checkpoint.txt'), 'utf8')).split('\n').find((l) => l.includes('state=sealed'))!;
    expect(parseCheckpoint(kept).segment).toBe(5); // 2 + shutdown, 1 + shutdown
    expect((await verifyS3(bucket, d, undefined, [kept])).ok).toBe(true);
    // The second run hidden: what is left ends in the first run's clean shutdown seal.
    for (const r of (await receipts(d)).slice(3)) {
      for (const o of [r.segment, r.manifest]) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.key }));
    }
    expect((await verifyS3(bucket, d)).ok).toBe(true);
    const r = await verifyS3(bucket, d, undefined, [kept]);
    expect(breaks(r.findings).map((f) => [f.kind, f.segment])).toEqual([['truncated', 4]]);
    expect(breaks(r.findings)[0].detail).toMatch(/is not reached: .*segments 4–5 are missing/);
  });

  it('GOVERNANCE: a locked version cannot be deleted, except with the bypass header; verify then names it missing', async () => {
    const bucket = await newBucket();
    const d = join(dir, 'governance');
    const w = newExporter(d, s3Config(bucket, { object_lock: { mode: 'GOVERNANCE' } }));
    await w.start();
    await writeSegments(w, 2);
    await w.shutdown(new AbortController().signal);
    const rs = await receipts(d);
    const o = rs[0].segment;
    expect((await client.send(new HeadObjectCommand({ Bucket: bucket, Key: o.key, VersionId: o.version_id }))).ObjectLockMode).toBe('GOVERNANCE');
    const plain = await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.key, VersionId: o.version_id })).catch((e) => e);
    expect(plain.$metadata?.httpStatusCode).toBe(403);
    const bypass = await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.key, VersionId: o.version_id, BypassGovernanceRetention: true }));
    expect(bypass.$metadata.httpStatusCode).toBe(204);
    const r = await verifyS3(bucket, d);
    expect(breaks(r.findings).map((f) => `${f.kind}@${f.segment}`)).toEqual(['missing@1']);
  });

  it('legal hold: set on every object; a delete is refused even with the governance bypass', async () => {
    const bucket = await newBucket();
    const d = join(dir, 'hold');
    const w = newExporter(d, s3Config(bucket, { object_lock: { mode: 'GOVERNANCE', legal_hold: true } }));
    await w.start();
    await writeSegments(w, 1);
    await w.shutdown(new AbortController().signal);
    const o = (await receipts(d))[0].segment;
    expect((await client.send(new HeadObjectCommand({ Bucket: bucket, Key: o.key, VersionId: o.version_id }))).ObjectLockLegalHoldStatus).toBe('ON');
    const del = await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.key, VersionId: o.version_id, BypassGovernanceRetention: true })).catch((e) => e);
    expect(del.$metadata?.httpStatusCode).toBe(403);
  });

  it('refuses to start on a bucket without Object Lock; with allow_unlocked_bucket it uploads and verify flags the objects', async () => {
    const bucket = await newBucket(false);
    const d = join(dir, 'unlocked');
    const refused = newExporter(d, s3Config(bucket));
    await expect(refused.start()).rejects.toThrow(/does not have Object Lock enabled.*allow_unlocked_bucket/);
    const w = newExporter(d, s3Config(bucket, { allow_unlocked_bucket: true }));
    await w.start();
    await writeSegments(w, 1);
    await w.shutdown(new AbortController().signal);
    expect(await receipts(d)).toHaveLength(2);
    const r = await verifyS3(bucket, d);
    expect(r.ok).toBe(false);
    const kinds = new Set(breaks(r.findings).map((f) => f.kind));
    expect(kinds).toEqual(new Set(['unlocked object']));
    expect(breaks(r.findings)[0].detail).toMatch(/bucket does not have Object Lock enabled/);
  });

  it('prunes local copies after upload per local_retention; the local archive still verifies, naming what S3 holds', async () => {
    const bucket = await newBucket();
    const d = join(dir, 'prune');
    const w = newExporter(d, { ...s3Config(bucket), local_retention: '0s' });
    await w.start();
    await writeSegments(w, 2);
    await w.shutdown(new AbortController().signal);
    const names = await readdir(join(d, 'archive'));
    expect(names.filter((n) => n.endsWith('.vlog.zst'))).toEqual([]);
    expect(names.filter((n) => n.endsWith('.manifest.json'))).toHaveLength(3);
    const { LocalSource } = await import('../../../src/exporters/worm/source.js');
    const local = await verifyArchive(new LocalSource(join(d, 'archive')), { keys: await keys(d) });
    expect(local.ok).toBe(true);
    expect(local.segments.notLocal).toBe(3);
    expect((await verifyS3(bucket, d)).ok).toBe(true);
  });

  it('S3 down during a run, then back: every sealed segment ends up uploaded and locked, nothing lost, verify clean', async (ctx) => {
    if (!existsSync(join(rgwBase, 'ceph.conf'))) {
      ctx.skip(true, `no cluster started by scripts/s3/start-rgw.sh at ${rgwBase} (set RGW_BASE): cannot stop and restart a gateway`);
      return;
    }
    // A gateway of our own on the running cluster, so stopping it disturbs nobody else.
    const port = await freePort();
    const name = `t${process.pid}`;
    const env = { ...process.env, RGW_BASE: rgwBase };
    const startGw = () => run('bash', [join(scripts, 'start-rgw.sh'), '--gateway', name, '--port', String(port)], { env, timeout: 60_000 });
    const stopGw = () => run('bash', [join(scripts, 'stop-rgw.sh'), '--gateway', name], { env, timeout: 60_000 });
    await startGw();
    try {
      const bucket = await newBucket();
      const d = join(dir, 'outage');
      const telemetry = new Telemetry({ processMetrics: false });
      const backlog = async () => (await telemetry.registry.getSingleMetric('vigil_worm_upload_backlog_segments')!.get()).values[0]?.value ?? -1;
      const w = newExporter(d, s3Config(bucket, {}, `http://127.0.0.1:${port}`), { timers: false }, telemetry);
      await w.start();
      await writeSegments(w, 2, 5, 0);
      await waitFor(async () => (await backlog()) === 0, 20_000, 'the first uploads');
      await stopGw();
      // S3 is down: appends are still acknowledged, sealed segments pile up locally.
      await writeSegments(w, 3, 5, 10);
      await waitFor(async () => (await backlog()) === 3 && (w.status().s3?.lastError ?? '') !== '', 20_000, 'failed uploads to show in the backlog');
      expect(await backlog()).toBe(3);
      await startGw();
      await waitFor(async () => (await backlog()) === 0, 30_000, 'the backlog to drain after S3 returned');
      await w.shutdown(new AbortController().signal);
      const rs = await receipts(d);
      expect(rs).toHaveLength(6);
      for (const r of rs) expect(r.lock.mode).toBe('COMPLIANCE');
      const { sources, close } = await openArchives(`s3://${bucket}/vigil/`, { endpoint: `http://127.0.0.1:${port}` });
      try {
        const report = await verifyArchive(sources[0], { keys: await keys(d) });
        expect(report.findings).toEqual([]);
        expect(report.records).toEqual({ checked: 25, valid: 25 });
        const stats: QueryStats = { scanned: 0, matched: 0, segmentsRead: 0, segmentsSkipped: 0, damaged: [] };
        let n = 0;
        for await (const _ of queryArchive(sources[0], {}, stats)) n++;
        expect(n).toBe(25);
      } finally {
        close();
      }
    } finally {
      await stopGw().catch(() => undefined);
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}
