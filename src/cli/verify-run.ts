// The verify run and its report, shared by `vigil verify` and `vigil demo`:
// checks each archive of ARCHIVE (directory or s3://bucket/prefix) and formats
// what it found.
import { readFile } from 'node:fs/promises';
import type { ArchiveSource } from '../exporters/worm/source.js';
import { type Finding, type VerifyReport, fmtAge, verifyArchive } from '../exporters/worm/verify.js';
import { CheckpointFormatError, parseCheckpoint } from '../exporters/worm/checkpoint.js';
import type { ParsedCheckpoint } from '../exporters/worm/verify-checkpoint.js';
import { type SseExpectation, sseConfigSchema } from '../exporters/worm/sse.js';
import { fmtCensus } from '../exporters/worm/encryption-check.js';
import type { PublicKeyEntry } from '../exporters/worm/keys.js';
import { archiveProgress, openOrUsage, publicKeysOrUsage } from './archive-args.js';
import { fmtInt } from './progress.js';
import { parseTimeArg, UsageError } from './usage.js';

function where(f: Finding): string {
  const parts: string[] = [];
  if (f.segment !== undefined) parts.push(`segment ${f.segment}`);
  if (f.index !== undefined) parts.push(`entry ${f.index}${f.seq !== undefined ? ` (seq ${f.seq})` : ''}`);
  if (parts.length === 0 && f.object) parts.push(f.object);
  return parts.join(', ');
}

function segmentList(fs: Finding[]): string {
  const ns = fs.map((f) => f.segment);
  return ns.length > 6 ? `${ns.slice(0, 3).join(', ')} … ${ns[ns.length - 1]}` : ns.join(', ');
}

export function formatReport(r: VerifyReport, window: { from?: number | undefined; to?: number | undefined }): string {
  const lines: string[] = [];
  lines.push(`Archive ${r.archive}${r.archiveId ? ` (id ${r.archiveId})` : ''}`);
  if (window.from !== undefined || window.to !== undefined) {
    lines.push(`  Results requested for ${window.from !== undefined ? new Date(window.from).toISOString() : 'the start'} to ${window.to !== undefined ? new Date(window.to).toISOString() : 'now'}`);
  }
  if (r.firstSealedAt) lines.push(`  Sealed from ${r.firstSealedAt} to ${r.lastSealedAt}${r.lastSealReason === 'shutdown' ? ' (last seal: clean shutdown)' : ''}`);
  lines.push(`  ${fmtInt(r.segments.valid)}/${fmtInt(r.segments.checked - r.segments.notLocal)} segments valid${r.segments.notLocal ? ` (${r.segments.notLocal} held only in S3)` : ''}`);
  lines.push(`  ${fmtInt(r.records.valid)}/${fmtInt(r.records.checked)} records valid`);
  if (r.encryption) lines.push(`  S3 encryption: ${fmtCensus(r.encryption) || 'no objects checked'}`);
  if (r.unsealed) lines.push(`  ${fmtInt(r.unsealed.records)} records unsealed in segment ${r.unsealed.segment} (chained, not yet signed)`);
  const encrypted = r.findings.filter((f) => f.kind === 'encrypted');
  const shredded = r.findings.filter((f) => f.kind === 'shredded');
  if (encrypted.length) {
    const why = [...new Set(encrypted.map((f) => f.detail.replace(/^\d+ records? not checked: /, '').replace(/; its ciphertext matches the signed SHA-256$/, '')))];
    lines.push(`  ${encrypted.length} encrypted segment${encrypted.length > 1 ? 's' : ''} (${segmentList(encrypted)}): ciphertexts match their signed SHA-256; records not checked: ${why.length === 1 ? why[0] : 'see --json'}`);
  }
  if (shredded.length) lines.push(`  ${shredded.length} shredded segment${shredded.length > 1 ? 's' : ''} (${segmentList(shredded)}): data keys destroyed by \`vigil keys shred\`; proven intact by their ciphertext digests, records unreadable by design`);
  const given = r.checkpoints.filter((c) => c.origin === '--checkpoint');
  for (const c of given) {
    const cp = c.checkpoint;
    lines.push(`  ${c.reached ? 'Reaches' : 'Does NOT reach'} checkpoint of ${cp.time} (${cp.state} segment ${cp.segment}, seq ${cp.entries}, ${fmtInt(cp.records)} records)`);
  }
  if (given.length === 0) lines.push('  Tail: proven only as far as the archive itself shows; give the newest checkpoint kept downstream with --checkpoint to prove nothing after it was deleted');
  const notes = r.findings.filter((f) => f.severity === 'note' && f.kind !== 'unsealed' && f.kind !== 'not held locally' && f.kind !== 'encrypted' && f.kind !== 'shredded');
  const breaks = r.findings.filter((f) => f.severity === 'break');
  if (notes.length) {
    lines.push('  Notes:');
    for (const f of notes) lines.push(`    ${where(f)}: ${f.kind}: ${f.detail}`);
  }
  if (breaks.length) {
    lines.push('  Breaks:');
    for (const f of breaks) lines.push(`    ${where(f)}: ${f.kind.toUpperCase()}: ${f.detail}${f.object && f.segment !== undefined ? ` [${f.object}]` : ''}`);
  }
  const mb = r.contentBytes / 1e6;
  lines.push(r.ok ? `  Intact. (${mb.toFixed(1)} MB checked in ${fmtAge(r.durationMs)})` : `  BROKEN: ${breaks.length} break${breaks.length > 1 ? 's' : ''}.`);
  return `${lines.join('\n')}\n`;
}

