import { finiteOrNull, type DriftReport, type JobData, type JobResult } from '@ct/queue';

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

/**
 * `drift.alert`: the active version's latest inputs drifted from its training rows (`report.drift`
 * is set and detected). The numbers are the report's, in the payloads' snake_case: per drifted
 * feature its test, statistic (the distance, for Jensen-Shannon), p-value (null for a distance)
 * and threshold. `episode` counts the model's alerts, one per transition into drift.
 */
export function driftAlertEventData(report: DriftReport, episode: number): Record<string, unknown> {
  const drift = report.drift;
  if (!drift) throw new Error(`no drift to report for ${report.model} ${report.version}`);
  return {
    model: report.model,
    version: report.version,
    share: drift.share,
    drift_share: drift.driftShare,
    features_tested: drift.features,
    features_drifted: drift.driftedFeatures,
    drifted_features: report.features
      .filter((f) => f.drifted)
      .map((f) => ({
        feature: f.feature,
        kind: f.kind,
        test: f.test,
        statistic: finiteOrNull(f.statistic),
        p_value: finiteOrNull(f.pValue),
        threshold: f.threshold,
        reference_rows: f.referenceRows,
        current_rows: f.currentRows,
      })),
    reference_rows: report.reference.rows,
    current_rows: report.current.rows,
    episode,
  };
}
