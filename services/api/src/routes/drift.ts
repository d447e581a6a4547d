import { driftOfFeature, driftOfModel, VERSION_PATTERN, type FeatureDrift, type RawValue } from '@ct/core';
import { feedbackKeys, RECENT_INPUTS } from '@ct/queue';
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { AppDeps, ModelContext } from '../app-deps';
import { ApiError } from '../errors/api-error';
import { parseOrThrow } from '../validate';

const driftQuery = z.strictObject({
  version: z.string().regex(VERSION_PATTERN).optional().meta({ description: 'a version that served (default: the active one)' }),
});

/** JSON has no Infinity (a category never seen in training gives an infinite chi-square): such a statistic is null, and `drifted` says the rest. */
const finiteOrNull = (v: number | null): number | null => (v !== null && Number.isFinite(v) ? v : null);

/**
 * `GET /models/:model/drift`: the version's latest inputs (up to 1,000, newest first, kept
 * by the prediction index) against its training rows, feature by feature with Evidently's
 * rules (core feature-drift.ts: KS or chi-square up to 1,000 reference rows, Jensen-Shannon
 * above), and for the whole model (drifted when half the features are).
 */
export function driftHandler(deps: AppDeps, resolve: (req: Request) => ModelContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const { spec } = resolve(req);
    const query = parseOrThrow(driftQuery, req.query, 'query');
    const version = query.version ?? deps.cache.get(spec.name)?.artifact.version;
    if (!version) throw new ApiError('model_not_ready', `model ${spec.name} has no loaded version yet`, [], { 'Retry-After': '2' });
    const store = deps.cache.store(spec.name);
    if (!store) throw new ApiError('not_found', `no model ${spec.name}`);
    if (!deps.queues.redisReady) throw new ApiError('queue_unavailable', 'Redis is not reachable; retry later', [], { 'Retry-After': '5' });
    let reference;
    try {
      reference = await store.trainingRows(version);
    } catch {
      throw new ApiError('not_found', `model ${spec.name} has no version ${version}`);
    }
    const recent = await deps.queues.redis.lrange(feedbackKeys(deps.redisPrefix).inputs(spec.name, version), 0, RECENT_INPUTS - 1);
    const current = recent.map((r) => JSON.parse(r) as RawValue[]);
    const base = {
      model: spec.name,
      version,
      reference: { rows: reference.x.length, source: "the version's training rows" },
      current: { rows: current.length, source: `the latest ${RECENT_INPUTS} inputs the version served, at most` },
    };
    if (current.length === 0) {
      res.json({ ...base, features: [], drift: null, note: 'no inputs served by this version yet' });
      return;
    }
    const features: FeatureDrift[] = [];
    const skipped: { feature: string; reason: string }[] = [];
    spec.features.forEach((f, j) => {
      const kind = f.type === 'categorical' ? 'categorical' : 'numeric';
      try {
        features.push(driftOfFeature(f.name, kind, reference.x.map((row) => row[j] ?? null), current.map((row) => row[j] ?? null)));
      } catch (err) {
        // A feature missing from every row on one side cannot be compared.
        skipped.push({ feature: f.name, reason: (err as Error).message });
      }
    });
    res.json({
      ...base,
      features: features.map((f) => ({ ...f, statistic: finiteOrNull(f.statistic), pValue: finiteOrNull(f.pValue) })),
      skipped,
      drift: features.length > 0 ? driftOfModel(features) : null,
    });
  };
}
