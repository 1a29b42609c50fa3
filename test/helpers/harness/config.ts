// The Vigil config the reliability harness runs: OTLP receiver (both
// transports, free ports), audit processor, the worm archive (short segments so
// that seals and uploads happen often; S3 with Object Lock when given) and an
// otlp_grpc exporter with a persistent queue to the harness's downstream.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface HarnessS3 {
  endpoint: string;
  bucket: string;
  prefix: string;
}

export interface HarnessConfigOptions {
  /** Work directory: archive/, keys/, queue/ and vigil.yaml go here. */
  dir: string;
  /** The archive's directory (default <dir>/archive), e.g. on a small tmpfs. */
  archiveDir?: string;
  /** host:port of the downstream OTLP/gRPC server; no downstream exporter when undefined. */
  downstream: string | undefined;
  s3?: HarnessS3 | undefined;
  segmentMaxBytes?: string;
  segmentMaxAge?: string;
  heartbeat?: string;
  queueSize?: number;
  consumers?: number;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Encrypt the local segments with this archive key file (worm.encryption.key_file). */
  encryptionKeyFile?: string | undefined;
  shutdownTimeout?: string;
}

export function archiveDirOf(o: HarnessConfigOptions): string {
  return o.archiveDir ?? join(o.dir, 'archive');
}

export function publicKeyOf(o: HarnessConfigOptions): string {
  return join(o.dir, 'keys', 'archive.pub');
}

/** The config as an object (YAML-ready). */
export function harnessConfig(o: HarnessConfigOptions): Record<string, unknown> {
  const worm: Record<string, unknown> = {
    directory: archiveDirOf(o),
    segment: { max_bytes: o.segmentMaxBytes ?? '256KiB', max_age: o.segmentMaxAge ?? '1s' },
    heartbeat: o.heartbeat ?? '2s',
    signing: { key_file: join(o.dir, 'keys', 'archive.key') },
  };
  if (o.encryptionKeyFile) worm.encryption = { key_file: o.encryptionKeyFile };
  if (o.s3) {
    worm.retention = '1d';
    worm.s3 = {
      bucket: o.s3.bucket,
      prefix: o.s3.prefix,
      endpoint: o.s3.endpoint,
      region: 'us-east-1',
      force_path_style: true,
      // The KMS key scripts/s3/start-rgw.sh gives radosgw (it stores SSE-S3 objects in clear, which Vigil refuses).
      encryption: { mode: 'sse-kms', kms_key_id: 'testkey-1' },
      retry: { initial_interval: '100ms', max_interval: '500ms' },
      timeout: '5s',
    };
  }
  const exporters: Record<string, unknown> = { worm };
  if (o.downstream) {
    exporters.otlp_grpc = {
      endpoint: o.downstream,
      tls: { insecure: true },
      timeout: '2s',
      // Never give up: the harness proves that every acknowledged record arrives.
      retry_on_failure: { initial_interval: '50ms', max_interval: '250ms', max_elapsed_time: 0 },
      sending_queue: { storage: 'file_storage', queue_size: o.queueSize ?? 1000, num_consumers: o.consumers ?? 4 },
    };
  }
  return {
    receivers: { otlp: { protocols: { grpc: { endpoint: '127.0.0.1:0' }, http: { endpoint: '127.0.0.1:0' } } } },
    processors: { audit: {} },
    exporters,
    extensions: { file_storage: { directory: join(o.dir, 'queue') } },
    service: {
      extensions: ['file_storage'],
      telemetry: { metrics: { address: '127.0.0.1:0' }, logs: { level: o.logLevel ?? 'info' } },
      shutdown_timeout: o.shutdownTimeout ?? '20s',
      pipelines: { logs: { receivers: ['otlp'], processors: ['audit'], exporters: Object.keys(exporters) } },
    },
  };
}

/** Writes <dir>/vigil.yaml and returns its path. */
export function writeHarnessConfig(o: HarnessConfigOptions): string {
  const path = join(o.dir, 'vigil.yaml');
  writeFileSync(path, stringify(harnessConfig(o)));
  return path;
}
