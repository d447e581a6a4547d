import type { Request, Response } from 'express';
import { z } from 'zod';
import type { AppDeps, ModelContext } from '../app-deps';
import { ApiError } from '../errors/api-error';
import { callerOf } from '../pipeline/express-steps';
import { actorOf } from '../security/caller';
import { liveQuality } from '../feedback/live-quality';
import { parseOrThrow, requireJson } from '../validate';

/** Most labels one request may carry. */
export const MAX_FEEDBACK_ITEMS = 1000;

const item = z.strictObject({
  prediction_id: z.string().min(1).max(64).meta({ description: 'the id a prediction answered with (one per row)' }),
  label: z.union([z.string().min(1).max(200), z.number().int().min(0)]).meta({ description: 'the true class, by name or by index' }),
});

/** Body of `POST /models/:model/feedback`: one label, or a batch of them. */
export const feedbackRequestSchema = z.union([item, z.strictObject({ items: z.array(item).min(1).max(MAX_FEEDBACK_ITEMS) })]).meta({ id: 'feedback_request' });

/**
 * `POST /models/:model/feedback` (client, trainer or admin): the true class of served
 * predictions. One label answers with its own status (201 recorded, 200 replaced an earlier
 * label, 404 unknown, 410 expired, 422 a class the model does not have); a batch answers 200
 * with each item's outcome.
 */
export function feedbackHandler(deps: AppDeps, resolve: (req: Request) => ModelContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const { spec } = resolve(req);
    requireJson(req.get('content-type'));
    const body = parseOrThrow(feedbackRequestSchema, req.body);
    const items = 'items' in body ? body.items : [body];
    const outcomes = await deps.feedback.submit(spec, items, actorOf(callerOf(req)));
    if ('items' in body) {
      const count = (s: string) => outcomes.filter((o) => o.status === s).length;
      res.json({ model: spec.name, recorded: count('recorded'), replaced: count('replaced'), failed: outcomes.length - count('recorded') - count('replaced'), results: outcomes });
      return;
    }
    const [one] = outcomes;
    if (!one) throw new Error('no outcome for one feedback item');
    if (one.status === 'not_found') throw new ApiError('not_found', one.detail);
    if (one.status === 'expired') throw new ApiError('gone', one.detail);
    if (one.status === 'invalid') throw new ApiError('validation_failed', one.detail, [{ field: 'label', pointer: '/label', code: 'unknown_class', message: one.detail }]);
    res.status(one.http_status).json(one);
  };
}

/** Query of `GET /models/:model/quality`. */
export const qualityQuerySchema = z.strictObject({
  window_s: z.coerce.number().int().min(60).max(30 * 86_400).optional().meta({ description: 'the sliding window in seconds (default: CT_QUALITY_WINDOW_S)' }),
});

/** `GET /models/:model/quality`: live accuracy and per-class recall on feedback, with intervals, coverage and class mix, per version. */
export function qualityHandler(deps: AppDeps, resolve: (req: Request) => ModelContext, defaultWindowS: number) {
  return async (req: Request, res: Response): Promise<void> => {
    const { spec } = resolve(req);
    const query = parseOrThrow(qualityQuerySchema, req.query, 'query');
    const redis = deps.queues.requireRedis();
    const active = deps.cache.get(spec.name)?.artifact.version;
    res.json(await liveQuality(redis, deps.redisPrefix, spec, { windowS: query.window_s ?? defaultWindowS, activeVersion: active }));
  };
}
