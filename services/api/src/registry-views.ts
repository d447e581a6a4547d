import type { HistoryEntry } from '@ct/registry';
import type { z } from 'zod';
import {
  modelScoreSchema,
  type activationSchema,
  type historyItemSchema,
  type metricsSchema,
  type versionItemSchema,
} from './registry-schemas';

/**
 * Pure views of a model's history for the registry API: what each route shows of an entry,
 * the activation timeline, a version's metrics, and paging. No I/O: the routes read, these
 * shape.
 */

export type HistoryItem = z.output<typeof historyItemSchema>;
export type VersionItem = z.output<typeof versionItemSchema>;
export type Activation = z.output<typeof activationSchema>;
export type Metrics = z.output<typeof metricsSchema>;
export type ModelScoreView = z.output<typeof modelScoreSchema>;

/** The job result stored in an entry, seen through the fields these views read. */
interface StoredResult {
  policy?: unknown;
  guardrails?: unknown;
  reason?: unknown;
  message?: unknown;
  violations?: unknown;
  challenger?: unknown;
  champion?: unknown;
  paired?: unknown;
  trusted?: unknown;
  growing?: unknown;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;

/** URL path of a model's registry resources. */
export const modelPath = (model: string): string => `/models/${encodeURIComponent(model)}`;
export const versionUrl = (model: string, version: string): string => `${modelPath(model)}/versions/${encodeURIComponent(version)}`;

/** Whether an entry fitted a candidate (a version kept under `versions/`). */
export const isCandidate = (e: HistoryEntry): e is HistoryEntry & { source: 'bootstrap' | 'train'; status: 'activated' | 'rejected' } =>
  (e.source === 'bootstrap' || e.source === 'train') && e.status !== 'applied';

/** The entry that fitted `version`, if any. */
export function candidateEntry(entries: readonly HistoryEntry[], version: string): HistoryEntry | undefined {
  return entries.find((e) => isCandidate(e) && e.version === version);
}

/** The entry's stored result. */
export const resultOf = (e: HistoryEntry): StoredResult => e.result;

/** Who asked for an entry's change: a token's name and role, never its id. */
export const requestedBy = (e: HistoryEntry): { name: string; role: string | null } | null => (e.actor ? { name: e.actor.name, role: e.actor.role } : null);

/** Why an entry did what it did: the decision's reason, else the job's message. */
export const reasonOf = (e: HistoryEntry): string | null => str(resultOf(e).reason) ?? str(resultOf(e).message);

/** A stored score (the gate's `ModelScore`), or null when absent or of another shape. */
export function scoreOf(value: unknown): ModelScoreView | null {
  const parsed = modelScoreSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/**
 * A version's evaluation metrics: the challenger score of the entry that fitted it (the gate's
 * scoring, on the trusted and growing rows of the day), its macro F1, and where they come from.
 * A reset or rollback makes a version live again without scoring it again, so the fitting
 * entry is the one that says how good it is.
 */
export function versionMetrics(entries: readonly HistoryEntry[], version: string): Metrics | null {
  const entry = candidateEntry(entries, version);
  if (!entry) return null;
  const score = scoreOf(resultOf(entry).challenger);
  if (!score) return null;
  const f1s = score.per_class.map((c) => c.f1);
  return {
    ...score,
    macro_f1: f1s.length > 0 ? round6(f1s.reduce((a, b) => a + b, 0) / f1s.length) : 0,
    evaluated: {
      seq: entry.seq,
      job_id: entry.job_id,
      at: entry.created_at,
      rows: entry.eval_set.size,
      trusted_rows: entry.eval_set.trusted,
      growing_rows: entry.eval_set.growing,
    },
  };
}

/** One entry as `/history` lists it: the entry without its full result, plus the decision's gist. */
export function historyItem(model: string, e: HistoryEntry): HistoryItem {
  const r = resultOf(e);
  return {
    seq: e.seq,
    version: e.version,
    source: e.source,
    status: e.status,
    job_id: e.job_id,
    request_id: e.request_id,
    requested_by: requestedBy(e),
    trigger: e.trigger ?? null,
    created_at: e.created_at,
    started_at: e.started_at ?? null,
    active_before: e.active_before,
    active_after: e.active_after,
    algorithm: e.algorithm,
    retrain_from_scratch: e.retrain_from_scratch,
    n_batch_samples: e.n_batch_samples,
    n_training_samples: e.n_training_samples,
    accuracy_new: e.accuracy_new,
    accuracy_previous: e.accuracy_previous,
    eval_set: e.eval_set,
    policy: (r.policy ?? null) as HistoryItem['policy'],
    reason: str(r.reason),
    message: str(r.message),
    violations: (Array.isArray(r.violations) ? r.violations : []) as HistoryItem['violations'],
    duration_ms: e.duration_ms,
    version_url: isCandidate(e) ? versionUrl(model, e.version) : null,
  };
}

/** One candidate as `/versions` lists it. `live` is the version live now. */
export function versionItem(model: string, e: HistoryEntry, live: string | undefined): VersionItem {
  return {
    version: e.version,
    seq: e.seq,
    source: e.source as VersionItem['source'],
    status: e.status as VersionItem['status'],
    active: e.version === live,
    created_at: e.created_at,
    job_id: e.job_id,
    algorithm: e.algorithm,
    parent: e.active_before,
    retrain_from_scratch: e.retrain_from_scratch,
    n_training_samples: e.n_training_samples,
    n_batch_samples: e.n_batch_samples,
    accuracy_new: e.accuracy_new,
    accuracy_previous: e.accuracy_previous,
    reason: str(resultOf(e).reason),
    url: versionUrl(model, e.version),
  };
}

/**
 * Which version was live from when to when, and why, oldest first. Every entry whose
 * `active_after` differs from the version live before it (a bootstrap, an activated candidate,
 * a reset, a rollback) starts a period and ends the previous one; a rejected candidate or a
 * change of the trusted rows changes nothing live, and neither does a reset or rollback to the
 * version already live.
 */
export function activationTimeline(entries: readonly HistoryEntry[]): Activation[] {
  const periods: Activation[] = [];
  let live: string | null = null;
  for (const e of entries) {
    if (e.active_after === live) continue;
    const previous = periods.at(-1);
    if (previous) {
      previous.to = e.created_at;
      previous.current = false;
      previous.replaced_by = { seq: e.seq, source: e.source, job_id: e.job_id, version: e.active_after };
    }
    periods.push({
      version: e.active_after,
      from: e.created_at,
      to: null,
      current: true,
      seq: e.seq,
      source: e.source,
      job_id: e.job_id,
      requested_by: requestedBy(e),
      trigger: e.trigger ?? null,
      reason: reasonOf(e),
      // A candidate's own score; a reset or rollback carries the score of the version it restored.
      accuracy: e.version === e.active_after ? e.accuracy_new : null,
      replaced_by: null,
    });
    live = e.active_after;
  }
  return periods;
}

/** The entries since the last reset (that reset first), or all of them when there was none. */
export function sinceLastReset<T extends HistoryEntry>(entries: readonly T[]): T[] {
  const at = entries.findLastIndex((e) => e.source === 'reset');
  return entries.slice(Math.max(at, 0));
}

/** A page of items keyed by history seq, newest first: those below `cursor`, at most `limit`. */
export function pageOf<T>(items: readonly T[], seqOf: (item: T) => number, q: { limit: number; cursor?: number | undefined }) {
  const newestFirst = [...items].sort((a, b) => seqOf(b) - seqOf(a));
  const below = q.cursor === undefined ? newestFirst : newestFirst.filter((item) => seqOf(item) < (q.cursor as number));
  const page = below.slice(0, q.limit);
  const last = page.at(-1);
  return {
    items: page,
    limit: q.limit,
    next_cursor: below.length > page.length && last !== undefined ? seqOf(last) : null,
    total: items.length,
  };
}

/** Where each of a model's resources lives. */
export function endpointsOf(model: string) {
  const base = modelPath(model);
  return {
    self: base,
    predict: `${base}/predict`,
    train: `${base}/train`,
    info: `${base}/model/info`,
    versions: `${base}/versions`,
    history: `${base}/history`,
    activations: `${base}/activations`,
    trusted_eval: `${base}/model/trusted-eval`,
    jobs: `${base}/jobs/{id}`,
    health: `${base}/health`,
  };
}
