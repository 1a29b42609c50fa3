// `vigil keys rotate --config FILE`: replaces the archive's signing key with a
// new one and records the rotation in the chain, with Vigil stopped. The old
// public key stays beside the new one as `<name>-<key id>.pub` (auditors need
// it for the older manifests); the old private key is set aside as
// `<name>-<key id>.key.retired` (0600) for the operator to destroy.
import { constants } from 'node:fs';
import { access, rename } from 'node:fs/promises';
import { dirname, extname, basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { defaultRegistry } from '../components.js';
import { loadConfig } from '../config/load.js';
import type { WormConfig } from '../exporters/worm/config.js';
import { loadOrCreateSigningKey } from '../exporters/worm/keys.js';
import { WormExporter } from '../exporters/worm/worm.js';
import { createLogger } from '../telemetry/logger.js';
import { UsageError } from './usage.js';

export async function rotateArchiveKey(configFile: string | undefined, exporterId: string | undefined): Promise<{ from: string | undefined; to: string; retired: string | undefined }> {
  const config = loadConfig(configFile, defaultRegistry());
  const worms = [...config.exporters.entries()].filter(([id, e]) => e.factory.type === 'worm' && (exporterId === undefined || id === exporterId));
  if (worms.length !== 1) {
    throw new UsageError(exporterId ? `no worm exporter ${exporterId} in the config` : worms.length === 0 ? 'the config has no worm exporter' : 'the config has several worm exporters: name one with --exporter');
  }
  const [id, entry] = worms[0];
  const worm = entry.config as WormConfig;
  const keyFile = resolve(worm.signing.key_file);
  let from: string | undefined;
  let retired: string | undefined;
  if (await access(keyFile, constants.F_OK).then(() => true, () => false)) {
    from = (await loadOrCreateSigningKey(keyFile, false)).keyId;
    const ext = extname(keyFile);
    retired = join(dirname(keyFile), `${basename(keyFile, ext)}-${from}${ext || '.key'}.retired`);
    await rename(keyFile, retired);
  }
  // The exporter does the rest as on a start with signing.rotate: a new pair, the old .pub kept, the rotation sealed.
  const exporter = new WormExporter(id, { ...worm, signing: { ...worm.signing, generate: true, rotate: true } }, undefined, createLogger('error'), { timers: false });
  try {
    await exporter.start();
  } catch (err) {
    if (retired) await rename(retired, keyFile).catch(() => undefined); // nothing rotated: put the key back
    throw err;
  }
  await exporter.shutdown(new AbortController().signal);
  return { from, to: exporter.status().keyId!, retired };
}

/** `vigil keys rotate` on the `keys` group. */
export function registerRotate(keys: Command): void {
  keys
    .command('rotate')
    .description('replace the signing key with a new one, recorded in the chain (run it while Vigil is stopped)')
    .option('-c, --config <file>', 'the config Vigil runs with (its worm exporter names the archive and the key file)')
    .option('--exporter <id>', 'which worm exporter, when the config has several')
    .action(async (opts: { config?: string; exporter?: string }) => {
      const r = await rotateArchiveKey(opts.config, opts.exporter);
      process.stdout.write(
        `Rotated the archive signing key${r.from ? ` from ${r.from}` : ''} to ${r.to}; the rotation is sealed in the chain.\n` +
          'Give auditors the new public key as well as the old one (kept beside it as <name>-<old key id>.pub).\n' +
          (r.retired ? `The old private key is at ${r.retired}: destroy it once you no longer need it.\n` : ''),
      );
    });
}
