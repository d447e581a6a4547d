import type { JobsOptions } from 'bullmq';

/**
 * Defaults for every job: transient faults (Redis blips, a killed trainer) are retried with
 * backoff; bad data fails at once through UnrecoverableError. Finished jobs are kept a day
 * (and at most 1,000) so that status URLs and idempotency keys keep working.
 */
export const defaultJobOptions: JobsOptions = Object.freeze({
  attempts: 3,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 24 * 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 1000 },
});
