import { DEFAULT_MODEL, type ModelSpec } from '@ct/core';
import { ArtifactError, listModelDirs, readArchive, readRegistration, whyModelNameTaken, type ArchiveRecord, type RegisteredModel } from '@ct/registry';
import { relative } from 'node:path';
import type { Logger } from 'pino';
import { modelContext } from './model-context';
import type { ModelContext } from './app-deps';
import { ApiError } from './errors/api-error';
import type { JobQueues } from './job-queues';
import type { ModelCache } from './model-cache';

/** One model the API knows: built-in or registered, served or archived. */
export interface CatalogModel {
  spec: ModelSpec;
  /** `catalog`: a file of the repository's catalogue; `registered`: registered at run time. */
  origin: 'catalog' | 'registered';
  /** How it was registered (registered models only). */
  registration: RegisteredModel | undefined;
  /** Set once the model is archived: it is no longer served. */
  archive: ArchiveRecord | undefined;
}

/**
 * The models this API replica serves, as the volume says: the built-in catalogue, plus the
 * models registered at run time (`models/<name>/spec.json`), minus the archived ones
 * (`models/<name>/archived.json`). It learns of a change from the trainer's announcement
 * ({@link ModelCatalog.refresh}, within a moment) or from its scan of `models/*`, at start
 * and every poll interval (a lost message only delays). A model served is added to the
 * request contexts, the job queues and the model cache; one archived leaves the contexts and
 * the cache (its history and versions stay on the volume).
 */
