import type { ModelSpec, VersionModel } from '@ct/core';
import { ArtifactError, loadClassifier, ModelStore, type Artifact, type FileStamp } from '@ct/registry';
import { relative } from 'node:path';
import type { Logger } from 'pino';
import { ApiError } from './errors/api-error';

/** A model version loaded and ready to serve. */
export interface LoadedModel {
  readonly spec: ModelSpec;
  readonly artifact: Artifact;
  /** The version's preprocessing and classifier. */
  readonly classifier: VersionModel;
  readonly stamp: FileStamp | undefined;
  readonly loadedAt: Date;
}

/** What `/health` says about one model's reloads. */
export interface ReloadStatus {
  /**
   * `loading`: nothing served yet; `ready`: the committed version is served; `degraded`: a
   * file is damaged or failed to load, and the best good version is served (`last_error` says why).
   */
  state: 'loading' | 'ready' | 'degraded';
  active_version: string | null;
  loaded_at: string | null;
  last_error: string | null;
  last_error_at: string | null;
}

interface Slot {
  spec: ModelSpec;
  store: ModelStore;
  current: LoadedModel | undefined;
  /** What is wrong with the model's files, or with the last load: `/health` shows it. */
  problem: { message: string; at: Date } | undefined;
  /** The committed version, the active file's stamp and the problem seen at the last look: unchanged means nothing to do. */
  seen: string | undefined;
  inFlight: Promise<void> | undefined;
  again: boolean;
  /** Non-served versions loaded for `?version=`, least recently used first. */
  kept: Map<string, LoadedModel>;
}

/** How many non-served versions of a model stay loaded for comparisons. */
const KEPT_VERSIONS = 8;

/**
 * The API's in-memory models. The history says which version is live; `model_active.json`
 * is its copy, read first because it is one file. A reload reads and validates the new
 * version completely before swapping one reference, so requests see either the old version
 * or the new one, and a bad file never replaces a good model. When the active file is
 * damaged the committed version is served from `versions/`; when the history is damaged the
 * active file is served; either way `/health` says `degraded` and why. Reloads of a model
 * are single-flight; a trigger during a reload schedules one more. Models come and go at run
 * time (registered, archived): see {@link ModelCache.add} and {@link ModelCache.remove}.
 */
export class ModelCache {
  private readonly slots = new Map<string, Slot>();
  private timer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(
    private readonly opts: { dataDir: string; specs: readonly ModelSpec[]; pollIntervalMs: number; logger: Logger },
  ) {
    for (const spec of opts.specs) void this.add(spec);
  }

  /**
   * Serves `spec` from now on (a no-op when it is served): before {@link ModelCache.start}, a
   * slot that start loads; after it, loaded at once. Resolves when that load is done.
   */
  add(spec: ModelSpec): Promise<void> {
    if (this.slots.has(spec.name)) return Promise.resolve();
    this.slots.set(spec.name, { spec, store: new ModelStore(this.opts.dataDir, spec.name), current: undefined, problem: undefined, seen: undefined, inFlight: undefined, again: false, kept: new Map() });
    return this.started ? this.reload(spec.name) : Promise.resolve();
  }

  /** Stops serving `model` (archived): its versions are dropped from memory; a reload in flight lands nowhere. */
  remove(model: string): void {
    this.slots.delete(model);
  }

  /** Loads every model once and starts the fallback poll. */
  async start(): Promise<void> {
    this.started = true;
    await Promise.all([...this.slots.keys()].map((m) => this.reload(m)));
    this.timer = setInterval(() => void this.poll(), this.opts.pollIntervalMs);
    this.timer.unref();
  }

  /** The served version of `model`, or undefined before its first successful load. */
  get(model: string): LoadedModel | undefined {
    return this.slots.get(model)?.current;
  }

  /** The read side of `model`'s artifacts (one instance per model: it caches history entries). */
  store(model: string): ModelStore | undefined {
    return this.slots.get(model)?.store;
  }

  /** Reload state of `model` for `/health`. */
  status(model: string): ReloadStatus {
    const slot = this.slots.get(model);
    const cur = slot?.current;
    const err = slot?.problem;
    return {
      state: !cur ? 'loading' : err ? 'degraded' : 'ready',
      active_version: cur?.artifact.version ?? null,
      loaded_at: cur?.loadedAt.toISOString() ?? null,
      last_error: err?.message ?? null,
      last_error_at: err?.at.toISOString() ?? null,
    };
  }