export interface VerifyCliOptions {
  publicKey: string[];
  from?: string;
  to?: string;
  json?: boolean;
  endpoint?: string;
  encryption?: string;
  kmsKeyId?: string;
  keyFile?: string;
  keyring?: string;
  checkpoint?: string[];
}

/** --encryption / --kms-key-id → what every S3 object must carry (default: some server-side encryption). */
export function sseExpectationOrUsage(mode: string | undefined, kmsKeyId: string | undefined): SseExpectation {
  if ((mode === undefined || mode === 'any') && kmsKeyId === undefined) return 'any';
  const parsed = sseConfigSchema.safeParse({ mode: mode ?? 'sse-kms', kms_key_id: kmsKeyId });
  if (!parsed.success) throw new UsageError(`--encryption ${mode ?? ''}${kmsKeyId ? ` --kms-key-id ${kmsKeyId}` : ''}: ${parsed.error.issues[0].message}`);
  return parsed.data;
}

/** `--checkpoint TEXT` or `@FILE`: every checkpoint text in the file (a plain list, or a SIEM export holding the attribute). */
export async function readCheckpointArgs(args: readonly string[]): Promise<ParsedCheckpoint[]> {
  const out: ParsedCheckpoint[] = [];
  for (const arg of args) {
    let texts: string[];
    if (arg.startsWith('@')) {
      let text: string;
      try {
        text = await readFile(arg.slice(1), 'utf8');
      } catch (err) {
        throw new UsageError(`--checkpoint ${arg}: cannot read ${arg.slice(1)} (${(err as Error).message})`);
      }
      texts = text.match(/vigil-checkpoint\/1 [^"\n\\]+/g) ?? [];
      if (texts.length === 0) throw new UsageError(`--checkpoint ${arg}: no checkpoint (a line starting with "vigil-checkpoint/1 ") in ${arg.slice(1)}`);
    } else texts = [arg];
    for (const t of texts) {
      try {
        out.push(parseCheckpoint(t));
      } catch (err) {
        if (err instanceof CheckpointFormatError) throw new UsageError(`--checkpoint: ${err.message}`);
        throw err;
      }
    }
  }
  return out;
}

export async function runVerify(archive: string, opts: VerifyCliOptions): Promise<{ reports: VerifyReport[]; ok: boolean }> {
  const from = parseTimeArg(opts.from, '--from');
  const to = parseTimeArg(opts.to, '--to');
  if (from !== undefined && to !== undefined && from >= to) throw new UsageError('--from must be before --to');
  const encryption = sseExpectationOrUsage(opts.encryption, opts.kmsKeyId);
  const keys = await publicKeysOrUsage(opts.publicKey, archive);
  const checkpoints = await readCheckpointArgs(opts.checkpoint ?? []);
  const { sources, close } = await openOrUsage(archive, opts.endpoint, opts.keyFile, opts.keyring);
  const reports: VerifyReport[] = [];
  try {
    for (const source of sources) reports.push(await verifyOne(source, keys, from, to, encryption, checkpoints));
  } finally {
    close();
  }
  const ids = reports.map((r) => r.archiveId);
  const foreign = checkpoints.filter((c) => !ids.includes(c.archive));
  if (foreign.length > 0) {
    throw new UsageError(`--checkpoint is for archive ${foreign[0].archive}, but ${archive} holds ${ids.filter(Boolean).join(', ') || 'no archive id'}: give the checkpoints of this archive`);
  }
  return { reports, ok: reports.every((r) => r.ok) };
}

async function verifyOne(
  source: ArchiveSource,
  keys: Map<string, PublicKeyEntry>,
  from: number | undefined,
  to: number | undefined,
  encryption: SseExpectation,
  checkpoints: ParsedCheckpoint[],
): Promise<VerifyReport> {
  const progress = archiveProgress('verifying');
  try {
    return await verifyArchive(source, { keys, from, to, onProgress: progress.onProgress, encryption, checkpoints });
  } finally {
    progress.done();
  }
}
