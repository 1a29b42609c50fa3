// `vigil verify ARCHIVE`: proves an archive (directory or s3://bucket/prefix)
// intact or names each break, in the spirit of `aws cloudtrail validate-logs`.
// Exit 0 intact, 1 broken, 2 usage.
import type { Command } from 'commander';
import { type VerifyCliOptions, formatReport, runVerify } from './verify-run.js';
import { collect, parseTimeArg } from './usage.js';

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