  /**
   * Reloads `model` if its history or active file changed since the last look (or
   * unconditionally when `force`). Resolves when the reload, and any one it triggered, is done.
   */
  reload(model: string, force = false): Promise<void> {
    const slot = this.slots.get(model);
    if (!slot) return Promise.resolve();
    if (slot.inFlight) {
      slot.again = true;
      return slot.inFlight;
    }
    const run = async (): Promise<void> => {
      do {
        slot.again = false;
        await this.load(model, slot, force);
      } while (slot.again);
    };
    slot.inFlight = run().finally(() => {
      slot.inFlight = undefined;
    });
    return slot.inFlight;
  }

  /** `/health` shows this: files named relative to the data directory, never the server's absolute paths. */
  private describe(err: unknown): string {
    if (err instanceof ArtifactError) return `${err.kind} in ${relative(this.opts.dataDir, err.path)}: ${err.reason}`;
    return err instanceof Error ? err.message : String(err);
  }

  private async load(model: string, slot: Slot, force: boolean): Promise<void> {
    const { spec, store } = slot;
    const problems: string[] = [];
    let committed: string | undefined;
    try {
      committed = await store.committedActive();
    } catch (err) {
      problems.push(this.describe(err));
    }
    let stamp: FileStamp | undefined;
    try {
      stamp = await store.statActive();
    } catch (err) {
      problems.push(this.describe(err));
    }
    const seen = JSON.stringify([committed, stamp, problems]);
    if (!force && seen === slot.seen) return;
    slot.seen = seen;
    try {
      let artifact: Artifact | undefined;
      if (stamp) {
        try {
          artifact = await store.readActive();
        } catch (err) {
          if (!committed) throw err;
          problems.push(`${this.describe(err)}; serving the committed version ${committed} from versions/`);
        }
      }
      // The history wins: the active file may lag a commit by a moment, or be damaged. One
      // that names a version the history never recorded is not lag: say so.
      if (committed && artifact && artifact.version !== committed) {
        const known = (await store.history.sync()).some((e) => e.version === artifact?.version);
        if (!known) problems.push(`model_active.json holds ${artifact.version}, which the history does not know; serving the committed version ${committed} from versions/`);
      }
      if (committed && artifact?.version !== committed) artifact = await store.readVersion(committed);
      if (!artifact) {
        this.setProblem(slot, problems);
        return; // nothing committed yet: stay in `loading`
      }
      if (artifact.version === slot.current?.artifact.version) {
        slot.current = { ...slot.current, stamp };
      } else {
        const classifier = loadClassifier(artifact);
        const featureNames = spec.features.map((f) => f.name).join(',');
        if (artifact.body.features.join(',') !== featureNames) throw new Error('artifact features differ from the model spec');
        const previous = slot.current?.artifact.version;
        slot.current = { spec, artifact, classifier, stamp, loadedAt: new Date() };
        this.opts.logger.info({ model, version: artifact.version, previous }, 'model loaded');
      }
    } catch (err) {
      problems.push(this.describe(err));
      this.opts.logger.error({ model, err: this.describe(err) }, 'model reload failed; serving the last good version');
    }
    this.setProblem(slot, problems);
  }

  private setProblem(slot: Slot, problems: string[]): void {
    if (problems.length === 0) {
      slot.problem = undefined;
      return;
    }
    const message = problems.join('; ');
    if (slot.problem?.message !== message) {
      slot.problem = { message, at: new Date() };
      this.opts.logger.warn({ model: slot.store.model, problem: message }, 'model degraded');
    }
  }

  /**
   * A kept version of `model` other than the served one, for comparisons (`?version=`):
   * loaded and validated like the served one, and kept in a small per-model cache (versions
   * never change). Throws `not_found` for a version the model's history does not know.
   */
  async loadVersion(model: string, version: string): Promise<LoadedModel> {
    const slot = this.slots.get(model);
    if (!slot) throw new ApiError('not_found', `unknown model ${model}`);
    if (slot.current?.artifact.version === version) return slot.current;
    const hit = slot.kept.get(version);
    if (hit) {
      // Most recently used last: Map keeps insertion order.
      slot.kept.delete(version);
      slot.kept.set(version, hit);
      return hit;
    }
    const entries = await slot.store.history.sync();
    if (!entries.some((e) => e.version === version && (e.source === 'bootstrap' || e.source === 'train'))) {
      throw new ApiError('not_found', `model ${model} has no version ${version}`);
    }
    const artifact = await slot.store.readVersion(version);
    const loaded: LoadedModel = { spec: slot.spec, artifact, classifier: loadClassifier(artifact), stamp: undefined, loadedAt: new Date() };
    slot.kept.set(version, loaded);
    if (slot.kept.size > KEPT_VERSIONS) slot.kept.delete(slot.kept.keys().next().value as string);
    return loaded;
  }

  private async poll(): Promise<void> {
    await Promise.all([...this.slots.keys()].map((m) => this.reload(m)));
  }

  /** Stops polling. Idempotent. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
