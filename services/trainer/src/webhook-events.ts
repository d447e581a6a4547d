import type { JobData, JobResult } from '@ct/queue';

/**
 * The `data` of the trainer's webhook events, built here so that the pipeline's and the
 * registry's code only says when an event happens. Field names follow the job results.
 */

/** Who caused a job: the automation (with its trigger) or a caller (by token name). */
function causeOf(data: Pick<JobData, 'trigger' | 'actor' | 'request_id'>): Record<string, unknown> {
  return { automatic: data.trigger !== undefined, trigger: data.trigger ?? null, actor: data.actor?.name ?? null, request_id: data.request_id };
}

/** `model.activated` / `model.rejected`: a gate decision on a trained candidate. */
export function decisionEventData(jobId: string, data: JobData, result: JobResult): Record<string, unknown> {
  return {
    model: result.model,
    version: result.model_version,
    active_version: result.active_version,
    job_id: jobId,
    accuracy_new: result.accuracy_new,
    accuracy_previous: result.accuracy_previous,
    reason: result.reason,
    violations: result.violations.map((v) => v.code),
    ...causeOf(data),
  };
}

/** `model.rolled_back`: a kept version made live again, by a rollback (manual or automatic) or a reset. */
export function rollbackEventData(model: string, jobId: string, data: JobData, how: { source: 'rollback' | 'reset'; reason: string }, previous: string, version: string): Record<string, unknown> {
  return { model, version, previous_version: previous, source: how.source, job_id: jobId, reason: how.reason, ...causeOf(data) };
}
