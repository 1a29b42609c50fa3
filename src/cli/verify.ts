// `vigil verify ARCHIVE`: proves an archive (directory or s3://bucket/prefix)
// intact or names each break, in the spirit of `aws cloudtrail validate-logs`.
// Exit 0 intact, 1 broken, 2 usage. Also the helpers the other archive
// commands share: time arguments, public keys, a progress line on a terminal.
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { parseDuration } from '../config/units.js';
import { KeyError, loadPublicKeys, type PublicKeyEntry } from '../exporters/worm/keys.js';
import { ArchiveNotFoundError, openArchives, type ArchiveSource } from '../exporters/worm/source.js';
import { type Finding, type VerifyReport, fmtAge, verifyArchive } from '../exporters/worm/verify.js';
import { CheckpointFormatError, parseCheckpoint } from '../exporters/worm/checkpoint.js';
import type { ParsedCheckpoint } from '../exporters/worm/verify-checkpoint.js';
import { type SseExpectation, sseConfigSchema } from '../exporters/worm/sse.js';
import { fmtCensus } from '../exporters/worm/encryption-check.js';
import { type ArchiveKey, EncryptionKeyError, loadArchiveKey } from '../exporters/worm/encryption.js';
import { UsageError } from './main.js';
import { type ProgressBar, progressBar } from './progress.js';

// ---- shared helpers --------------------------------------------------------------

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `2026-03-01` (UTC midnight), any ISO 8601 time, or relative `-24h` / `now-7d`. */
export function parseTimeArg(s: string | undefined, flag: string): number | undefined {
  if (s === undefined) return undefined;
  const rel = /^(?:now)?-(\d.*)$/.exec(s.trim());
  if (rel) {
    try {
      return Date.now() - parseDuration(rel[1]);
    } catch {
      /* fall through to the message below */
    }
  }
  const t = /^\d{4}-\d{2}-\d{2}$/.test(s) ? Date.parse(`${s}T00:00:00Z`) : Date.parse(s);
  if (!Number.isFinite(t)) throw new UsageError(`${flag} ${s}: use an ISO date or time (2026-03-01, 2026-03-01T09:00:00Z) or a relative time (-24h, now-7d)`);
  return t;
}

/** Loads --public-key files; without any, says where keys usually are. */
export async function publicKeysOrUsage(files: string[], archive: string): Promise<Map<string, PublicKeyEntry>> {
  if (files.length === 0) {
    const near = archive.startsWith('s3://') ? [] : await findPublicKeys(resolve(archive));
    throw new UsageError(
      `give the archive's public key with --public-key FILE (repeat it for rotated keys)${near.length ? `; found nearby: ${near.join(', ')}` : ''}. ` +
        'Use a copy you trust: a key taken from beside the archive proves nothing against whoever can write there.',
    );
  }
  try {
    return await loadPublicKeys(files);
  } catch (err) {
    if (err instanceof KeyError) throw new UsageError(err.message);
    throw err;
  }
}

async function findPublicKeys(archiveDir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of [join(dirname(archiveDir), 'keys'), archiveDir]) {
    const names = await readdir(d).catch(() => [] as string[]);
    for (const n of names) if (n.endsWith('.pub')) out.push(join(d, n));
  }
  return out;
}

/** Opens ARCHIVE; with `keyFile`, every source holds the archive encryption key and its keyring (read once, never printed). */
export async function openOrUsage(archive: string, endpoint: string | undefined, keyFile?: string, keyringFile?: string) {
  let archiveKey: ArchiveKey | undefined;
  try {
    if (keyringFile && !keyFile) throw new UsageError('--keyring needs --key-file (the key that unwraps it)');
    if (keyFile) archiveKey = await loadArchiveKey(resolve(keyFile), '--key-file', keyringFile ? resolve(keyringFile) : undefined);
  } catch (err) {
    if (err instanceof EncryptionKeyError) throw new UsageError(err.message);
    throw err;
  }
  try {
    const opened = await openArchives(archive, { endpoint });
    for (const s of opened.sources) s.archiveKey = archiveKey;
    return opened;
  } catch (err) {
    if (err instanceof ArchiveNotFoundError) throw new UsageError(err.message);
    throw err;
  }
}

