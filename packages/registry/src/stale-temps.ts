import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The temp files of an atomic write (`writeTempSynced`: `.<name>.<pid>.<12 hex>.tmp`) and of a
 * secret's staging (`<name>.<pid>.<12 hex>.tmp`).
 */
const TEMP_NAME = /\.\d+\.[0-9a-f]{12}\.tmp$/;

/** How old a temp file must be to be taken for a dead writer's: a live write takes seconds at most. */
export const STALE_TEMP_AGE_MS = 60 * 60 * 1000;

/**
 * Removes, anywhere under `dir`, the temp files whose writer died between writing and renaming
 * them into place (SIGKILL, a power cut, a full disk at the wrong instant): nothing reads them,
 * and a training job's can hold all its rows. Only files older than `olderThanMs` go, so a
 * write under way in another process keeps its file. Symbolic links are not followed; a file
 * or folder that vanishes meanwhile is skipped. Returns the paths removed.
 */
export async function removeStaleTemps(dir: string, olderThanMs: number = STALE_TEMP_AGE_MS, now: number = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  const visit = async (folder: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw err;
    }
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await visit(path);
      else if (entry.isFile() && TEMP_NAME.test(entry.name)) {
        try {
          if (now - (await lstat(path)).mtimeMs < olderThanMs) continue;
          await rm(path, { force: true });
          removed.push(path);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
    }
  };
  await visit(dir);
  return removed;
}
