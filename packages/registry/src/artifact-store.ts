import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ArtifactError } from './artifact-error';
import { writeFileAtomic } from './atomic-write';
import { createFileExclusive } from './exclusive-create';

/**
 * A change marker of one stored object: a change in any field means new contents were put
 * in place. Compared whole (as JSON) by pollers, never interpreted field by field.
 */
export interface FileStamp {
  ino: number;
  mtimeMs: number;
  size: number;
}

/**
 * Where the registry keeps its artifacts, reduced to what it needs, so that an object-store
 * backend can replace the directory without the registry changing. Keys are slash-separated
 * paths relative to the store's root (`models/iris/history/000000001.json`); the empty key
 * is the root itself.
 *
 * Every record the registry writes is either replaced whole ({@link ArtifactStore.writeAtomic})
 * or created once ({@link ArtifactStore.createExclusive}), and watching is done by polling
 * {@link ArtifactStore.stamp}: the three primitives an object store offers too (put,
 * put-if-absent, head), which is why there is no append, rename or change notification here.
 */
export interface ArtifactStore {
  /** The contents of `key`; undefined when absent; any other failure is an ArtifactError `unreadable` naming {@link ArtifactStore.locate}. */
  read(key: string): Promise<string | undefined>;
  /** Replaces `key`'s contents: a concurrent reader sees the old or the whole new contents, never a part. */
  writeAtomic(key: string, contents: string): Promise<void>;
  /**
   * Creates `key` with `contents` only if it does not exist: of several writers (processes or
   * hosts) exactly one gets true, the others false, and the contents stay the winner's. The
   * commit primitive of the history.
   */
  createExclusive(key: string, contents: string): Promise<boolean>;
  /**
   * The names directly under the folder `prefix` (not recursive), a sub-folder's name ending
   * in `/` (an object store's common prefix); [] when the folder is absent.
   */
  list(prefix: string): Promise<string[]>;
  /** A change marker of `key` (see {@link FileStamp}), or undefined when absent: polled to watch it. */
  stamp(key: string): Promise<FileStamp | undefined>;
  /** Removes `prefix` and everything under it; nothing to remove is not an error. */
  remove(prefix: string): Promise<void>;
  /** Where `key` lives, for messages and error paths (a file path, a URL). */
  locate(key: string): string;
}

/** Joins key segments with `/`, skipping empty ones (so a store rooted at `''` composes). */
export const storeKey = (...parts: string[]): string => parts.filter((p) => p !== '').join('/');

/**
 * The contents of `key`, an ArtifactError `missing` when absent. The reason is `ENOENT`, as it
 * was when the registry read files directly, so that messages stay identical.
 */
export async function readExisting(store: ArtifactStore, key: string): Promise<string> {
  const text = await store.read(key);
  if (text === undefined) throw new ArtifactError('missing', store.locate(key), 'ENOENT');
  return text;
}

const errCode = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? String(err);

/**
 * The default {@link ArtifactStore}: files under a root folder (the data volume, shared by
 * replicas and hosts). Writes are temp file + fsync + rename ({@link writeFileAtomic}) and
 * temp file + hard link ({@link createFileExclusive}), both safe on NFS.
 */
export class DirectoryStore implements ArtifactStore {
  constructor(readonly root: string) {}

  /**
   * The file path of `key`, joined onto the root as given (not made absolute), so that paths
   * in errors are the ones the registry reported before the store existed.
   */
  locate(key: string): string {
    return key === '' ? this.root : join(this.root, ...key.split('/'));
  }

  async read(key: string): Promise<string | undefined> {
    const path = this.locate(key);
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ArtifactError('unreadable', path, errCode(err));
    }
  }

  writeAtomic(key: string, contents: string): Promise<void> {
    return writeFileAtomic(this.locate(key), contents);
  }

  createExclusive(key: string, contents: string): Promise<boolean> {
    return createFileExclusive(this.locate(key), contents);
  }

  async list(prefix: string): Promise<string[]> {
    const path = this.locate(prefix);
    try {
      return (await readdir(path, { withFileTypes: true })).map((e) => (e.isDirectory() ? `${e.name}/` : e.name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new ArtifactError('unreadable', path, errCode(err));
    }
  }

  async stamp(key: string): Promise<FileStamp | undefined> {
    const path = this.locate(key);
    try {
      // The inode tells a renamed-in file from the old one even when size and mtime match.
      const s = await stat(path);
      return { ino: s.ino, mtimeMs: s.mtimeMs, size: s.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ArtifactError('unreadable', path, errCode(err));
    }
  }

  remove(prefix: string): Promise<void> {
    return rm(this.locate(prefix), { recursive: true, force: true });
  }
}
