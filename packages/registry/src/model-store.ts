import { setHash, type LabeledSet } from '@ct/core';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { artifactSchema, FORMAT_VERSION, verifyArtifact, type Artifact } from './artifact';
import { ArtifactError } from './artifact-error';
import { writeJsonAtomic } from './atomic-write';
import { readJsonFile } from './read-json';
import {
  historySchema,
  taggedSetSchema,
  versionDataSchema,
  type History,
  type HistoryEntry,
  type VersionData,
} from './records';

/** Identity of the active file on disk: a change in any field means a new file was renamed in. */
export interface FileStamp {
  ino: number;
  mtimeMs: number;
  size: number;
}

/** The active model's training state: what the next incremental job starts from. */
export interface TrainingState {
  accumulated: LabeledSet;
  evalSet: LabeledSet;
}

/**
 * One model's artifacts under `<root>/models/<model>/`. Writes are atomic; reads are
 * validated. The history is the commit log: an attempt counts once its entry is written,
 * and {@link ModelStore.applyActive} brings the other files in line with it, so a writer
 * killed at any point leaves a state that the next run repairs rather than a torn one.
 * Only one writer per model may run at a time (the trainer serializes jobs per model).
 */
export class ModelStore {
  /** `<root>/models/<model>`. */
  readonly dir: string;

  constructor(
    root: string,
    readonly model: string,
  ) {
    this.dir = join(root, 'models', model);
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

  /** The training rows, evaluation rows and batch of `version`. */
  readVersionData(version: string): Promise<VersionData> {
    return readJsonFile(join(this.versionDir(version), 'data.json'), versionDataSchema);
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

  /** Every attempt so far (an empty history when the model has none). */
  async readHistory(): Promise<History> {
    try {
      return await readJsonFile(join(this.dir, 'training_history.json'), historySchema);
    } catch (err) {
      if (err instanceof ArtifactError && err.kind === 'missing') {
        return { format_version: FORMAT_VERSION, model: this.model, entries: [] };
      }
      throw err;
    }
  }

  /** The version that should be live according to the history, or undefined before bootstrap. */
  async committedActive(): Promise<string | undefined> {
    return (await this.readHistory()).entries.at(-1)?.active_after;
  }

  /**
   * The accumulated data and evaluation set of `version`: the top-level copies when they are
   * tagged with it, else the version's own record (after a crash between commit and copy).
   */
  async readTrainingState(version: string): Promise<TrainingState> {
    try {
      const [acc, ev] = await Promise.all([
        readJsonFile(join(this.dir, 'accumulated_data.json'), taggedSetSchema),
        readJsonFile(join(this.dir, 'eval_set.json'), taggedSetSchema),
      ]);
      if (acc.version === version && ev.version === version) return { accumulated: acc.data, evalSet: ev.data };
    } catch (err) {
      if (!(err instanceof ArtifactError)) throw err;
    }
    const data = await this.readVersionData(version);
    return { accumulated: data.training_set, evalSet: data.eval_set };
  }

  /**
   * Writes a candidate's artifact and data under `versions/<v>/`. Safe to repeat: a re-run
   * of the same job produces the same version id and overwrites the same files.
   */
  async writeCandidate(artifact: Artifact, data: VersionData): Promise<void> {
    const dir = this.versionDir(artifact.version);
    await writeJsonAtomic(join(dir, 'data.json'), data);
    await writeJsonAtomic(join(dir, 'model.json'), artifact);
  }

  /**
   * Appends an attempt to the history: the commit point of a job. `current` is the history
   * as the caller last read it (it saves a read: a model's jobs are serialized, and the
   * caller has checked it is still current); without it the history is read here.
   * Returns the new history.
   */
  async commit(entry: HistoryEntry, current?: History): Promise<History> {
    const base = current ?? (await this.readHistory());
    const next: History = { ...base, entries: [...base.entries, entry] };
    await writeJsonAtomic(join(this.dir, 'training_history.json'), next);
    return next;
  }

  /**
   * Makes `model_active.json`, `accumulated_data.json` and `eval_set.json` match the last
   * committed entry (`committed`: its `active_after`, when the caller already knows it).
   * Idempotent; returns the active version, or undefined before bootstrap. The active file is
   * written last so the API never serves a version whose training state is not in place.
   */
  async applyActive(committed?: string): Promise<string | undefined> {
    const version = committed ?? (await this.committedActive());
    if (version === undefined) return undefined;
    const data = await this.readVersionData(version);
    const tagged = (set: LabeledSet) => ({
      format_version: FORMAT_VERSION,
      model: this.model,
      version,
      hash: setHash(set),
      data: set,
    });
    await writeJsonAtomic(join(this.dir, 'accumulated_data.json'), tagged(data.training_set));
    await writeJsonAtomic(join(this.dir, 'eval_set.json'), tagged(data.eval_set));
    const current = await this.readActive().catch(() => undefined);
    if (current?.version !== version) await writeJsonAtomic(this.activePath, await this.readVersion(version));
    return version;
  }
}
