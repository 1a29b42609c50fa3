// Durable-file helpers: a file is durable only once its own fsync returned, and
// a new name (create, rename) only once its directory was fsync'd too.
import { constants } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes a file so that a crash leaves either the old or the new content: the
 * content goes to a temp file beside it (through `fill`, which may write in
 * pieces), which is fsync'd, renamed over the target, and the directory fsync'd.
 */
export async function writeFileAtomic<T>(
  path: string,
  fill: (write: (data: Uint8Array) => Promise<void>) => Promise<T>,
  mode = 0o600,
): Promise<T> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  // Ends in .tmp: start-up clean-ups (the worm's segment scan) recognise and remove leftovers by that suffix.
  const tmp = join(dir, `.${path.slice(dir.length + 1)}.${process.pid}.tmp`);
  // O_NOFOLLOW: a link planted under the temp name must not redirect the write.
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, mode);
  let result: T;
  try {
    result = await fill(async (data) => {
      let off = 0;
      while (off < data.length) off += (await fh.write(data, off, data.length - off)).bytesWritten;
    });
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  await rename(tmp, path);
  await fsyncDir(dir);
  return result;
}

/** `writeFileAtomic` for content already in memory. */
export async function writeFileDurably(dir: string, name: string, data: Uint8Array, mode = 0o644): Promise<void> {
  await writeFileAtomic(join(dir, name), (write) => write(data), mode);
}

export async function unlinkIfExists(path: string): Promise<void> {
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}
