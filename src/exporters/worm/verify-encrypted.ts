// verify's step for an encrypted sealed segment (encryption.ts). Without the
// archive key it proves what the signed manifest allows: the ciphertext's
// SHA-256, hence the file is exactly what was sealed and signed, and says
// that the records were not checked. With the key it authenticates every chunk
// (a changed byte fails AES-GCM: `modified`) and hands the decrypted, compressed file to the
// ordinary entry checks, which prove the chain and Merkle root over the plaintext.
import { sha256Hex } from './entry.js';
import { type ArchiveKey, DecryptionError, EncryptionKeyError, ShreddedKeyError, decryptSegmentFile, isEncryptedFile } from './encryption.js';
import type { Manifest } from './manifest.js';
import type { Finding } from './verify-findings.js';
import type { DataCheckResult } from './verify-segment.js';

export function needsDecryption(data: Buffer, m: Manifest): boolean {
  return m.encryption !== undefined || isEncryptedFile(data);
}

export async function checkEncryptedSegment(
  n: number,
  object: string,
  data: Buffer,
  m: Manifest,
  key: ArchiveKey | undefined,
  checkPlain: (gz: Buffer, m: Manifest) => Promise<DataCheckResult>,
): Promise<DataCheckResult> {
  const findings: Finding[] = [];
  const brk = (detail: string) => findings.push({ severity: 'break', kind: 'modified', segment: n, object, detail });
  const unchecked = (why: string): DataCheckResult => {
    findings.push({ severity: 'note', kind: 'encrypted', segment: n, object, detail: `${m.records} record${m.records === 1 ? '' : 's'} not checked: ${why}` });
    return { findings, validRecords: 0, contentBytes: 0, notes: [] };
  };
  const cipherOk = sha256Hex(data) === m.segment_sha256;
  if (!cipherOk) brk('the encrypted segment file differs from the SHA-256 of its ciphertext in the signed manifest');
  if (!m.encryption) brk('the segment file is encrypted but its signed manifest says it was sealed in clear');
  else if (!isEncryptedFile(data)) brk('the signed manifest says the segment is encrypted but the file is not');
  if (findings.length > 0 && !key) return { findings, validRecords: 0, contentBytes: 0, notes: [] };
  if (!key) return unchecked('the segment is encrypted and no archive key was given (--key-file); its ciphertext matches the signed SHA-256');
  if (!isEncryptedFile(data)) return { findings, validRecords: 0, contentBytes: 0, notes: [] };
  let gz: Buffer;
  try {
    const d = decryptSegmentFile(data, key, { archiveId: m.archive_id, segment: n, form: 'sealed' });
    if (d.tornBytes > 0) brk(`the encrypted segment file ends inside a chunk (${d.tornBytes} bytes after the last complete one)`);
    gz = d.content;
  } catch (err) {
    if (err instanceof ShreddedKeyError) {
      // Shredding is erasure after retention; a key destroyed earlier erased records the archive had to keep.
      if (m.retain_until === null || Date.parse(m.retain_until) > Date.parse(err.shreddedAt)) {
        findings.push({
          severity: 'break',
          kind: 'missing',
          segment: n,
          object,
          detail: `${m.records} record${m.records === 1 ? '' : 's'} erased within retention: ${err.message}, but the segment is retained until ${m.retain_until ?? 'forever (no retention)'}`,
        });
        return { findings, validRecords: 0, contentBytes: 0, notes: [] };
      }
      findings.push({ severity: 'note', kind: 'shredded', segment: n, object, detail: `${m.records} record${m.records === 1 ? '' : 's'} unreadable: ${err.message}; the ciphertext still matches the signed SHA-256, so the segment is proven intact` });
      return { findings, validRecords: 0, contentBytes: 0, notes: [] };
    }
    if (err instanceof EncryptionKeyError) return unchecked(err.message);
    if (err instanceof DecryptionError) {
      brk(err.message);
      return { findings, validRecords: 0, contentBytes: 0, notes: [] };
    }
    throw err;
  }
  // The entry checks compare the file's hash with the manifest: here that is the plaintext gzip's.
  const r = await checkPlain(gz, { ...m, segment_sha256: sha256Hex(gz) });
  return { ...r, findings: [...findings, ...r.findings] };
}
