import type { Request, Response } from 'express';
import { z } from 'zod';
import type { AppDeps, ModelContext } from '../app-deps';
import { ApiError } from '../errors/api-error';
import { defaultStepS, MAX_SERIES_POINTS, qualitySeries } from '../feedback/quality-series';
import { parseOrThrow } from '../validate';

/** Longest window of the series: a week (the tallies live CT_FEEDBACK_RETENTION_S, a day by default). */
const MAX_WINDOW_S = 7 * 86_400;

/** Query of `GET /models/:model/quality/series`. */
export const qualitySeriesQuerySchema = z.strictObject({
  window_s: z.coerce.number().int().min(60).max(MAX_WINDOW_S).optional().meta({ description: 'how far back in seconds (default: CT_QUALITY_WINDOW_S)' }),
  step_s: z.coerce
    .number()
    .int()
    .min(60)
    .max(86_400)
    .multipleOf(60)
    .optional()
    .meta({ description: `the width of a bucket in seconds, whole minutes (default: the window in 60 buckets, at least a minute); at most ${MAX_SERIES_POINTS} buckets` }),
});

/**
 * `GET /models/:model/quality/series`: live accuracy per version over time, in buckets, each
 * with its labels, accuracy and Wilson interval, and the predictions made in it; the page's
 * chart reads it, so a page opened later still shows the past.
 */
export function qualitySeriesHandler(deps: AppDeps, resolve: (req: Request) => ModelContext, defaultWindowS: number) {
  return async (req: Request, res: Response): Promise<void> => {
    const { spec } = resolve(req);
    const query = parseOrThrow(qualitySeriesQuerySchema, req.query, 'query');
    const windowS = query.window_s ?? Math.min(defaultWindowS, MAX_WINDOW_S);
    const stepS = query.step_s ?? defaultStepS(windowS);
    // +1: the window rarely starts on a bucket's edge, so its first bucket is a partial one.
    if (Math.ceil(windowS / stepS) + 1 > MAX_SERIES_POINTS) {
      const message = `window_s / step_s gives more than ${MAX_SERIES_POINTS} buckets: take a wider step`;
      throw new ApiError('validation_failed', message, [{ field: 'step_s', pointer: '/step_s', code: 'too_many_points', message }]);
    }
    const redis = deps.queues.requireRedis();
    const active = deps.cache.get(spec.name)?.artifact.version;
    res.json(await qualitySeries(redis, deps.redisPrefix, spec, { windowS, stepS, activeVersion: active }));
  };
}
