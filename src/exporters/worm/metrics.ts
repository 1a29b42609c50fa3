// The worm exporter's own metrics, on the shared registry. Several worm
// instances (worm/a, worm/b) share each metric and differ by the exporter label.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Telemetry } from '../../telemetry/metrics.js';

type L = 'exporter';

export class WormMetrics {
  readonly appendedRecords: Counter<L>;
  readonly appendedBytes: Counter<L>;
  readonly appendFailures: Counter<L>;
  readonly sealedSegments: Counter<L | 'reason'>;
  readonly sealSeconds: Histogram<L>;
  readonly sealFailures: Counter<L>;
  readonly lastSealTime: Gauge<L>;
  readonly openSegmentBytes: Gauge<L>;
  readonly repairs: Counter<L>;
  readonly uploadBacklog: Gauge<L>;
  readonly uploadedSegments: Counter<L>;
  readonly uploadedBytes: Counter<L>;
  readonly uploadFailures: Counter<L>;
  readonly prunedSegments: Counter<L>;
  readonly checkpointSegment: Gauge<L>;
  readonly checkpointTime: Gauge<L>;

  constructor(telemetry: Telemetry | undefined, private readonly exporter: string) {
    const reg = telemetry?.registry;
    const counter = <T extends string>(name: string, help: string, labelNames: T[]) =>
      (reg?.getSingleMetric(name) as Counter<T> | undefined) ?? new Counter<T>({ name, help, labelNames, registers: registers(reg) });
    const gauge = (name: string, help: string) =>
      (reg?.getSingleMetric(name) as Gauge<L> | undefined) ?? new Gauge<L>({ name, help, labelNames: ['exporter'], registers: registers(reg) });
    this.appendedRecords = counter('vigil_worm_appended_records_total', 'Log records appended to the archive and fsync\'d (acknowledged).', ['exporter']);
    this.appendedBytes = counter('vigil_worm_appended_bytes_total', 'Bytes of canonical JSON lines appended to open segments.', ['exporter']);
    this.appendFailures = counter('vigil_worm_append_failures_total', 'Batches refused because the append or its fsync failed (e.g. disk full).', ['exporter']);
    this.sealedSegments = counter('vigil_worm_sealed_segments_total', 'Segments sealed (compressed, manifest signed), by reason: size, age, heartbeat, shutdown, recovery.', ['exporter', 'reason']);
    this.sealSeconds =
      (reg?.getSingleMetric('vigil_worm_seal_duration_seconds') as Histogram<L> | undefined) ??
      new Histogram<L>({
        name: 'vigil_worm_seal_duration_seconds',
        help: 'Time to compress a segment and write its signed manifest.',
        labelNames: ['exporter'],
        buckets: [0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: registers(reg),
      });
    this.sealFailures = counter('vigil_worm_seal_failures_total', 'Seal attempts that failed and will be retried (e.g. disk full).', ['exporter']);
    this.lastSealTime = gauge('vigil_worm_last_seal_timestamp_seconds', 'When the last segment was sealed (alert when older than the heartbeat).');
    this.openSegmentBytes = gauge('vigil_worm_open_segment_bytes', 'Bytes in the open (unsealed) segment.');
    this.repairs = counter('vigil_worm_recoveries_total', 'Start-ups that recovered an archive left by an unclean stop (torn tail cut, recovery note chained).', ['exporter']);
    this.uploadBacklog = gauge('vigil_worm_upload_backlog_segments', 'Sealed segments waiting to be uploaded to S3.');
    this.uploadedSegments = counter('vigil_worm_uploaded_segments_total', 'Segments uploaded to S3 with their manifest, lock read back.', ['exporter']);
    this.uploadedBytes = counter('vigil_worm_uploaded_bytes_total', 'Bytes uploaded to S3 (segments and manifests).', ['exporter']);
    this.uploadFailures = counter('vigil_worm_upload_failures_total', 'Upload attempts that failed and will be retried.', ['exporter']);
    this.checkpointSegment = gauge('vigil_archive_checkpoint_segment', 'Segment number of the newest sealed-segment checkpoint (signed; also sent downstream as a vigil.archive.checkpoint log record).');
    this.checkpointTime = gauge('vigil_archive_checkpoint_timestamp_seconds', 'When the newest sealed-segment checkpoint was signed.');
    this.prunedSegments = counter('vigil_worm_pruned_segments_total', 'Local segment copies removed after upload, per local_retention.', ['exporter']);
  }

  get labels(): { exporter: string } {
    return { exporter: this.exporter };
  }
}

function registers(reg: Registry | undefined): Registry[] {
  return reg ? [reg] : [];
}
