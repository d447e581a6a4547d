import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A new empty directory under the OS temp dir. */
export const makeTempDir = (tag = 'ct-test-'): Promise<string> => mkdtemp(join(tmpdir(), tag));

/** Removes `dir` and everything in it; a no-op for undefined (a suite that failed early). */
export const removeDir = (dir: string | undefined): Promise<void> => (dir ? rm(dir, { recursive: true, force: true }) : Promise.resolve());
