// `vigil prove ARCHIVE RECORD_ID`: a JSON inclusion proof for one record (by its
// audit.record_id or its position segment:index), and `vigil verify-proof`,
// which checks such a proof offline with the archive's public key.
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { buildProof, parseLocator, ProofError, verifyProof } from '../exporters/worm/proof.js';
import { openOrUsage, publicKeysOrUsage } from './archive-args.js';
import { collect, UsageError } from './usage.js';

export function registerProve(program: Command): void {
  program
    .command('prove')
    .description('print a JSON inclusion proof for one record: the record, its Merkle path, the signed manifest')
    .argument('<archive>', 'archive directory, or s3://bucket/prefix')
    .argument('<record>', "the record's audit.record_id, or its position SEGMENT:INDEX (e.g. 3:17)")
    .option('-o, --output <file>', 'write the proof to a file instead of stdout')
    .option('--endpoint <url>', 'S3-compatible endpoint (credentials from the AWS environment)')
    .option('--key-file <file>', 'archive encryption key (exporters.worm.encryption.key_file) for encrypted segments')
    .addHelpText(
      'after',
      `
The proof stands alone: hand it with the public key to an auditor, who checks
it with \`vigil verify-proof\` without the rest of the archive.

Examples:
  npx vigil prove ./vigil-data/archive 9f2c61d0a4b87e13 > proof.json
  npx vigil prove ./vigil-data/archive 3:17 -o proof.json`,
    )
    .action(async (archive: string, record: string, opts: { output?: string; endpoint?: string; keyFile?: string }) => {
      const { sources, close } = await openOrUsage(archive, opts.endpoint, opts.keyFile);
      try {
        let lastErr: unknown;
        for (const source of sources) {
          try {
            const { proof, otherMatches } = await buildProof(source, parseLocator(record));
            const text = `${JSON.stringify(proof, null, 2)}\n`;
            if (opts.output) await writeFile(opts.output, text);
            else process.stdout.write(text);
            if (otherMatches.length) process.stderr.write(`vigil: the same audit.record_id is also at ${otherMatches.join(', ')} (a resend, kept at-least-once)\n`);
            return;
          } catch (err) {
            if (!(err instanceof ProofError)) throw err;
            lastErr = err;
          }
        }
        throw lastErr;
      } finally {
        close();
      }
    });

  program
    .command('verify-proof')
    .description('check an inclusion proof offline against the archive public key')
    .argument('<proof-file>', 'a proof written by vigil prove')
    .option('-k, --public-key <file>', 'Ed25519 public key (PEM); repeat for rotated keys', collect, [])
    .option('--json', 'print the verdict as JSON')
    .addHelpText(
      'after',
      `
Checks that the archived entry (its line, v1, or frame, v2) hashes to the entry hash, that the Merkle audit
path leads from it to the root in the manifest, and that the manifest carries a
valid Ed25519 signature by one of the given keys. Exit 0 valid, 1 invalid, 2 usage.

Example:
  npx vigil verify-proof proof.json --public-key archive.pub`,
    )
    .action(async (file: string, opts: { publicKey: string[]; json?: boolean }) => {
      const keys = await publicKeysOrUsage(opts.publicKey, file);
      let proof: unknown;
      try {
        proof = JSON.parse(await readFile(file, 'utf8'));
      } catch (err) {
        throw new UsageError(`cannot read proof ${file}: ${(err as Error).message}`);
      }
      const v = verifyProof(proof, keys);
      if (opts.json) process.stdout.write(`${JSON.stringify({ ok: v.ok, checks: v.checks }, null, 2)}\n`);
      else {
        const p = proof as { segment?: number; index?: number; archive?: string };
        process.stdout.write(`Proof for segment ${p.segment}, entry ${p.index} of ${p.archive}\n`);
        for (const c of v.checks) process.stdout.write(`  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.detail}\n`);
        process.stdout.write(v.ok ? 'The record is part of the signed archive.\n' : 'The proof does NOT hold.\n');
      }
      process.exitCode = v.ok ? 0 : 1;
    });
}
