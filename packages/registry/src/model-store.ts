import { type LabeledSet } from '@ct/core';
import { artifactSchema, verifyArtifact, type Artifact } from './artifact';
import { ArtifactError } from './artifact-error';
import { DirectoryStore, readExisting, storeKey, type ArtifactStore, type FileStamp } from './artifact-store';
import { prettyJsonText } from './atomic-write';
import { HistoryLog } from './history-log';
import { parseJsonFile } from './read-json';
import { versionDataSchema, type History, type HistoryEntry, type ModelState, type VersionData } from './records';
import { parseSealed, sealedText } from './sealed';
import { SegmentLists, type SegmentListRef } from './segment-list';
import { SegmentStore } from './segment-store';

/** The rows that judge the next candidate: the trusted set and the growing set, apart. */
export interface EvalRows {
  trusted: LabeledSet;
  growing: LabeledSet;
}

const VERSION_DIR = /^v(\d+)\.0-[0-9a-f]{6}$/;

/** The command that rebuilds a lost history, named in the errors that need it. */
export const REBUILD_COMMAND = 'npm run cli -- rebuild-history';

/**
 * One model's artifacts under `models/<model>/` of an {@link ArtifactStore} (by default a
 * {@link DirectoryStore} on the data directory):
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
  /** Where the model's folder lives, for messages (`<root>/models/<model>` on a directory). */
  readonly dir: string;
  readonly history: HistoryLog;
  readonly segments: SegmentStore;
  /** Lists of segment hashes (training rows, growing rows), stored as chains of small nodes. */
  readonly lists: SegmentLists;
  /** What the model's artifacts are read from and written to. */
  readonly store: ArtifactStore;
  /** `models/<model>`: the model's folder in {@link ModelStore.store}. */
  private readonly prefix: string;

  /**
   * `root` is the data directory (a {@link DirectoryStore} on it, as every service uses) or
   * any other {@link ArtifactStore}.
   */
  constructor(
    root: string | ArtifactStore,
    readonly model: string,
  ) {
    this.store = typeof root === 'string' ? new DirectoryStore(root) : root;
    this.prefix = storeKey('models', model);
    this.dir = this.store.locate(this.prefix);
    this.history = new HistoryLog(this.store, storeKey(this.prefix, 'history'));
    this.segments = new SegmentStore(this.store, storeKey(this.prefix, 'segments'));
    this.lists = new SegmentLists(this.store, storeKey(this.prefix, 'lists'));
  }

  private get activeKey(): string {
    return storeKey(this.prefix, 'model_active.json');
  }

  /** Where the active artifact lives (what the API serves): its path on a directory. */
  get activePath(): string {
    return this.store.locate(this.activeKey);
  }

  private versionKey(version: string, file?: 'model.json' | 'data.json'): string {
    return storeKey(this.prefix, 'versions', version, file ?? '');
  }

  /** The active artifact, validated and checksum-verified; undefined when there is none yet. */
  async readActive(): Promise<Artifact | undefined> {
    try {
      return await this.readArtifact(this.activeKey);
    } catch (err) {
      if (err instanceof ArtifactError && err.kind === 'missing') return undefined;
      throw err;
    }
  }

  /** The stored artifact of `version`. */
  readVersion(version: string): Promise<Artifact> {
    return this.readArtifact(this.versionKey(version, 'model.json'));
  }

  /** What `version` was fitted on and judged by, and its history entry. */
  async readVersionData(version: string): Promise<VersionData> {
    const key = this.versionKey(version, 'data.json');
    return parseSealed(this.store.locate(key), await readExisting(this.store, key), 'version_data', versionDataSchema);
  }

  private async readArtifact(key: string): Promise<Artifact> {
    const path = this.store.locate(key);
    const a = parseJsonFile(path, await readExisting(this.store, key), artifactSchema);
    const problem = verifyArtifact(a);
    if (problem) throw new ArtifactError('checksum_mismatch', path, problem);
    if (a.body.model !== this.model) throw new ArtifactError('invalid_schema', path, `artifact of model ${a.body.model}`);
    return a;
  }

  /** The active file's change marker (inode, mtime and size on a directory), or undefined when it does not exist. */
  statActive(): Promise<FileStamp | undefined> {
    return this.store.stamp(this.activeKey);
  }

  /**
   * Candidate versions in the store, by name (committed or not): the folders named like a
   * version that hold a file of one. A folder with neither `data.json` nor `model.json` (at
   * most a temp file) is a candidate whose writer died before its first file landed: it is
   * no version, and a bootstrap killed there must not read as versions without a history.
   */
  async listVersions(): Promise<string[]> {
    const names = await this.store.list(storeKey(this.prefix, 'versions'));
    // Folder or not, as before: a name is a version when it looks like one.
    const named = names.map((n) => (n.endsWith('/') ? n.slice(0, -1) : n)).filter((n) => VERSION_DIR.test(n));
    const written = await Promise.all(named.map(async (v) => (await this.store.stamp(this.versionKey(v, 'data.json'))) !== undefined || (await this.store.stamp(this.versionKey(v, 'model.json'))) !== undefined));
    return named.filter((_, i) => written[i]);
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
    const legacyKey = storeKey(this.prefix, 'training_history.json');
    const legacy = this.store.locate(legacyKey);
    if (await this.store.stamp(legacyKey).then((s) => s !== undefined, () => false)) {
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
    return this.segments.concat(await this.lists.items((await this.readVersionData(version)).training));
  }

  /** How many rows the segments of `list` hold (without joining them). */
  async rowCount(list: SegmentListRef): Promise<number> {
    const sets = await Promise.all((await this.lists.items(list)).map((h) => this.segments.get(h)));
    return sets.reduce((n, s) => n + s.y.length, 0);
  }

  /** The rows that judge the next candidate under `state`. */
  async evalRows(state: ModelState): Promise<EvalRows> {
    const [trusted, growing] = await Promise.all([this.segments.get(state.trusted), this.lists.items(state.growing).then((h) => this.segments.concat(h))]);
    return { trusted, growing };
  }

  /**
   * Writes a candidate's artifact and data under `versions/<v>/`. Safe to repeat: a re-run
   * of the same job at the same head produces the same version id and the same files.
   */
  async writeCandidate(artifact: Artifact, data: VersionData): Promise<void> {
    // Data first: a model.json is never there without the data that says what it was fitted on.
    await this.store.writeAtomic(this.versionKey(artifact.version, 'data.json'), sealedText('version_data', versionDataSchema.parse(data)));
    await this.store.writeAtomic(this.versionKey(artifact.version, 'model.json'), prettyJsonText(artifact));
  }

  /** Removes a candidate that lost its commit race, so that no folder outlives its entry. */
  async removeCandidate(version: string): Promise<void> {
    await this.store.remove(this.versionKey(version));
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
    if (current?.version !== version) await this.store.writeAtomic(this.activeKey, prettyJsonText(await this.readVersion(version)));
    return version;
  }
}
