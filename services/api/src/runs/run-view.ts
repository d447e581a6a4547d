import type { Artifact, HistoryEntry, SegmentListRef, VersionData } from '@ct/registry';
import { z } from 'zod';
import { resultOf, scoreOf, versionUrl } from '../registry-views';
import type { Run, RunMetric } from './run-schemas';

/**
 * A run as a view over the append-only history: each entry that fitted a candidate (a
 * bootstrap or a training job) is one run, its id the entry's seq. Nothing new is written,
 * so params are write-once by construction. Pure: the reader (run-reader.ts) reads the files.
 */

/** The rows that judged a candidate: the trusted and growing rows of the state before its entry. */
export interface JudgingRows {
  trusted: string;
  growing: SegmentListRef;
}

/** What a run is built from. */
export interface RunSources {
  model: string;
  entry: HistoryEntry;
  judgedBy: JudgingRows;
  /** The version's artifact and data; null when they cannot be read (`filesError` says why). */
  artifact: Artifact | null;
  data: VersionData | null;
  filesError: string | null;
}

/** The run id of the entry `seq` of `model`. */
export const runIdOf = (model: string, seq: number): string => `${model}-${seq}`;

/**
 * The rows that judged the candidate of `entries[index]`. A training job gates against the
 * head it commits on, and its entry is that head's seq + 1: the previous entry's state holds
 * the rows it was scored on. A bootstrap was scored on its own held-out rows, which its entry's
 * state records as the trusted rows.
 */
export function judgingRows(entries: readonly HistoryEntry[], index: number): JudgingRows {
  const entry = entries[index] as HistoryEntry;
  const before = index > 0 ? entries[index - 1] : undefined;
  const state = entry.source === 'bootstrap' || !before ? entry.state : before.state;
  return { trusted: state.trusted, growing: state.growing };
}

// Another engineer is adding who asked (`actor`) and why (`trigger`) to history entries: read
// them if present, in whatever shape they settle on, without requiring them.
const actorShape = z.object({ name: z.string(), role: z.string().nullable().optional(), token_id: z.string().nullable().optional() });
const triggerShape = z.record(z.string(), z.unknown());

/** Who asked for the run, if the entry (or its result) records it. */
function actorOf(entry: HistoryEntry): Run['info']['requested_by'] {
  const raw = (entry as { actor?: unknown }).actor ?? (resultOf(entry) as { actor?: unknown }).actor;
  const parsed = actorShape.safeParse(raw);
  return parsed.success ? { name: parsed.data.name, role: parsed.data.role ?? null, token_id: parsed.data.token_id ?? null } : null;
}

