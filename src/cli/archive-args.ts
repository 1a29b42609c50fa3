// What the archive commands (verify, query, export, prove, check) share: the
// public keys to check against, the archive opened with its encryption key, the
// --from/--to window of query and export, and a progress bar over the bytes read.
import { readdir } from 'node:fs/promises';
import { Option } from 'commander';
import { dirname, join, resolve } from 'node:path';
import { KeyError, loadPublicKeys, type PublicKeyEntry } from '../exporters/worm/keys.js';
import { ArchiveNotFoundError, openArchives } from '../exporters/worm/source.js';
import { type ArchiveKey, EncryptionKeyError, loadArchiveKey } from '../exporters/worm/encryption.js';
import type { TimeWindow } from '../exporters/worm/time-window.js';
import { type ProgressBar, progressBar } from './progress.js';
import { parseTimeArg, UsageError } from './usage.js';

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

/** `--from` as query and export take it (a new Option per command: commander keeps a reference). */
export function fromOption(): Option {
  return new Option('--from <time>', 'records at or after this time (ISO date/time, or -24h)');
}

/** `--to` as query and export take it. */
export function toOption(): Option {
  return new Option('--to <time>', 'records before this time (exclusive)');
}

/** What a record's time is, for the commands' --help. */
export const TIME_WINDOW_HELP = `--from/--to select by the record's event time: its timestamp, else its observed
time, else when the archive appended it (the time a manifest's time_min/time_max
bound), from <= time < to. A date alone is UTC midnight.`;

/** Parses --from/--to; a window that ends before it starts is a usage error. */
export function timeWindowOrUsage(opts: { from?: string | undefined; to?: string | undefined }): TimeWindow {
  const from = parseTimeArg(opts.from, '--from');
  const to = parseTimeArg(opts.to, '--to');
  if (from !== undefined && to !== undefined && from > to) {
    throw new UsageError(`--from ${opts.from} is after --to ${opts.to}: the window is from <= time < to (${new Date(from).toISOString()} to ${new Date(to).toISOString()})`);
  }
  return { from, to };
}
