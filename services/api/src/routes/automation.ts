import { automationConfigSchema, feedbackKeys } from '@ct/queue';
import type { Request, Response } from 'express';
import type { AppDeps, ModelContext } from '../app-deps';
import { callerOf } from '../pipeline/express-steps';
import { parseOrThrow, requireJson } from '../validate';

const OFF = automationConfigSchema.parse({});


/** `GET /models/:model/automation`: the model's automatic actions (all null: none). */
export function automationInfoHandler(deps: AppDeps, resolve: (req: Request) => ModelContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const { spec } = resolve(req);
    const raw = await deps.queues.requireRedis().get(feedbackKeys(deps.redisPrefix).automation(spec.name));
    res.json({ model: spec.name, ...(raw === null ? OFF : automationConfigSchema.parse(JSON.parse(raw))) });
  };
}

/**
 * `PUT /models/:model/automation` (admin): replaces the model's automatic actions; the
 * trainers evaluate them within seconds. Each rule is off when null or absent.
 */
export function automationUpdateHandler(deps: AppDeps, resolve: (req: Request) => ModelContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const { spec } = resolve(req);
    requireJson(req.get('content-type'));
    const config = parseOrThrow(automationConfigSchema, req.body);
    await deps.queues.requireRedis().set(feedbackKeys(deps.redisPrefix).automation(spec.name), JSON.stringify(config));
    deps.logger.info({ model: spec.name, by: callerOf(req).name, config }, 'automation configured');
    res.json({ model: spec.name, ...config });
  };
}
