// The on-disk form of one queued batch: a fixed header, then the request bytes.
//
//   offset  size  field
//        0     4  magic "VQB1"
//        4     4  payload length, u32 little-endian
//        8     4  record count, u32 little-endian
//       12     4  CRC-32 (IEEE, as zlib/gzip) over bytes 4..12 and the payload
//       16     n  payload: an encoded ExportLogsServiceRequest (protobuf or OTLP/JSON)
//
// A file is valid only if it is exactly 16 + n bytes long and the checksum holds,
// so a write torn by a crash (short file, zero-filled blocks, stale tail) is
// recognised. The CRC guards against torn writes, not against tampering.
import { crc32 } from 'node:zlib';

export const BATCH_MAGIC = Buffer.from('VQB1', 'latin1');
export const HEADER_SIZE = 16;
export const MAX_PAYLOAD = 0xffff_ffff;

export function encodeBatchHeader(payload: Uint8Array, records: number): Buffer {
  if (payload.length > MAX_PAYLOAD) throw new RangeError(`a queued batch is limited to ${MAX_PAYLOAD} bytes, got ${payload.length}`);
  const h = Buffer.alloc(HEADER_SIZE);
  BATCH_MAGIC.copy(h, 0);
  h.writeUInt32LE(payload.length, 4);
  h.writeUInt32LE(records >>> 0, 8);
  h.writeUInt32LE(crc32(payload, crc32(h.subarray(4, 12))), 12);
  return h;
}

export type DecodedBatchFile = { ok: true; records: number; payload: Buffer } | { ok: false; problem: string };

/** Validates a whole batch file; on success the payload is a view into `file`. */
export function decodeBatchFile(file: Buffer): DecodedBatchFile {
  if (file.length < HEADER_SIZE) return { ok: false, problem: `torn: ${file.length} bytes, shorter than the ${HEADER_SIZE}-byte header` };
  if (!file.subarray(0, 4).equals(BATCH_MAGIC)) return { ok: false, problem: 'not a queue batch file (bad magic)' };
  const length = file.readUInt32LE(4);
  if (file.length !== HEADER_SIZE + length) {
    return { ok: false, problem: `torn: header announces ${length} payload bytes, file holds ${file.length - HEADER_SIZE}` };
  }
  const payload = file.subarray(HEADER_SIZE);
  if (crc32(payload, crc32(file.subarray(4, 12))) !== file.readUInt32LE(12)) return { ok: false, problem: 'torn or corrupt: checksum mismatch' };
  return { ok: true, records: file.readUInt32LE(8), payload };
}

/** `0000000000000042.batch`: fixed width so that names sort in queue order. */
export function batchFileName(seq: number): string {
  return `${seq.toString().padStart(16, '0')}.batch`;
}

/** The sequence number of a batch file name, or undefined for any other file. */
export function parseBatchFileName(name: string): number | undefined {
  const m = /^(\d{16})\.batch$/.exec(name);
  return m ? Number(m[1]) : undefined;
}
