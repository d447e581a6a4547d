/**
 * The fault suite's in-process half: the trainer's real pipeline (fit thread included) and the
 * real API, in the test's own process, for the matrices that need a fresh service per case
 * (every artifact file damaged every way, the disk filling at each write of a job): a fresh
 * process per case would cost a second each. Nothing is mocked but the disk's free space.
 * Kept apart from `harness.ts` so that the process-level files do not compile the services.
 */
// The packages by path: the root package depends on none of them (jest maps `@ct/*` to the
// same source files, so these are the very modules the services use).
import type { JobData, JobResult } from '../../packages/queue/src';
import { DirectoryStore, type ArtifactStore, type FileStamp } from '../../packages/registry/src';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DATASETS_DIR, silentLogger, SPECS } from '../../services/api/test/helpers/harness';
import { FitThreadClient } from '../../services/trainer/src/fit-thread-client';
import { TrainPipeline } from '../../services/trainer/src/train-pipeline';

export { DATASETS_DIR, irisSpec, silentLogger, startApi, type ApiHandle } from '../../services/api/test/helpers/harness';
export { Trainer } from '../../services/trainer/src/trainer';

/** A trainer pipeline on `dataDir` (optionally through `artifactStore`), its fit thread shared. */
export function pipelineOn(dataDir: string, fitThread: FitThreadClient, artifactStore?: ArtifactStore) {
  const published: { model: string; version: string }[] = [];
  const pipeline = new TrainPipeline({
    specs: SPECS,
    dataDir,
    ...(artifactStore ? { artifactStore } : {}),
    datasetsDir: DATASETS_DIR,
    fitThread,
    logger: silentLogger(),
    publish: async (model, version) => {
      published.push({ model, version });
    },
  });
  return {
    published,
    /** Runs one job, as a BullMQ attempt would (a retry is the same call with the same id). */
    run: (data: JobData, id: string): Promise<JobResult> => pipeline.process({ id, data, updateProgress: async () => undefined }),
  };
}

export { FitThreadClient };

/** An ENOSPC error as `fs` raises it. */
export function enospc(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC', errno: -28, syscall: 'write', path });
}

/** One write a {@link DiskFullStore} was asked for. */
export interface WriteRecord {
  key: string;
  bytes: number;
  ok: boolean;
}

/**
 * An {@link ArtifactStore} on a directory whose disk fills up: at the first write whose key
 * matches (`fillAt`), or once `fillAfterBytes` more bytes have been written, and from then on
 * every write throws ENOSPC until `free()`. A write is refused whole, before any byte reaches
 * the directory: what the real atomic writes do when the temp file cannot be written (they
 * remove it and rethrow). Reads still work, as on a full disk.
 */
export class DiskFullStore implements ArtifactStore {
  readonly inner: DirectoryStore;
  readonly writes: WriteRecord[] = [];
  private full = false;
  private fullAt: ((key: string) => boolean) | undefined;
  private bytesLeft = Infinity;

  constructor(root: string) {
    this.inner = new DirectoryStore(root);
  }

  /** The disk is full from the first write whose key matches `at` (a key prefix, a pattern, or a test). */
  fillAt(at: string | RegExp | ((key: string) => boolean)): void {
    this.fullAt = typeof at === 'string' ? (k) => k.startsWith(at) : at instanceof RegExp ? (k) => at.test(k) : at;
  }

  /** The disk is full now. */
  fill(): void {
    this.full = true;
  }

  /** The disk fills once `bytes` more bytes are written. */
  fillAfterBytes(bytes: number): void {
    this.bytesLeft = bytes;
  }

  /** Space again. */
  free(): void {
    this.full = false;
    this.fullAt = undefined;
    this.bytesLeft = Infinity;
  }

  private charge(key: string, contents: string): void {
    const bytes = Buffer.byteLength(contents);
    if (this.full || this.fullAt?.(key) || bytes > this.bytesLeft) {
      this.full = true;
      this.writes.push({ key, bytes, ok: false });
      throw enospc(this.inner.locate(key));
    }
    this.bytesLeft -= bytes;
    this.writes.push({ key, bytes, ok: true });
  }

  // Async: a refused write rejects, as the directory's would.
  async writeAtomic(key: string, contents: string): Promise<void> {
    this.charge(key, contents);
    return this.inner.writeAtomic(key, contents);
  }

  async createExclusive(key: string, contents: string): Promise<boolean> {
    this.charge(key, contents);
    return this.inner.createExclusive(key, contents);
  }

  read(key: string): Promise<string | undefined> {
    return this.inner.read(key);
  }

  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }

  stamp(key: string): Promise<FileStamp | undefined> {
    return this.inner.stamp(key);
  }

  remove(prefix: string): Promise<void> {
    return this.inner.remove(prefix);
  }

  locate(key: string): string {
    return this.inner.locate(key);
  }
}

/** Every file under `dir` (relative, sorted) with its size and mtime: equal snapshots mean nothing was written. */
export function snapshot(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) visit(p);
      else {
        const s = statSync(p);
        out.push(`${relative(dir, p)} ${s.size} ${s.mtimeMs}`);
      }
    }
  };
  visit(dir);
  return out.sort();
}

/** Files under `dir` that are not whole JSON (a torn write), and temp files left behind. */
export function tornFiles(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) visit(p);
      else if (e.name.endsWith('.tmp')) out.push(`${relative(dir, p)} (temp file left behind)`);
      else if (e.name.endsWith('.json')) {
        try {
          JSON.parse(readFileSync(p, 'utf8'));
        } catch {
          out.push(`${relative(dir, p)} (not whole JSON)`);
        }
      }
    }
  };
  visit(dir);
  return out;
}
