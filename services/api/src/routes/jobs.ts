import { distinctLabels, getAlgorithm, resolveClass, sha256Canonical, VERSION_PATTERN } from '@ct/core';
import { z } from 'zod';
import { newJobId, type JobData, type RegistryJobData } from '@ct/queue';
import type { Request, Response } from 'express';

/** Omit over each member of a union (TypeScript's Omit collapses the union). */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
import { MAX_WAIT_SECONDS, samplesToSet } from '../api-schemas';
import type { AppDeps, ModelContext } from '../app-deps';
import { ApiError } from '../errors/api-error';
import { jobView, recordedJobView, statusUrl } from '../job-view';
import { callerOf } from '../pipeline/express-steps';
import { actorOf } from '../security/caller';
import { mayReadJob } from '../security/authorize';
import { unlessAborted } from '../unless-aborted';
import { parseOrThrow, requireJson } from '../validate';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** `Prefer: wait=N` (RFC 7240) in seconds, capped; 0 when absent. */
function preferWait(req: Request): number {
  const header = req.get('prefer');
  const m = header ? /(?:^|[,;\s])wait=(\d+)/i.exec(header) : null;
  return m ? Math.min(Number(m[1]), MAX_WAIT_SECONDS) : 0;
}

/** The request's `Idempotency-Key`, checked (a bad one is a 400), or undefined. */
export function idempotencyKey(req: Request): string | undefined {
  const key = req.get('idempotency-key');
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new ApiError('bad_request', 'Idempotency-Key must be 1 to 200 visible ASCII characters');
  }
  return key;
}

/**
 * The request's Idempotency-Key scoped to its caller, or undefined: the same key from two
 * callers names two jobs, so one caller's key neither collides with nor reveals another's job.
 */
export function callerScopedKey(req: Request): string | undefined {
  const key = idempotencyKey(req);
  return key === undefined ? undefined : `${callerOf(req).key}\n${key}`;
}

/**
 * Queues `data` under `jobId` (by default the model's job id for the caller's Idempotency-Key,
 * if any), recording who asked, and answers 202 with the status URL, or 200 with the finished
 * job when `Prefer: wait=N` lets it finish in time. A replay of a key answers with its job; a
 * new job past the model's or the caller's cap of queued jobs is a 429.
 */
export async function submit(deps: AppDeps, req: Request, res: Response, request: DistributiveOmit<JobData | RegistryJobData, 'actor' | 'request_id'>, jobId?: string): Promise<void> {
  const key = idempotencyKey(req);
  const caller = callerOf(req);
  const data = { ...request, request_id: requestId(req), actor: actorOf(caller) } as JobData | RegistryJobData;
  const { job, created } = await deps.queues.enqueue(data, jobId ?? newJobId(data.model, callerScopedKey(req)), { ...deps.jobCaps, callerTokenId: caller.tokenId });
  if (!created && job.data.body_hash !== data.body_hash) {
    throw new ApiError('idempotency_conflict', `Idempotency-Key "${key}" was used for a different request (job ${job.id})`);
  }
  const wait = preferWait(req);
  let finished = false;
  if (wait > 0) {
    // A shutdown ends the wait at once: the client gets the usual 202 with its job rather
    // than a connection cut when the server closes.
    finished = await unlessAborted(deps.queues.waitFor(job, wait * 1000), deps.shutdown, false);
    res.setHeader('Preference-Applied', `wait=${wait}`);
  }
  // This server is going away: the client should not reuse the connection.
  if (deps.shutdown?.aborted) res.setHeader('Connection', 'close');
  const found = await deps.queues.find(job.id as string);
  if (!found) throw new ApiError('not_found', `job ${job.id} disappeared`);
  const view = jobView(found.job, found.state);
  res.setHeader('Location', statusUrl(view.job_id));
  if (!created) res.setHeader('Idempotent-Replayed', 'true');
  res.status(finished ? 200 : 202).json(view);
}

/** The request's id (RequestPipeline.begin always assigns one), recorded with its job. */
export const requestId = (req: Request): string | null => (typeof req.id === 'string' ? req.id : null);

/** `POST /train`: validates labeled samples and queues a training job. */
export function trainHandler(deps: AppDeps, resolve: (req: Request) => ModelContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const { spec, schemas } = resolve(req);
    requireJson(req.get('content-type'));
    const body = parseOrThrow(schemas.train, req.body);
    // Choosing the gate's policy decides what may go live: an admin's call, not a data pipeline's.
    if (body.policy !== undefined && callerOf(req).role !== 'admin') {
      throw new ApiError('forbidden', 'only an admin token may set a per-request gate policy; send the samples without "policy" to use the model\'s own');
    }
    // A request's policy replaces the model's default; the model's guardrails apply either way.
    const policy = body.policy ?? spec.policy;
    const { classes } = spec.target;
    if (policy.name === 'per_class_f1' && resolveClass(policy.class, classes) === undefined) {
      throw new ApiError('validation_failed', `policy.class must be one of ${classes.join(', ')} or 0..${classes.length - 1}`, [
        { field: 'policy.class', pointer: '/policy/class', code: 'unknown_class', message: `unknown class ${String(policy.class)}` },
      ]);
    }
    const algorithm = body.algorithm ?? spec.algorithm;
    if (body.hyperparameters !== undefined) {
      // Validated here with the algorithm's own schema, so a bad value is a 422, not a failed job.
      const schema = getAlgorithm(algorithm)?.hyperparametersSchema;
      if (schema) parseOrThrow(schema, body.hyperparameters, 'hyperparameters', ['hyperparameters']);
    }
    const set = samplesToSet(spec, body.samples);
    const { y } = set;
    if (body.retrain_from_scratch && distinctLabels(y) < 2) {
      throw new ApiError('validation_failed', 'training from scratch needs samples of at least 2 classes', [
        { field: 'samples', pointer: '/samples', code: 'insufficient_classes', message: `${distinctLabels(y)} distinct label(s); at least 2 are needed from scratch` },
      ]);
    }
    await submit(deps, req, res, {
      kind: 'train',
      model: spec.name,
      body_hash: sha256Canonical({ model: spec.name, kind: 'train', body }),
      samples: set,
      retrain_from_scratch: body.retrain_from_scratch,
      policy,
      ...(body.algorithm ? { algorithm: body.algorithm } : {}),
      ...(body.hyperparameters ? { hyperparameters: body.hyperparameters } : {}),
    });
  };
}

