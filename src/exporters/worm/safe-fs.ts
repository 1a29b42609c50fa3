// File access inside the archive directory that never follows a symbolic link:
// a link planted under a segment's name must not make Vigil read, truncate or
// write the file it points to, anywhere on the machine. Opens use O_NOFOLLOW
// (the open fails with ELOOP on a link); start-up refuses a directory holding
// any link at all, naming it.
import { constants } from 'node:fs';
import { type FileHandle, lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export const NOFOLLOW = constants.O_NOFOLLOW;
export const READ_NOFOLLOW = constants.O_RDONLY | NOFOLLOW;
export const APPEND_NOFOLLOW = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | NOFOLLOW;
export const CREATE_NOFOLLOW = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | NOFOLLOW;

export class ArchiveLinkError extends Error {}

/** Opens `path` without following a link; ELOOP becomes an error naming the file. */
export async function openNoFollow(path: string, flags: number, mode?: number): Promise<FileHandle> {
  try {
    return await open(path, flags, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw linkError(path);
    throw err;
  }
}

/**
 * Opens a file that must be a regular one (a segment, a manifest) for reading,
 * without following a link and without waiting on anything else: O_NONBLOCK
 * (no effect on a regular file) makes a named pipe under such a name open at
 * once instead of blocking until a writer comes, and it is then refused, as a
 * device or a directory is.
 */
export async function openRegularNoFollow(path: string): Promise<FileHandle> {
  const fh = await openNoFollow(path, READ_NOFOLLOW | (constants.O_NONBLOCK ?? 0));
  try {
    if ((await fh.stat()).isFile()) return fh;
  } catch (err) {
    await fh.close();
    throw err;
  }
  await fh.close();
  throw new Error(`${path} is not a regular file: an archive holds only the files Vigil writes`);
}

export async function readFileNoFollow(path: string): Promise<Buffer> {
  const fh = await openNoFollow(path, READ_NOFOLLOW);
  try {
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/** Truncates through a handle opened without following links, and fsyncs. */
export async function truncateNoFollow(path: string, length: number): Promise<void> {
  const fh = await openNoFollow(path, constants.O_WRONLY | NOFOLLOW);
  try {
    await fh.truncate(length);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function fsyncNoFollow(path: string): Promise<void> {
  const fh = await openNoFollow(path, READ_NOFOLLOW);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Refuses a directory that holds a symbolic link (or anything but files and nothing else), naming the first. */
export async function assertNoLinks(directory: string): Promise<void> {
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    if (entry.isSymbolicLink()) throw linkError(join(directory, entry.name));
  }
  // The directory itself may be a link the operator configured; its entries may not.
  const st = await lstat(directory);
  if (!st.isDirectory() && !st.isSymbolicLink()) throw new ArchiveLinkError(`${directory} is not a directory (exporters.worm.directory)`);
}

function linkError(path: string): ArchiveLinkError {
  return new ArchiveLinkError(
    `${path} is a symbolic link: Vigil never follows links in its archive (a link there could make it write outside the archive). ` +
      'Remove the link (keep it aside as evidence) and run `vigil verify` on the archive; exporters.worm.directory must hold only the files Vigil wrote',
  );
}
