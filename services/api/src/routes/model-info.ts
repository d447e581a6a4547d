import { ArtifactError, type HistoryEntry } from '@ct/registry';
import type { Request, Response } from 'express';
import type { AppDeps, ModelContext } from '../app-deps';
import { ApiError } from '../errors/api-error';
import { modelPath, sinceLastReset } from '../registry-views';

/** One line of `/model/info`'s history: the lab's fields first, then the gate's. */
function summarize(e: HistoryEntry) {
  const r = e.result as { reason?: string; violations?: unknown[]; policy?: unknown };
  return {
    version: e.version,
    trained_at: e.created_at,
    seq: e.seq,
    accuracy: e.accuracy_new,
    n_training_samples: e.n_training_samples,
    source: e.source,
    activated: e.status === 'activated',
    status: e.status,
    accuracy_previous: e.accuracy_previous,
    active_after: e.active_after,
    job_id: e.job_id,
    policy: r.policy ?? null,
    reason: r.reason ?? null,
    violations: r.violations ?? [],
    eval_set_size: e.eval_set.size,
    eval_set: e.eval_set,
    n_batch_samples: e.n_batch_samples,
  };
}

/**
 * `GET /model/info`: the served version and every attempt so far (`history`, oldest first),
 * the attempts since the last reset (`history_since_reset`: what the lab showed after a
 * reset, which erased its history), and where the paged log is (`full_history`).
 */
export function modelInfoHandler(deps: AppDeps, resolve: (req: Request) => ModelContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const { spec } = resolve(req);
    const loaded = deps.cache.get(spec.name);
    if (!loaded) throw new ApiError('model_not_ready', `model ${spec.name} has no loaded version yet`, [], { 'Retry-After': '2' });
    const { artifact } = loaded;
    // A history the API cannot read does not stop it from describing the served model.
    let entries: HistoryEntry[] | null = null;
    let historyError: string | null = null;
    let evaluation: { trusted_rows: number; growing_rows: number } | null = null;
    try {
      const store = deps.cache.store(spec.name);
      if (!store) throw new ApiError('not_found', `unknown model ${spec.name}`);
      entries = (await store.readHistory()).entries;
      const head = entries.at(-1);
      if (head) {
        const rows = await store.evalRows(head.state);
        evaluation = { trusted_rows: rows.trusted.y.length, growing_rows: rows.growing.y.length };
      }
    } catch (err) {
      if (!(err instanceof ArtifactError)) throw err;
      historyError = `${err.kind}: ${err.reason}`;
    }
    const lastReset = entries?.findLast((e) => e.source === 'reset');
    const activation = entries?.findLast((e) => e.version === artifact.version && e.status === 'activated');
    res.json({
      model: spec.name,
      active_version: artifact.version,
      trained_at: artifact.created_at,
      accuracy: activation?.accuracy_new ?? null,
      n_training_samples: artifact.body.training.n_samples,
      algorithm: artifact.body.algorithm,
      hyperparameters: artifact.body.hyperparameters,
      fit: artifact.body.training.fit,
      classes: artifact.body.classes,
      features: spec.features,
      eval_set_size: activation?.eval_set.size ?? null,
      guardrails: spec.guardrails,
      default_policy: spec.policy,
      // What judges the next candidate: the trusted rows (where the guardrails apply) and the growing ones.
      next_evaluation: evaluation,
      history: entries?.map(summarize) ?? null,
      history_since_reset: entries ? sinceLastReset(entries).map(summarize) : null,
      last_reset: lastReset ? { seq: lastReset.seq, at: lastReset.created_at, job_id: lastReset.job_id } : null,
      full_history: `${modelPath(spec.name)}/history`,
      ...(historyError ? { history_error: historyError } : {}),
    });
  };
}
