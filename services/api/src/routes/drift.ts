import { VERSION_PATTERN } from '@ct/core';
import { driftReport, finiteOrNull } from '@ct/queue';
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { AppDeps, ModelContext } from '../app-deps';
import { ApiError } from '../errors/api-error';
import { parseOrThrow } from '../validate';

/** Query of `GET /models/:model/drift`. */
export const driftQuerySchema = z.strictObject({
  version: z.string().regex(VERSION_PATTERN).optional().meta({ description: 'a version that served (default: the active one)' }),
});

/**
 * `GET /models/:model/drift[?version=]`: the version's latest inputs against its training
 * rows, per feature and for the model (@ct/queue's drift-report.ts, which the trainer's
 * `drift.alert` shares).
 */
export function driftHandler(deps: AppDeps, resolve: (req: Request) => ModelContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const { spec } = resolve(req);
    const query = parseOrThrow(driftQuerySchema, req.query, 'query');
    const version = query.version ?? deps.cache.get(spec.name)?.artifact.version;
    if (!version) throw new ApiError('model_not_ready', `model ${spec.name} has no loaded version yet`, [], { 'Retry-After': '2' });
    const store = deps.cache.store(spec.name);
    if (!store) throw new ApiError('not_found', `no model ${spec.name}`);
    const redis = deps.queues.requireRedis();
    let reference;
    try {
      reference = await store.trainingRows(version);
    } catch {
      throw new ApiError('not_found', `model ${spec.name} has no version ${version}`);
    }
    const report = await driftReport(redis, deps.redisPrefix, spec, version, reference);
    res.json({
      ...report,
      features: report.features.map((f) => ({ ...f, statistic: finiteOrNull(f.statistic), pValue: finiteOrNull(f.pValue) })),
      ...(report.current.rows === 0 ? { note: 'no inputs served by this version yet' } : {}),
    });
  };
}
