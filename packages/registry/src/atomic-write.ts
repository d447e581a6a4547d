import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `contents` to `path` so that readers see either the old file or the whole new one:
 * a temp file in the same directory, fsync, rename over the target, fsync the directory
 * (so the rename itself survives a power cut).
 */
export async function writeFileAtomic(path: string, contents: string | Uint8Array): Promise<void> {
  const tmp = await writeTempSynced(path, contents);
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dirname(path));
}

/**
 * Writes `contents` to a new temp file next to `path` (same directory, so a rename or link
 * to `path` stays on one file system) and fsyncs it. Returns the temp file's path; the
 * caller renames or links it into place, and removes it.
 */
export async function writeTempSynced(path: string, contents: string | Uint8Array): Promise<string> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(contents);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return tmp;
}

/** Writes `value` as pretty JSON, atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, prettyJsonText(value));
}

/** The text {@link writeJsonAtomic} writes, for writers that go through an ArtifactStore: one format on disk. */
export const prettyJsonText = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** fsyncs a directory, so that a rename or link in it survives a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (err) {
    // Some file systems refuse fsync on a directory (EINVAL); the rename is still atomic there.
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
  } finally {
    await fh.close();
  }
}
