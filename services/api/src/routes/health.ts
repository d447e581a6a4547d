import { DEFAULT_MODEL } from '@ct/core';
import type { Request, Response } from 'express';
import type { AppDeps } from '../app-deps';

/**
 * `GET /health`: 200 while the default model is served (`ok`, or `degraded` when Redis is
 * unreachable or a reload failed and the last good version is served), 503 until it is loaded.
 * `GET /models/:model/health` answers the same about `model` (`modelOf` names it).
 */
export function healthHandler(deps: AppDeps, modelOf: (req: Request) => string = () => DEFAULT_MODEL) {
  return async (req: Request, res: Response): Promise<void> => {
    const model = modelOf(req);
    const models = Object.fromEntries(deps.catalog.specs().map((s) => [s.name, deps.cache.status(s.name)]));
    const redis = await deps.queues.ping();
    const states = Object.values(models).map((m) => m.state);
    const ready = models[model]?.state !== 'loading';
    const status = !ready ? 'starting' : !redis || states.includes('degraded') ? 'degraded' : 'ok';
    res.status(ready ? 200 : 503).json({
      status,
      model_version: models[model]?.active_version ?? null,
      models,
      redis: { reachable: redis },
      uptime_s: Math.round(process.uptime()),
    });
  };
}
