// Reading the free space of the directories the server writes to, and proving a directory takes a
// write again: a tiny file written, fsynced and removed.

import { randomBytes } from 'node:crypto';
import { open, statfs, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface DirSpace {
  dir: string;
  /** Bytes an unprivileged process may still write (statfs `bavail` × block size). */
  freeBytes: number;
}

/** The directory with the least free space of `dirs` (statfs each). */
export async function leastFreeSpace(dirs: readonly string[]): Promise<DirSpace> {
  let least: DirSpace | undefined;
  for (const dir of dirs) {
    const stats = await statfs(dir);
    const freeBytes = stats.bavail * stats.bsize;
    if (least === undefined || freeBytes < least.freeBytes) least = { dir, freeBytes };
  }
  if (least === undefined) throw new Error('no directory to check');
  return least;
}

/** One block's worth: enough that the file system must allocate room for it. */
const PROBE_BYTES = 4096;

/** Writes, fsyncs and removes a small file in `dir`; rejects (ENOSPC …) when the disk refuses. */
export async function probeDirectory(dir: string): Promise<void> {
  const file = join(dir, `.storage-probe-${randomBytes(6).toString('hex')}`);
  const handle = await open(file, 'wx', 0o600);
  try {
    await handle.write(randomBytes(PROBE_BYTES));
    await handle.sync();
  } finally {
    await handle.close();
    await unlink(file);
  }
}