/** `DELETE /model/history`: queues a reset to the bootstrap version (history is kept). */
export function resetHandler(deps: AppDeps, resolve: (req: Request) => ModelContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const { spec } = resolve(req);
    await submit(deps, req, res, {
      kind: 'reset',
      model: spec.name,
      body_hash: sha256Canonical({ model: spec.name, kind: 'reset' }),
    });
  };
}

/** `GET /jobs/:id`: state, progress, result or error, timestamps. */
export function jobStatusHandler(deps: AppDeps) {
  return async (req: Request<{ id: string }>, res: Response): Promise<void> => {
    const id = req.params.id;
    const notFound = () => new ApiError('not_found', `no job ${id.slice(0, 200)}`);
    const found = await deps.queues.find(id);
    // Another caller's job is as absent as one that never existed: its id reveals nothing.
    if (found) {
      if (!mayReadJob(callerOf(req), found.job.data.actor?.token_id)) throw notFound();
      res.json(jobView(found.job, found.state));
      return;
    }
    // Accepted, but Redis lost it (restarted empty) and no trainer has queued it again yet:
    // it is not lost, and its status says so rather than a 404.
    // A record that cannot be read is the trainer's to report (it lists the damaged ones).
    const record = await deps.queues.recorded(id).catch((err: unknown) => {
      deps.logger.warn({ job_id: id, err: (err as Error).message }, 'the record of an accepted job cannot be read');
      return undefined;
    });
    if (!record || !mayReadJob(callerOf(req), (record.data as { actor?: { token_id?: string | null } }).actor?.token_id)) throw notFound();
    res.json(recordedJobView(record));
  };
}

/**
 * `PUT /model/trusted-eval` (replace) and `POST /model/trusted-eval` (add): queues a change to
 * the model's trusted evaluation rows, the rows every later candidate is judged on and where
 * the guardrails apply. A job like any change to artifacts; the history records it.
 */
export function trustedEvalHandler(deps: AppDeps, resolve: (req: Request) => ModelContext, mode: 'add' | 'replace') {
  return async (req: Request, res: Response): Promise<void> => {
    const { spec, schemas } = resolve(req);
    requireJson(req.get('content-type'));
    const body = parseOrThrow(schemas.trusted, req.body);
    const set = samplesToSet(spec, body.samples);
    const { y } = set;
    if (mode === 'replace' && distinctLabels(y) < 2) {
      throw new ApiError('validation_failed', 'a trusted evaluation set needs samples of at least 2 classes', [
        { field: 'samples', pointer: '/samples', code: 'insufficient_classes', message: `${distinctLabels(y)} distinct label(s); at least 2 are needed` },
      ]);
    }
    await submit(deps, req, res, {
      kind: 'trusted_eval',
      model: spec.name,
      body_hash: sha256Canonical({ model: spec.name, kind: 'trusted_eval', mode, body }),
      mode,
      samples: set,
    });
  };
}

const rollbackBodySchema = z.strictObject({
  version: z.string().regex(VERSION_PATTERN).meta({ description: 'a version kept in versions/ (from GET /models/{model}/versions)' }),
  reason: z.string().min(1).max(500).optional().meta({ description: 'why, in your words: recorded in the history and the activation timeline' }),
});

/** Body of `POST /models/:model/rollback`. */
export const rollbackRequestSchema = rollbackBodySchema.meta({ id: 'rollback_request' });

/**
 * `POST /models/:model/rollback`: queues the activation of a kept version, serialized with
 * training like every change. A version the model never committed is a 404 here; one that
 * is already active finishes as a no-op.
 */
export function rollbackHandler(deps: AppDeps, resolve: (req: Request) => ModelContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const { spec } = resolve(req);
    requireJson(req.get('content-type'));
    const body = parseOrThrow(rollbackBodySchema, req.body);
    const store = deps.cache.store(spec.name);
    const known = store ? (await store.readHistory()).entries.some((e) => e.version === body.version && (e.source === 'bootstrap' || e.source === 'train')) : false;
    if (!known) throw new ApiError('not_found', `model ${spec.name} has no version ${body.version}`);
    await submit(deps, req, res, {
      kind: 'rollback',
      model: spec.name,
      body_hash: sha256Canonical({ model: spec.name, kind: 'rollback', body }),
      version: body.version,
      reason: body.reason ?? null,
    });
  };
}
