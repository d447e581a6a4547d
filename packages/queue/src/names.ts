import { createHash, randomUUID } from 'node:crypto';

/**
 * One BullMQ queue per model: BullMQ's global concurrency applies per queue, so a queue per
 * model with global concurrency 1 serializes promotions of a model across any number of
 * trainer replicas while different models train in parallel.
 */
export function trainQueueName(model: string): string {
  return `train-${model}`;
}

/** Redis pub/sub channel on which the trainer announces `{ model, version }` after activation. */
export function modelEventsChannel(prefix: string): string {
  return `${prefix}:model-activated`;
}

/**
 * The queue of the model catalogue's changes (`register` and `archive` jobs), global
 * concurrency 1, processed by every trainer. Not a model's queue: a registration must be
 * queued before the model, and so its queue, exists anywhere. Model queues are `train-<model>`,
 * so no model name can collide with it.
 */
export const REGISTRY_QUEUE = 'registry';

/** Channel on which the trainer announces `{ model }` once its `spec.json` is written. */
export function modelRegisteredChannel(prefix: string): string {
  return `${prefix}:model-registered`;
}

/** Channel on which the trainer announces `{ model }` once its `archived.json` is written. */
export function modelArchivedChannel(prefix: string): string {
  return `${prefix}:model-archived`;
}

/** The part of a job id after `<model>.`: a hash of the `Idempotency-Key` (so any key is a safe id), else random. */
export function jobIdTail(idempotencyKey?: string): string {
  return idempotencyKey ? `k${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)}` : randomUUID();
}

/**
 * Job ids start with the model name and a dot, so `GET /jobs/:id` finds the queue without a
 * lookup. An `Idempotency-Key` maps to a fixed id (a hash, so any key is a safe id).
 */
export function newJobId(model: string, idempotencyKey?: string): string {
  return `${model}.${jobIdTail(idempotencyKey)}`;
}

/** The kinds of job of the registry queue. */
export type RegistryJobKind = 'register' | 'archive';

/**
 * Id of a job of the registry queue: `<model>.<kind>-<tail>`, so that it belongs to its
 * model (`/models/<model>/jobs/<id>`) and `GET /jobs/:id` still knows its queue: a model
 * queue's tails (a UUID, `k<hex>`, `bootstrap`) never start with `register-` or `archive-`.
 */
export function registryJobId(model: string, kind: RegistryJobKind, tail: string = jobIdTail()): string {
  return `${model}.${kind}-${tail}`;
}

/** Whether `jobId` names a job of the registry queue (see {@link registryJobId}). */
export function isRegistryJobId(jobId: string): boolean {
  return /^[a-z][a-z0-9-]{0,39}\.(?:register|archive)-/.test(jobId);
}

/** The model a job id belongs to, or undefined when the id has no model part. */
export function modelOfJobId(jobId: string): string | undefined {
  const dot = jobId.indexOf('.');
  return dot > 0 ? jobId.slice(0, dot) : undefined;
}

/** Fixed id of a model's bootstrap job: replicas starting together queue it once. */
export function bootstrapJobId(model: string): string {
  return `${model}.bootstrap`;
}
