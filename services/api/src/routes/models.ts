import { DEFAULT_MODEL } from '@ct/core';
import { ArtifactError, ModelStore, type HistoryEntry } from '@ct/registry';
import type { Request, Response } from 'express';
import type { AppDeps, ModelContext } from '../app-deps';
import type { CatalogModel } from '../model-catalog';
import { modelListQuerySchema } from '../registry-schemas';
import { activationTimeline, endpointsOf, versionMetrics } from '../registry-views';
import { parseOrThrow } from '../validate';

/**
 * What the catalogue says about one model: the served version (from memory), its evaluation
 * metrics (from the history entry that fitted it), its features and its endpoints. A history
 * that cannot be read leaves the metrics out and says why, like `/model/info`. An archived
 * model is described from its files: the version that was live when it was archived.
 */
async function describeModel(deps: AppDeps, m: CatalogModel) {
  const { spec } = m;
  const loaded = m.archive ? undefined : deps.cache.get(spec.name);
  const status = deps.cache.status(spec.name);
  let entries: HistoryEntry[] | null = null;
  let historyError: string | null = null;
  try {
    // An archived model has left the cache: read its history from the volume (rarely asked).
    const store = deps.cache.store(spec.name) ?? new ModelStore(deps.dataDir, spec.name);
    entries = (await store.readHistory()).entries;
  } catch (err) {
    if (!(err instanceof ArtifactError)) throw err;
    historyError = `${err.kind}: ${err.reason}`;
  }
  const version = m.archive ? (entries?.at(-1)?.state.active ?? null) : (loaded?.artifact.version ?? null);
  const period = version && entries ? activationTimeline(entries).findLast((p) => p.version === version) : undefined;
  return {
    loaded,
    summary: {
      name: spec.name,
      description: spec.description,
      algorithm: loaded?.artifact.body.algorithm ?? entries?.findLast((e) => e.version === version)?.algorithm ?? spec.algorithm,
      active_version: version,
      state: m.archive ? ('archived' as const) : status.state,
      activated_at: period?.from ?? null,
      metrics: version && entries ? versionMetrics(entries, version) : null,
      n_training_samples: loaded?.artifact.body.training.n_samples ?? (m.archive ? (entries?.findLast((e) => e.version === version)?.n_training_samples ?? null) : null),
      classes: spec.target.classes,
      features: spec.features,
      endpoints: endpointsOf(spec.name),
      origin: m.origin,
      registered_at: m.registration?.registered_at ?? null,
      archived: m.archive !== undefined,
      ...(m.archive ? { archive: m.archive } : {}),
      ...(historyError ? { history_error: historyError } : {}),
    },
  };
}

/**
 * `GET /models`: every model the stack serves, with its active version and how good it is;
 * with `?include_archived=true`, the archived ones too (`archived: true`).
 */
export function modelListHandler(deps: AppDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const query = parseOrThrow(modelListQuerySchema, req.query, 'query');
    const listed = deps.catalog.list({ includeArchived: query.include_archived });
    const models = await Promise.all(listed.map(async (m) => (await describeModel(deps, m)).summary));
    res.json({ default_model: DEFAULT_MODEL, models });
  };
}

/** `GET /models/:model`: the model's spec, its active version and its metrics, guardrails and default policy. */
export function modelDetailHandler(deps: AppDeps, resolve: (req: Request) => ModelContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const { spec } = resolve(req);
    const m = deps.catalog.entry(spec.name) as CatalogModel;
    const { loaded, summary } = await describeModel(deps, m);
    const artifact = loaded?.artifact;
    res.json({
      ...summary,
      spec,
      guardrails: spec.guardrails,
      default_policy: spec.policy,
      hyperparameters: artifact?.body.hyperparameters ?? null,
      fit: artifact?.body.training.fit ?? null,
      trained_at: artifact?.created_at ?? null,
      data_hash: artifact?.body.training.data_hash ?? null,
    });
  };
}