function triggerOf(entry: HistoryEntry): Record<string, unknown> | null {
  const raw = (entry as { trigger?: unknown }).trigger ?? (resultOf(entry) as { trigger?: unknown }).trigger;
  const parsed = triggerShape.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Flattens `value` under `prefix` as MLflow params: nested keys joined with dots, values as
 * strings (numbers and booleans as written in JSON, arrays as JSON).
 */
export function flattenParams(prefix: string, value: unknown, out: Map<string, string>): void {
  if (isPlainObject(value)) {
    for (const key of Object.keys(value).sort()) flattenParams(`${prefix}.${key}`, value[key], out);
    return;
  }
  if (value === undefined) return;
  out.set(prefix, typeof value === 'string' ? value : JSON.stringify(value));
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;

/** The fit report of a run: the artifact's, else the one the job result carries. */
function fitOf(src: RunSources): { iterations: number; converged: boolean; final_loss: number | null } | null {
  if (src.artifact) return src.artifact.body.training.fit;
  const fit = resultOf(src.entry) as { fit?: unknown };
  const parsed = z.object({ iterations: z.number().int(), converged: z.boolean(), final_loss: z.number().nullable() }).safeParse(fit.fit);
  return parsed.success ? parsed.data : null;
}

/**
 * The loss per iteration, when the job recorded it (`loss_history` in the result or in its fit
 * report: numbers, or `{ step | iteration, value | loss, timestamp? }` items). Numbers are
 * iterations 1..n, or 0..n when there is one more than the fit's iterations (the initial loss).
 */
export function lossHistory(result: Record<string, unknown>, iterations: number | null, timestamp: number): RunMetric[] | null {
  const fit = isPlainObject(result.fit) ? result.fit : {};
  const raw = result.loss_history ?? fit.loss_history;
  if (!Array.isArray(raw) || raw.length === 0) return null;
  const first = iterations !== null && raw.length === iterations + 1 ? 0 : 1;
  const out: RunMetric[] = [];
  raw.forEach((item, i) => {
    if (finite(item)) {
      out.push({ key: 'loss', value: item, step: first + i, timestamp });
      return;
    }
    if (!isPlainObject(item)) return;
    const value = finite(item.value) ? item.value : finite(item.loss) ? item.loss : null;
    const step = Number.isInteger(item.step) ? (item.step as number) : Number.isInteger(item.iteration) ? (item.iteration as number) : first + i;
    if (value === null) return;
    out.push({ key: 'loss', value, step, timestamp: Number.isInteger(item.timestamp) ? (item.timestamp as number) : timestamp });
  });
  return out.length > 0 ? out : null;
}

/** Mean of a score's per-class F1, or null. */
function macroF1(score: unknown): number | null {
  const s = scoreOf(score);
  if (!s || s.per_class.length === 0) return null;
  return round6(s.per_class.reduce((a, c) => a + c.f1, 0) / s.per_class.length);
}

const accuracyOf = (part: unknown, who: 'champion' | 'challenger'): number | null => {
  if (!isPlainObject(part)) return null;
  const side = part[who];
  return isPlainObject(side) && finite(side.accuracy) ? side.accuracy : null;
};

/**
 * When the entry's job started and ended, ms since the epoch. A candidate's `created_at` is
 * stamped before its evaluation, so the job's recorded start is the one that keeps consecutive
 * runs in their order however long each evaluation took; older entries have only `created_at`.
 */
export function runTimes(entry: HistoryEntry): { startTime: number; endTime: number } {
  if (entry.started_at === undefined) {
    const endTime = Date.parse(entry.created_at);
    return { startTime: Math.round(endTime - entry.duration_ms), endTime };
  }
  const startTime = Date.parse(entry.started_at);
  return { startTime, endTime: Math.round(startTime + entry.duration_ms) };
}

/** Builds the run of a candidate entry from its sources. */
export function runView(src: RunSources): Run {
  const { model, entry, artifact, data } = src;
  const r = resultOf(entry) as Record<string, unknown>;
  const { startTime, endTime } = runTimes(entry);
  const seq = entry.seq;

  const params = new Map<string, string>();
  params.set('algorithm', artifact?.body.algorithm ?? entry.algorithm);
  if (artifact) {
    flattenParams('hyperparameters', artifact.body.hyperparameters, params);
    params.set('seed', String(artifact.body.seed));
  }
  if (isPlainObject(r.policy)) flattenParams('policy', r.policy, params);
  if (isPlainObject(r.guardrails)) flattenParams('guardrails', r.guardrails, params);
  params.set('retrain_from_scratch', String(entry.retrain_from_scratch));
  params.set('n_batch_samples', String(entry.n_batch_samples));

  const metrics: RunMetric[] = [];
  const put = (key: string, value: number | null | undefined, step = 0): void => {
    if (finite(value)) metrics.push({ key, value, step, timestamp: endTime });
  };
  put('accuracy', entry.accuracy_new);
  put('accuracy_previous', entry.accuracy_previous);
  if (finite(entry.accuracy_new) && finite(entry.accuracy_previous)) put('accuracy_delta', round6(entry.accuracy_new - entry.accuracy_previous));
  put('macro_f1', macroF1(r.challenger));
  put('macro_f1_previous', macroF1(r.champion));
  put('trusted_accuracy', accuracyOf(r.trusted, 'challenger'));
  put('trusted_accuracy_previous', accuracyOf(r.trusted, 'champion'));
  put('growing_accuracy', accuracyOf(r.growing, 'challenger'));
  put('growing_accuracy_previous', accuracyOf(r.growing, 'champion'));
  if (isPlainObject(r.paired)) put('mcnemar_p_value', r.paired.mcnemar_p_value as number);
  put('n_training_samples', entry.n_training_samples);
  put('eval_rows', entry.eval_set.size);
  put('eval_trusted_rows', entry.eval_set.trusted);
  put('eval_growing_rows', entry.eval_set.growing);
  put('fit_ms', r.fit_ms as number);
  const fit = fitOf(src);
  if (fit) put('fit_iterations', fit.iterations);
  const losses = lossHistory(r, fit?.iterations ?? null, endTime);
  if (losses) metrics.push(...losses);
  // Without a recorded history, the fit's last loss stands at its last iteration.
  else if (fit && finite(fit.final_loss)) put('loss', fit.final_loss, fit.iterations);
  metrics.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.step - b.step));

  const requestedBy = actorOf(entry);
  const trigger = triggerOf(entry);
  const tags = new Map<string, string>([['ct.source', entry.source]]);
  if (entry.job_id !== null) tags.set('ct.job_id', entry.job_id);
  if (entry.request_id !== null) tags.set('ct.request_id', entry.request_id);
  // MLflow's own tag for who started a run.
  if (requestedBy) tags.set('mlflow.user', requestedBy.name);
  if (requestedBy?.role) tags.set('ct.requested_by.role', requestedBy.role);
  if (trigger && typeof trigger.code === 'string') tags.set('ct.trigger', trigger.code);

  const sorted = (m: Map<string, string>) => [...m.keys()].sort().map((key) => ({ key, value: m.get(key) as string }));
  return {
    info: {
      run_id: runIdOf(model, seq),
      run_name: entry.version,
      experiment_id: model,
      model,
      seq,
      source: entry.source as Run['info']['source'],
      status: entry.status as Run['info']['status'],
      start_time: startTime,
      end_time: endTime,
      duration_ms: entry.duration_ms,
      job_id: entry.job_id,
      request_id: entry.request_id,
      version: entry.version,
      parent_version: entry.active_before,
      requested_by: requestedBy,
      trigger,
    },
    data: { params: sorted(params), metrics, tags: sorted(tags) },
    inputs: {
      data_hash: artifact?.body.training.data_hash ?? entry.data_hash,
      n_training_samples: entry.n_training_samples,
      training: data ? data.training : null,
      batch: data?.batch ?? null,
      batch_holdout: data?.batch_holdout ?? null,
      eval: {
        trusted: src.judgedBy.trusted,
        growing: src.judgedBy.growing,
        rows: entry.eval_set.size,
        trusted_rows: entry.eval_set.trusted,
        growing_rows: entry.eval_set.growing,
      },
    },
    decision: {
      activated: entry.status === 'activated',
      policy: (r.policy ?? null) as Run['decision']['policy'],
      guardrails: (isPlainObject(r.guardrails) ? r.guardrails : null) as Run['decision']['guardrails'],
      reason: str(r.reason),
      message: str(r.message),
      violations: (Array.isArray(r.violations) ? r.violations : []) as Run['decision']['violations'],
    },
    artifact: {
      version: entry.version,
      path: `models/${model}/versions/${entry.version}/`,
      url: versionUrl(model, entry.version),
    },
    ...(src.filesError ? { files_error: src.filesError } : {}),
  };
}

/** The latest value of each metric (the highest step; MLflow's "latest"), by key. */
export function latestMetrics(run: Run): Map<string, number> {
  const out = new Map<string, { step: number; timestamp: number; value: number }>();
  for (const m of run.data.metrics) {
    const seen = out.get(m.key);
    if (!seen || m.step > seen.step || (m.step === seen.step && m.timestamp >= seen.timestamp)) out.set(m.key, m);
  }
  return new Map([...out].map(([k, v]) => [k, v.value]));
}

/** A run's params by key. */
export const paramsOf = (run: Run): Map<string, string> => new Map(run.data.params.map((p) => [p.key, p.value]));
/** A run's tags by key. */
export const tagsOf = (run: Run): Map<string, string> => new Map(run.data.tags.map((t) => [t.key, t.value]));
