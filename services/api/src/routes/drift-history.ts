import { DRIFT_HISTORY_POINTS, DRIFT_HISTORY_TTL_S, DriftHistory, driftPointSchema } from '@ct/queue';
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { AppDeps, ModelContext } from '../app-deps';
import { parseOrThrow } from '../validate';

/** Query of `GET /models/:model/drift/history`. */
export const driftHistoryQuerySchema = z.strictObject({
  since: z.iso.datetime({ offset: true }).optional().meta({ description: 'only the points from this time on (ISO 8601; default: all that are kept)' }),
});

/** `GET /models/:model/drift/history`: the single source of its answer's type. */
export const driftHistorySchema = z
  .object({
    model: z.string(),
    retention: z.object({ points: z.int(), seconds: z.int() }).meta({ description: 'the most points kept, and how long the history outlives its latest point' }),
    points: z.array(driftPointSchema).meta({ description: 'oldest first, at most one a minute' }),
  })
  .meta({ id: 'drift_history' });

/**
 * `GET /models/:model/drift/history[?since=]`: the model's drift over time, as the trainers
 * recorded it (one point a minute while the active version serves, whether or not anyone
 * subscribes to `drift.alert`; @ct/queue's drift-history.ts).
 */
export function driftHistoryHandler(deps: AppDeps, resolve: (req: Request) => ModelContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const { spec } = resolve(req);
    const query = parseOrThrow(driftHistoryQuerySchema, req.query, 'query');
    const redis = deps.queues.requireRedis();
    const points = await new DriftHistory(redis, deps.redisPrefix).read(spec.name, query.since === undefined ? undefined : Date.parse(query.since));
    const body: z.infer<typeof driftHistorySchema> = { model: spec.name, retention: { points: DRIFT_HISTORY_POINTS, seconds: DRIFT_HISTORY_TTL_S }, points };
    res.json(body);
  };
}
