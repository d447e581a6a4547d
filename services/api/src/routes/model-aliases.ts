import type { Request, Response } from 'express';
import type { AppDeps, ModelContext } from '../app-deps';
import { ApiError } from '../errors/api-error';
import { jobView } from '../job-view';
import { callerOf } from '../pipeline/express-steps';
import { mayReadJob } from '../security/authorize';
import { healthHandler } from './health';

/**
 * The app-wide paths under `/models/:model/...`, as the README and the OpenAPI document
 * promise that every path exists there too.
 */

/** `GET /models/:model/jobs/:id`: `/jobs/:id`, for a job of that model only (another model's job is a 404 here). */
export function modelJobHandler(deps: AppDeps, resolve: (req: Request) => ModelContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const { spec } = resolve(req);
    const id = String((req.params as { id?: string }).id);
    const found = await deps.queues.find(id);
    if (!found || found.job.data.model !== spec.name || !mayReadJob(callerOf(req), found.job.data.actor?.token_id)) throw new ApiError('not_found', `no job ${id.slice(0, 200)} of model ${spec.name}`);
    res.json(jobView(found.job, found.state));
  };
}

/** `GET /models/:model/health`: `/health`, its status and `model_version` about that model. */
export function modelHealthHandler(deps: AppDeps, resolve: (req: Request) => ModelContext) {
  return healthHandler(deps, (req) => resolve(req).spec.name);
}
