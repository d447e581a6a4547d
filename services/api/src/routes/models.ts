import { DEFAULT_MODEL, type ModelSpec } from '@ct/core';
import { ArtifactError, type HistoryEntry } from '@ct/registry';
import type { Request, Response } from 'express';
import type { AppDeps, ModelContext } from '../app-deps';
import { storeOf } from '../model-history';
import { activationTimeline, endpointsOf, versionMetrics } from '../registry-views';

/**
 * What the catalogue says about one model: the served version (from memory), its evaluation
 * metrics (from the history entry that fitted it), its features and its endpoints. A history
 * that cannot be read leaves the metrics out and says why, like `/model/info`.
 */
async function describeModel(deps: AppDeps, spec: ModelSpec) {
  const loaded = deps.cache.get(spec.name);
  const status = deps.cache.status(spec.name);
  const version = loaded?.artifact.version ?? null;
  let entries: HistoryEntry[] | null = null;
  let historyError: string | null = null;
  try {
    entries = (await storeOf(deps, spec).readHistory()).entries;
  } catch (err) {
    if (!(err instanceof ArtifactError)) throw err;
    historyError = `${err.kind}: ${err.reason}`;
  }
  const period = version && entries ? activationTimeline(entries).findLast((p) => p.version === version) : undefined;
  return {
    loaded,
    summary: {
      name: spec.name,
      description: spec.description,
      algorithm: loaded?.artifact.body.algorithm ?? spec.algorithm,
      active_version: version,
      state: status.state,
      activated_at: period?.from ?? null,
      metrics: version && entries ? versionMetrics(entries, version) : null,
      n_training_samples: loaded?.artifact.body.training.n_samples ?? null,
      classes: spec.target.classes,
      features: spec.features,
      endpoints: endpointsOf(spec.name),
      ...(historyError ? { history_error: historyError } : {}),
    },
  };
}

/** `GET /models`: every model the stack serves, with its active version and how good it is. */
export function modelListHandler(deps: AppDeps) {
  return async (_req: Request, res: Response): Promise<void> => {
    const models = await Promise.all(deps.specs.map(async (spec) => (await describeModel(deps, spec)).summary));
    res.json({ default_model: DEFAULT_MODEL, models });
  };
}

/** `GET /models/:model`: the model's spec, its active version and its metrics, guardrails and default policy. */
export function modelDetailHandler(deps: AppDeps, resolve: (req: Request) => ModelContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const { spec } = resolve(req);
    const { loaded, summary } = await describeModel(deps, spec);
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