/** A progress bar (src/cli/progress.ts) created on the first report, once the archive's size is known. */
export function archiveProgress(label: string): { onProgress: (p: { bytes: number; totalBytes: number; records: number }) => void; done: () => void } {
  let bar: ProgressBar | undefined;
  return {
    onProgress: (p) => (bar ??= progressBar({ label, totalBytes: p.totalBytes || undefined })).update(p.bytes, p.records),
    done: () => bar?.done(),
  };
}

export function fmtInt(n: number): string {
  return n.toLocaleString('en-US');
}

// ---- verify ------------------------------------------------------------------------

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

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('prove an archive intact, or name each break (segment, entry, kind)')
    .argument('<archive>', 'archive directory, or s3://bucket/prefix')
    .option('-k, --public-key <file>', 'Ed25519 public key (PEM) the manifests must be signed with; repeat for rotated keys', collect, [])
    .option('--from <time>', 'check only records from this time (ISO date/time or -24h); manifests are always checked')
    .option('--to <time>', 'check only records before this time')
    .option('--json', 'print the report as JSON')
    .option('--endpoint <url>', 'S3-compatible endpoint, e.g. http://127.0.0.1:7480 (credentials from the AWS environment)')
    .option('--checkpoint <text|@file>', 'a signed checkpoint kept outside the machine (the text, or @FILE holding one or more); the archive must reach each; repeatable', collect, [])
    .option('--key-file <file>', 'archive encryption key (exporters.worm.encryption.key_file) for encrypted segments')
    .option('--keyring <file>', 'its keyring, when not beside the key file (exporters.worm.encryption.keyring)')
    .option('--encryption <mode>', 'on S3: the server-side encryption every object must carry: any (default), sse-kms, sse-s3, none (not checked)')
    .option('--kms-key-id <id>', 'on S3: the KMS key id or ARN every object must be encrypted with (implies --encryption sse-kms)')
    .addHelpText(
      'after',
      `
Checks every entry hash and chain link, every Merkle root, every manifest
signature and the manifest chain, the heartbeat (a deleted tail shows as a
gap) and, on S3, each object's Object Lock. Breaks: modified, missing,
inserted, reordered, truncated, bad signature, unknown key, gap, unlocked
object, unencrypted object, foreign file. Encrypted segments: without --key-file their
ciphertext is checked against the signed SHA-256 and their records are noted
as not checked; with it, everything. Records of the open segment are reported as unsealed, not as valid.
With --checkpoint (the vigil.archive.checkpoint attribute kept downstream) it
proves the archive reaches each checkpoint: a deleted tail fails as truncated,
naming the missing segments.
Exit status: 0 intact, 1 broken, 2 usage error.

Examples:
  npx vigil verify ./vigil-data/archive --public-key ./vigil-data/keys/archive.pub
  npx vigil verify s3://audit-logs/vigil/ --endpoint http://127.0.0.1:7480 -k archive.pub -k archive-2025.pub
  npx vigil verify ./vigil-data/archive -k archive.pub --from 2026-03-01 --to 2026-04-01 --json
  npx vigil verify ./vigil-data/archive -k archive.pub --checkpoint @newest-checkpoint.txt`,
    )
    .action(async (archive: string, opts: VerifyCliOptions) => {
      const { reports, ok } = await runVerify(archive, opts);
      if (opts.json) process.stdout.write(`${JSON.stringify({ ok, archives: reports }, null, 2)}\n`);
      else {
        const window = { from: parseTimeArg(opts.from, '--from'), to: parseTimeArg(opts.to, '--to') };
        for (const r of reports) process.stdout.write(formatReport(r, window));
        if (reports.length > 1) process.stdout.write(ok ? `All ${reports.length} archives intact.\n` : `${reports.filter((r) => !r.ok).length} of ${reports.length} archives BROKEN.\n`);
      }
      process.exitCode = ok ? 0 : 1;
    });
}
