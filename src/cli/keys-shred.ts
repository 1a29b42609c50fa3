// `vigil keys shred ARCHIVE --before DATE`: crypto-shredding (src/exporters/worm/shred.ts)
// as a subcommand of the `keys` group (src/cli/keys.ts registers it).
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { defaultRegistry } from '../components.js';
import { loadConfig } from '../config/load.js';
import type { WormConfig } from '../exporters/worm/config.js';
import { ArchiveLockedError } from '../exporters/worm/segment-log.js';
import { type ShredResult, planArchiveShred } from '../exporters/worm/shred.js';
import { loadArchiveKey } from '../exporters/worm/encryption.js';
import { WormExporter } from '../exporters/worm/worm.js';
import { createLogger } from '../telemetry/logger.js';
import { parseTimeArg, UsageError } from './usage.js';

/** The worm exporter of --config, which must be the one writing ARCHIVE. */
export function wormConfigFor(archive: string, configFile: string | undefined): WormConfig {
  const config = loadConfig(configFile, defaultRegistry());
  const worm = [...config.exporters.values()].find((e) => e.factory.type === 'worm')?.config as WormConfig | undefined;
  if (!worm) throw new UsageError(`no worm exporter in ${configFile ?? 'the embedded default config'}: give the --config Vigil runs with`);
  if (resolve(worm.directory) !== resolve(archive)) throw new UsageError(`${archive} is not the worm directory of ${configFile ?? 'the embedded default config'} (${worm.directory})`);
  return worm;
}

export async function runShred(archive: string, opts: { before: string; config?: string }): Promise<ShredResult> {
  const before = parseTimeArg(opts.before, '--before')!;
  const worm = wormConfigFor(archive, opts.config);
  if (!worm.encryption) throw new UsageError('exporters.worm.encryption.key_file is not configured: the archive has no data keys to shred');
  // Read-only first: a run with nothing to shred leaves the archive untouched (no new segment).
  const key = await loadArchiveKey(resolve(worm.encryption.key_file), undefined, worm.encryption.keyring ? resolve(worm.encryption.keyring) : undefined);
  const plan = await planArchiveShred(resolve(worm.directory), key.keyring!, before, Date.now());
  if (plan.keks.length === 0) return { ...plan, at: new Date().toISOString() };
  // The archive's one writer records the shredding in the chain: Vigil must not be running on it.
  const w = new WormExporter('worm', worm, undefined, createLogger('warn'), { timers: false });
  try {
    await w.start();
  } catch (err) {
    if (err instanceof ArchiveLockedError) throw new UsageError(`${err.message}: stop Vigil first (shredding is recorded in the chain, which only the writer may extend)`);
    throw err;
  }
  try {
    return await w.shredKeys(before);
  } finally {
    await w.shutdown(AbortSignal.timeout(30_000));
  }
}

export function registerShred(keys: Command): void {
  keys
    .command('shred')
    .description('crypto-shred: destroy the data keys of segments whose retention ended before DATE, recorded in the chain')
    .argument('<archive>', 'the archive directory (Vigil must be stopped)')
    .requiredOption('--before <date>', 'shred only segments retained until before this time (ISO date/time, or -400d)')
    .option('-c, --config <file>', 'the Vigil config of the archive (encryption.key_file, signing key, s3)')
    .addHelpText(
      'after',
      `
Destroys the keyring's day keys whose every segment's Object Lock retention
ended before DATE (and before now). The records of those segments can then
never be decrypted again, wherever copies remain (S3 versions, backups of the
segments); \`vigil verify --key-file\` reports them as shredded, still proven
intact by their signed ciphertext digests. Back up the keyring only with a
rotation shorter than your erasure deadline: an old copy brings the keys back.

Example:
  vigil keys shred ./vigil-data/archive --before -400d --config vigil.yaml`,
    )
    .action(async (archive: string, opts: { before: string; config?: string }) => {
      const r = await runShred(archive, opts);
      if (r.keks.length === 0) process.stdout.write('Nothing to shred.\n');
      else process.stdout.write(`Shredded ${r.keks.length} day key(s) (${r.keks.join(', ')}): the records of segment(s) ${r.segments.join(', ')} are now unreadable.\n`);
      for (const k of r.kept) process.stdout.write(`  kept ${k.kek}: ${k.reason}\n`);
    });
}
