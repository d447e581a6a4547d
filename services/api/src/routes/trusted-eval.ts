import { predictLabels } from '@ct/core';
import { ArtifactError } from '@ct/registry';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { AppDeps, ModelContext } from '../app-deps';
import { ApiError } from '../errors/api-error';
import type { trustedEvalInfoSchema } from '../registry-schemas';

/** The body of `GET /model/trusted-eval`, as documented. */
type TrustedEvalInfo = z.infer<typeof trustedEvalInfoSchema>;

/**
 * `GET /model/trusted-eval`: the trusted evaluation rows that judge the next candidate (how
 * many, per class, their hash, the change that set them) and how the served version scores
 * on them. The rows themselves are not returned: they are the model's yardstick, not data
 * for clients.
 */
export function trustedEvalInfoHandler(deps: AppDeps, resolve: (req: Request) => ModelContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const { spec } = resolve(req);
    const store = deps.cache.store(spec.name);
    if (!store) throw new ApiError('not_found', `unknown model ${spec.name}`);
    let entries;
    try {
      entries = (await store.readHistory()).entries;
    } catch (err) {
      if (err instanceof ArtifactError) throw new ApiError('model_not_ready', `the model's history cannot be read (${err.kind}); see /health`, [], { 'Retry-After': '5' });
      throw err;
    }
    const head = entries.at(-1);
    if (!head) throw new ApiError('model_not_ready', `model ${spec.name} has no version yet`, [], { 'Retry-After': '2' });
    let rows;
    try {
      rows = await store.segments.get(head.state.trusted);
    } catch (err) {
      // A damaged segment is the volume's state, not a bug: a problem naming it, like the history's.
      if (err instanceof ArtifactError) throw new ApiError('model_not_ready', `the trusted evaluation rows cannot be read (${err.kind}: ${err.reason})`, [], { 'Retry-After': '5' });
      throw err;
    }
    const setBy = entries.findLast((e): e is typeof e & { source: 'trusted_eval' | 'bootstrap' } => e.source === 'trusted_eval' || e.source === 'bootstrap');
    const loaded = deps.cache.get(spec.name);
    let served: TrustedEvalInfo['served'] = null;
    if (loaded) {
      const pred = predictLabels(loaded.classifier, rows.x);
      const correct = rows.y.reduce((acc, y, i) => acc + (pred[i] === y ? 1 : 0), 0);
      served = { version: loaded.artifact.version, correct, accuracy: rows.y.length > 0 ? correct / rows.y.length : 0 };
    }
    const answer: TrustedEvalInfo = {
      model: spec.name,
      rows: rows.y.length,
      per_class: Object.fromEntries(spec.target.classes.map((c, k) => [c, rows.y.filter((y) => y === k).length])),
      hash: head.state.trusted,
      set_by: setBy ? { source: setBy.source, job_id: setBy.job_id, at: setBy.created_at } : null,
      guardrails: spec.guardrails,
      served,
    };
    res.json(answer);
  };
}
