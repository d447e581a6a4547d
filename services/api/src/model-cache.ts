import type { ModelSpec, TrainedClassifier } from '@ct/core';
import { ArtifactError, loadClassifier, ModelStore, type Artifact, type FileStamp } from '@ct/registry';
import { relative } from 'node:path';
import type { Logger } from 'pino';

/** A model version loaded and ready to serve. */
export interface LoadedModel {
  readonly spec: ModelSpec;
  readonly artifact: Artifact;
  readonly classifier: TrainedClassifier;
  readonly stamp: FileStamp | undefined;
  readonly loadedAt: Date;
}

/** What `/health` says about one model's reloads. */
export interface ReloadStatus {
  /** `loading`: nothing served yet; `ready`: the latest file is served; `degraded`: the latest file failed, the last good one is served. */
  state: 'loading' | 'ready' | 'degraded';
  active_version: string | null;
  loaded_at: string | null;
  last_error: string | null;
  last_error_at: string | null;
}

interface Slot {
  current: LoadedModel | undefined;
  lastError: { message: string; at: Date; stamp: FileStamp | undefined } | undefined;
  inFlight: Promise<void> | undefined;
  again: boolean;
}

const sameStamp = (a: FileStamp | undefined, b: FileStamp | undefined): boolean =>
  a?.ino === b?.ino && a?.mtimeMs === b?.mtimeMs && a?.size === b?.size;

/**
 * The API's in-memory models. A reload reads and validates the new active file completely
 * before swapping one reference, so requests see either the old version or the new one and
 * a bad file never replaces a good model. Reloads of a model are single-flight; a trigger
 * during a reload schedules one more.
 */
export class ModelCache {
  private readonly slots = new Map<string, Slot>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: { dataDir: string; specs: readonly ModelSpec[]; pollIntervalMs: number; logger: Logger },
  ) {
    for (const spec of opts.specs) this.slots.set(spec.name, { current: undefined, lastError: undefined, inFlight: undefined, again: false });
  }

  /** Loads every model once and starts the fallback poll. */
  async start(): Promise<void> {
    await Promise.all(this.opts.specs.map((s) => this.reload(s.name)));
    this.timer = setInterval(() => void this.poll(), this.opts.pollIntervalMs);
    this.timer.unref();
  }

  /** The served version of `model`, or undefined before its first successful load. */
  get(model: string): LoadedModel | undefined {
    return this.slots.get(model)?.current;
  }

  /** Reload state of `model` for `/health`. */
  status(model: string): ReloadStatus {
    const slot = this.slots.get(model);
    const cur = slot?.current;
    const err = slot?.lastError;
    return {
      state: !cur ? 'loading' : err ? 'degraded' : 'ready',
      active_version: cur?.artifact.version ?? null,
      loaded_at: cur?.loadedAt.toISOString() ?? null,
      last_error: err?.message ?? null,
      last_error_at: err?.at.toISOString() ?? null,
    };
  }

  /**
   * Reloads `model` if its active file changed since the last attempt (or unconditionally
   * when `force`). Resolves when the reload, and any one it triggered, is done.
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

  private async load(model: string, slot: Slot, force: boolean): Promise<void> {
    const spec = this.opts.specs.find((s) => s.name === model) as ModelSpec;
    const store = new ModelStore(this.opts.dataDir, model);
    let stamp: FileStamp | undefined;
    try {
      stamp = await store.statActive();
      if (!stamp) return; // not bootstrapped yet: stay in `loading`
      const seen = slot.lastError?.stamp ?? slot.current?.stamp;
      if (!force && sameStamp(stamp, seen)) return;
      const artifact = await store.readActive();
      if (!artifact) return;
      if (artifact.version === slot.current?.artifact.version && !slot.lastError) {
        slot.current = { ...slot.current, stamp };
        return;
      }
      const classifier = loadClassifier(artifact);
      const featureNames = spec.features.map((f) => f.name).join(',');
      if (artifact.body.features.join(',') !== featureNames) throw new Error('artifact features differ from the model spec');
      const previous = slot.current?.artifact.version;
      slot.current = { spec, artifact, classifier, stamp, loadedAt: new Date() };
      slot.lastError = undefined;
      if (previous !== artifact.version) this.opts.logger.info({ model, version: artifact.version, previous }, 'model loaded');
    } catch (err) {
      // `/health` shows this message: name the file relative to the data directory, never
      // the server's absolute paths.
      const message =
        err instanceof ArtifactError
          ? `${err.kind} in ${relative(this.opts.dataDir, err.path)}: ${err.reason}`
          : err instanceof Error
            ? err.message
            : String(err);
      slot.lastError = { message, at: new Date(), stamp };
      this.opts.logger.error({ model, err: err instanceof Error ? err.message : String(err) }, 'model reload failed; serving the last good version');
    }
  }

  private async poll(): Promise<void> {
    await Promise.all(this.opts.specs.map((s) => this.reload(s.name)));
  }

  /** Stops polling. Idempotent. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
