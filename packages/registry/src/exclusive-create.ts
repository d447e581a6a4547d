import { link, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir, writeTempSynced } from './atomic-write';

/**
 * Creates `path` with `contents` only if it does not exist yet, atomically: the contents are
 * written and fsynced under a temp name, then hard-linked to `path`. `link` fails with
 * EEXIST when the name is taken, on a local disk and on NFS alike, so of several writers of
 * one name (processes or hosts sharing the volume) exactly one succeeds, and a reader sees
 * either no file or the whole file. Returns false when the name was taken.
 */
export async function createFileExclusive(path: string, contents: string | Uint8Array): Promise<boolean> {
  const tmp = await writeTempSynced(path, contents);
  try {
    await link(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
  await fsyncDir(dirname(path));
  return true;
}