export class ModelCatalog {
  /**
   * The request context of every served model. The app, the predict lane and the comparison
   * route hold this very map, so a model added or retired is seen by the next request.
   */
  readonly contexts = new Map<string, ModelContext>();
  private readonly models = new Map<string, CatalogModel>();
  /** Counts changes of what is served: the OpenAPI document is rebuilt when it moves. */
  private changes = 0;
  /** Looks at the volume run one after another: two never apply one change twice. */
  private chain: Promise<void> = Promise.resolve();
  /** Problems already logged, so a damaged file is reported once, not every poll. */
  private readonly reported = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: {
      dataDir: string;
      /** The built-in specs, in catalogue order. */
      builtIn: readonly ModelSpec[];
      pollIntervalMs: number;
      cache: ModelCache;
      queues: JobQueues;
      logger: Logger;
    },
  ) {
    for (const spec of opts.builtIn) this.models.set(spec.name, { spec, origin: 'catalog', registration: undefined, archive: undefined });
  }

  /** Reads the volume once (archived built-ins, registered models) and starts the fallback poll. */
  async start(): Promise<void> {
    await this.serialized(async () => {
      // Built-ins first, in catalogue order: only those archived are left out.
      for (const spec of this.opts.builtIn) await this.look(spec.name);
      for (const model of await listModelDirs(this.opts.dataDir)) await this.look(model);
    });
    this.timer = setInterval(() => void this.scan(), this.opts.pollIntervalMs);
    this.timer.unref();
  }

  /** Stops the poll. Idempotent. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Changes so far of what is served (a new value: rebuild what depends on the list). */
  get version(): number {
    return this.changes;
  }

  /** The served models' specs: built-in ones in catalogue order, then registered ones by registration time. */
  specs(): ModelSpec[] {
    return this.list().map((m) => m.spec);
  }

  /** The models, in the order of {@link ModelCatalog.specs}; archived ones too when asked. */
  list(opts: { includeArchived?: boolean } = {}): CatalogModel[] {
    const all = [...this.models.values()].filter((m) => opts.includeArchived === true || !m.archive);
    const builtIn = all.filter((m) => m.origin === 'catalog');
    const registered = all
      .filter((m) => m.origin === 'registered')
      .sort((a, b) => (a.registration?.registered_at ?? '').localeCompare(b.registration?.registered_at ?? '') || a.spec.name.localeCompare(b.spec.name));
    return [...builtIn, ...registered];
  }

  /** What this replica knows of model `name` (served or archived), or undefined. */
  entry(name: string): CatalogModel | undefined {
    return this.models.get(name);
  }

  /** The served model `name`'s context, or undefined. */
  context(name: string): ModelContext | undefined {
    return this.contexts.get(name);
  }

  /** The served model `name`'s context; a 404 that says why otherwise (unknown, or archived and when). */
  resolve(name: string): ModelContext {
    const ctx = this.contexts.get(name);
    if (!ctx) throw this.notFound(name);
    return ctx;
  }

  /** The 404 for a model that is not served: archived (with when, by which request, why) or unknown. */
  notFound(name: string): ApiError {
    const a = this.models.get(name)?.archive;
    if (!a) return new ApiError('not_found', `unknown model ${name}`);
    return new ApiError('not_found', `model ${name} is archived (since ${a.archived_at}${a.request_id ? `, request ${a.request_id}` : ''}${a.reason ? `: ${a.reason}` : ''}); its history and versions are kept but it is no longer served`);
  }

  /**
   * Why `name` cannot be registered, or undefined when it is free: a model this replica knows
   * (built-in, registered, archived), or one the volume holds that it has not picked up yet.
   */
  async whyTaken(name: string): Promise<string | undefined> {
    const known = this.models.get(name);
    if (known) {
      const what = known.origin === 'catalog' ? 'built-in, in the catalogue' : `registered ${known.registration?.registered_at ?? ''}`;
      return `model ${name} already exists (${what}${known.archive ? `, archived ${known.archive.archived_at}` : ''})`;
    }
    return whyModelNameTaken(this.opts.dataDir, this.opts.builtIn.map((s) => s.name), name);
  }

  /** Looks at `model`'s files now (the trainer announced a registration or an archive). */
  refresh(model: string): Promise<void> {
    return this.serialized(() => this.look(model));
  }

  /** Looks at every folder of `models/` (the fallback of the announcements). */
  scan(): Promise<void> {
    return this.serialized(async () => {
      for (const model of await listModelDirs(this.opts.dataDir)) await this.look(model);
    });
  }

  private serialized(fn: () => Promise<void>): Promise<void> {
    const run = this.chain.then(fn).catch((err: unknown) => this.opts.logger.warn({ err: String(err) }, 'catalogue scan failed'));
    this.chain = run;
    return run;
  }

  /** Brings `model` in line with its files: registered, it is served; archived, it is retired. */
  private async look(model: string): Promise<void> {
    const { dataDir } = this.opts;
    let m = this.models.get(model);
    // An archive is never undone: nothing more to read.
    if (m?.archive) return;
    try {
      if (!m) {
        const registration = await readRegistration(dataDir, model);
        if (!registration) return;
        m = { spec: registration.spec, origin: 'registered', registration, archive: undefined };
        this.models.set(model, m);
      }
      m.archive = await readArchive(dataDir, model);
    } catch (err) {
      const message = err instanceof ArtifactError ? `${err.kind} in ${relative(dataDir, err.path)}: ${err.reason}` : String(err);
      this.reportOnce(model, `cannot read the model's registration or archive marker (${message}); the model is left as it was`);
      return;
    }
    if (m.archive && model === DEFAULT_MODEL) {
      // The lab's paths serve the default model: the trainer never archives it, and a marker
      // put there by hand is not obeyed either.
      m.archive = undefined;
      this.reportOnce(model, `models/${model}/archived.json ignored: the default model cannot be archived`);
    }
    if (m.archive) this.retire(model);
    else this.serve(m);
  }

  private reportOnce(model: string, problem: string): void {
    if (this.reported.has(problem)) return;
    this.reported.add(problem);
    this.opts.logger.error({ model, problem }, 'model catalogue problem');
  }

  private serve(m: CatalogModel): void {
    const { name } = m.spec;
    if (this.contexts.has(name)) return;
    this.contexts.set(name, modelContext(m.spec));
    this.opts.queues.addModel(name);
    void this.opts.cache.add(m.spec);
    this.changes++;
    if (m.origin === 'registered') this.opts.logger.info({ model: name, registered_at: m.registration?.registered_at }, 'registered model served');
  }

  private retire(name: string): void {
    if (!this.contexts.delete(name)) return;
    this.opts.cache.remove(name);
    this.changes++;
    this.opts.logger.info({ model: name }, 'model archived: no longer served');
  }
}
