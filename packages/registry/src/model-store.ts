import { type LabeledSet } from '@ct/core';
import { access, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { artifactSchema, verifyArtifact, type Artifact } from './artifact';
import { ArtifactError } from './artifact-error';
import { writeFileAtomic, writeJsonAtomic } from './atomic-write';
import { HistoryLog } from './history-log';
import { readJsonFile } from './read-json';
import { versionDataSchema, type History, type HistoryEntry, type ModelState, type VersionData } from './records';
import { readSealed, sealedText } from './sealed';
import { SegmentStore } from './segment-store';

/** Identity of the active file on disk: a change in any field means a new file was renamed in. */
export interface FileStamp {
  ino: number;
  mtimeMs: number;
  size: number;
}

/** The rows that judge the next candidate: the trusted set and the growing set, apart. */
export interface EvalRows {
  trusted: LabeledSet;
  growing: LabeledSet;
}

const VERSION_DIR = /^v(\d+)\.0-[0-9a-f]{6}$/;

/** The command that rebuilds a lost history, named in the errors that need it. */
export const REBUILD_COMMAND = 'npm run cli -- rebuild-history';

/**
 * One model's artifacts under `<root>/models/<model>/`:
 *
 * - `history/<seq>.json`: the append-only log of attempts ({@link HistoryLog}); its newest
 *   entry says what is live and what judges the next candidate. Appending an entry is the
 *   commit point of a job, atomic across processes and hosts.
 * - `versions/<v>/model.json` and `data.json`: every candidate, activated or not, with the
 *   segments it was fitted on and judged by, and the entry that records it.
 * - `segments/<hash>.json`: labeled rows, stored once ({@link SegmentStore}).
 * - `model_active.json`: a copy of the active artifact for readers; the history wins when
 *   they disagree, and {@link ModelStore.applyActive} brings it in line.
 *
 * Writes are atomic and proportional to the job's batch; reads are validated and checked
 * against their checksums. Keep one instance per model and process: it caches what never
 * changes (entries, segments).
 */
export class ModelStore {
  /** `<root>/models/<model>`. */
  readonly dir: string;
  readonly history: HistoryLog;
  readonly segments: SegmentStore;

  constructor(
    root: string,
    readonly model: string,
  ) {
    this.dir = join(root, 'models', model);
    this.history = new HistoryLog(join(this.dir, 'history'));
    this.segments = new SegmentStore(join(this.dir, 'segments'));
  }

  /** Path of the active artifact (what the API serves). */
  get activePath(): string {
    return join(this.dir, 'model_active.json');
  }

  private versionDir(version: string): string {
    return join(this.dir, 'versions', version);
  }

  /** The active artifact, validated and checksum-verified; undefined when there is none yet. */
  async readActive(): Promise<Artifact | undefined> {
    try {
      return await this.readArtifact(this.activePath);
    } catch (err) {
      if (err instanceof ArtifactError && err.kind === 'missing') return undefined;
      throw err;
    }
  }

  /** The stored artifact of `version`. */
  readVersion(version: string): Promise<Artifact> {
    return this.readArtifact(join(this.versionDir(version), 'model.json'));
  }

  /** What `version` was fitted on and judged by, and its history entry. */
  readVersionData(version: string): Promise<VersionData> {
    return readSealed(join(this.versionDir(version), 'data.json'), 'version_data', versionDataSchema);
  }

  private async readArtifact(path: string): Promise<Artifact> {
    const a = await readJsonFile(path, artifactSchema);
    const problem = verifyArtifact(a);
    if (problem) throw new ArtifactError('checksum_mismatch', path, problem);
    if (a.body.model !== this.model) throw new ArtifactError('invalid_schema', path, `artifact of model ${a.body.model}`);
    return a;
  }

  /** inode, mtime and size of the active file, or undefined when it does not exist. */
  async statActive(): Promise<FileStamp | undefined> {
    try {
      const s = await stat(this.activePath);
      return { ino: s.ino, mtimeMs: s.mtimeMs, size: s.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Candidate versions on disk, by name (committed or not). */
  async listVersions(): Promise<string[]> {
    try {
      return (await readdir(join(this.dir, 'versions'))).filter((n) => VERSION_DIR.test(n));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /**
   * The newest history entry, or undefined before the bootstrap. An empty history is only
   * trusted when nothing else is there: versions without a history, or a history in the
   * previous release's format, are reported (an ArtifactError), never taken for a new model,
   * so the past is never silently bootstrapped over.
   */
  async head(): Promise<HistoryEntry | undefined> {
    const head = await this.history.head();
    if (head) return head;
    const legacy = join(this.dir, 'training_history.json');
    if (await access(legacy).then(() => true, () => false)) {
      throw new ArtifactError('unsupported_format', legacy, 'a history written by an earlier release (format 1); this release keeps the history as history/<seq>.json. Move the model\'s folder aside to start it afresh');
    }
    const versions = await this.listVersions();
    if (versions.length > 0) {
      throw new ArtifactError(
        'history_missing',
        this.history.dir,
        `the history is missing or empty but versions/ holds ${versions.length} version(s); nothing is bootstrapped over them. Rebuild the history with: ${REBUILD_COMMAND} --model ${this.model}`,
      );
    }
    return undefined;
  }

  /** Every attempt so far, oldest first (see {@link ModelStore.head} for what an empty one means). */
  async readHistory(): Promise<History> {
    await this.head();
    return { model: this.model, entries: [...(await this.history.sync())] };
  }

  /** The version that should be live according to the history, or undefined before bootstrap. */
  async committedActive(): Promise<string | undefined> {
    return (await this.head())?.state.active;
  }

  /** The training rows of `version`. */
  async trainingRows(version: string): Promise<LabeledSet> {
    return this.segments.concat((await this.readVersionData(version)).training);
  }

  /** The rows that judge the next candidate under `state`. */
  async evalRows(state: ModelState): Promise<EvalRows> {
    const [trusted, growing] = await Promise.all([this.segments.get(state.trusted), this.segments.concat(state.growing)]);
    return { trusted, growing };
  }

  /**
   * Writes a candidate's artifact and data under `versions/<v>/`. Safe to repeat: a re-run
   * of the same job at the same head produces the same version id and the same files.
   */
  async writeCandidate(artifact: Artifact, data: VersionData): Promise<void> {
    const dir = this.versionDir(artifact.version);
    await writeFileAtomic(join(dir, 'data.json'), sealedText('version_data', versionDataSchema.parse(data)));
    await writeJsonAtomic(join(dir, 'model.json'), artifact);
  }

  /** Removes a candidate that lost its commit race, so that no folder outlives its entry. */
  async removeCandidate(version: string): Promise<void> {
    await rm(this.versionDir(version), { recursive: true, force: true });
  }

  /**
   * Appends an entry to the history: the commit point of a job. Throws CommitConflictError
   * when another writer committed entry `entry.seq` first.
   */
  commit(entry: HistoryEntry): Promise<void> {
    return this.history.append(entry);
  }

  /**
   * Makes `model_active.json` match the committed active version (`committed`, when the caller
   * already knows it). Idempotent; returns the active version, or undefined before bootstrap.
   * A damaged active file is replaced: it is a copy, the version's own file is the original.
   */
  async applyActive(committed?: string): Promise<string | undefined> {
    const version = committed ?? (await this.committedActive());
    if (version === undefined) return undefined;
    const current = await this.readActive().catch(() => undefined);
    if (current?.version !== version) await writeJsonAtomic(this.activePath, await this.readVersion(version));
    return version;
  }
}
