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
 * Job ids start with the model name and a dot, so `GET /jobs/:id` finds the queue without a
 * lookup. An `Idempotency-Key` maps to a fixed id (a hash, so any key is a safe id).
 */
export function newJobId(model: string, idempotencyKey?: string): string {
  const tail = idempotencyKey
    ? `k${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)}`
    : randomUUID();
  return `${model}.${tail}`;
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
