// The contract between an exporter's sending queue and where it keeps its
// batches: in memory, or on disk through a storage extension (file_storage).
// The queue decides what to keep and when; the store only keeps it.
import type { Extension } from '../../pipeline/component.js';
import type { Logger } from '../../telemetry/logger.js';

/** One queued batch: the request bytes as they go on the wire (encoded once), and how many records they hold. */
export interface StoredBatch {
  /** Position in the queue: increasing in enqueue order, also across restarts. */
  readonly seq: number;
  readonly records: number;
  /** Held in memory by memory stores; from disk stores, the sending queue reads it back when it no longer holds the bytes it stored (a backlog, a retry, a restart). */
  readonly payload?: Uint8Array;
}

export interface QueueStore {
  /** Where the batches live, for start-up banners and logs. */
  readonly location: string;
  /** True when a batch survives a crash once `put` resolved. */
  readonly durable: boolean;
  /** Batches left by a previous run, in queue order (called once, before any put). */
  recover(): Promise<StoredBatch[]>;
  /** Stores a batch; resolves once it is durable (for a durable store: written and fsync'd). */
  put(payload: Uint8Array, records: number): Promise<StoredBatch>;
  /** The batch's bytes, or undefined when they can no longer be read intact (the store logs why). */
  read(batch: StoredBatch): Promise<Uint8Array | undefined>;
  /** Forgets a batch (delivered, or given up on). */
  remove(batch: StoredBatch): Promise<void>;
  /** Releases the store; batches not removed stay for the next open. */
  close(): Promise<void>;
}

/** An extension that gives components their own durable queue (file_storage). */
export interface QueueStorageExtension extends Extension {
  /** Opens the queue owned by one component (`exporter id`); one owner at a time. */
  openQueue(ownerId: string, logger: Logger): Promise<QueueStore>;
}

export function isQueueStorage(ext: Extension | undefined): ext is QueueStorageExtension {
  return typeof (ext as Partial<QueueStorageExtension> | undefined)?.openQueue === 'function';
}
