import { predictLabels, type LabeledSet } from '@ct/core';
import { ArtifactError, type HistoryEntry, type ModelStore } from '@ct/registry';
import type { Request, Response } from 'express';
import { relative } from 'node:path';
import type { AppDeps, ModelContext } from '../app-deps';
import { ApiError } from '../errors/api-error';
import { readEntries, storeOf } from '../model-history';
import { callerOf } from '../pipeline/express-steps';
import { commonSegments, compareSideBySide, scorePair } from '../runs/run-compare';
import { readRun, readRuns, type DescribeError } from '../runs/run-reader';
import { MAX_COMPARED_RUNS, MIN_COMPARED_RUNS, RUN_ID_PATTERN, runCompareQuerySchema, runSearchQuerySchema, type Run, type RunComparison } from '../runs/run-schemas';
import { prepareSearch, queryError, searchRuns } from '../runs/run-search';
import { parseOrThrow } from '../validate';

/** A damaged file as the answer names it: relative to the data directory. */
const describer =
  (deps: AppDeps): DescribeError =>
  (err) =>
    `${err.kind} in ${relative(deps.dataDir, err.path)}: ${err.reason}`;

/**
 * `GET /models/:model/runs?filter=&order_by=&max_results=&page_token=`: the model's runs
 * (every attempt that fitted a candidate), searched as MLflow's SearchRuns does. The filter and
 * order are parsed before anything is read, so a bad one costs no I/O.
 */
export function runSearchHandler(deps: AppDeps, resolve: (req: Request) => ModelContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const { spec } = resolve(req);
    const q = parseOrThrow(runSearchQuerySchema, req.query, 'query');
    const search = prepareSearch(spec.name, q);
    const entries = await readEntries(deps, spec);
    const runs = await readRuns(storeOf(deps, spec), entries, describer(deps));
    res.json({ model: spec.name, ...searchRuns(runs, search) });
  };
}

/** The run ids of `?ids=`: 2 to 10, distinct, of one model. */
function parseIds(text: string): { model: string; ids: string[]; seqs: number[] } {
  const ids = text
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  if (ids.length < MIN_COMPARED_RUNS || ids.length > MAX_COMPARED_RUNS) {
    throw queryError('ids', 'invalid_count', `give ${MIN_COMPARED_RUNS} to ${MAX_COMPARED_RUNS} run ids, got ${ids.length}`);
  }
  const parsed = ids.map((id, i) => {
    const m = RUN_ID_PATTERN.exec(id);
    if (!m) throw queryError('ids', 'invalid_run_id', `id ${i + 1} (${JSON.stringify(id.slice(0, 64))}) is not a run id: <model>-<seq>, e.g. iris-3`);
    return { model: m[1] as string, seq: Number(m[2]) };
  });
  const models = [...new Set(parsed.map((p) => p.model))];
  if (models.length > 1) throw queryError('ids', 'mixed_models', `runs of one model only; got runs of ${models.join(', ')}`);
  if (new Set(ids).size !== ids.length) throw queryError('ids', 'duplicate_run_id', 'each run at most once');
  return { model: models[0] as string, ids, seqs: parsed.map((p) => p.seq) };
}

/** The evaluation segments that judged `run`: the trusted rows, then the growing ones. */
async function evalSegments(store: ModelStore, run: Run): Promise<string[]> {
  return [run.inputs.eval.trusted, ...(await store.lists.items(run.inputs.eval.growing))];
}

/**
 * `second` against `first` on the rows both were judged on: their common evaluation segments,
 * predicted by both versions as `?version=` predictions load them (the API's kept versions).
 */
async function pairOf(deps: AppDeps, store: ModelStore, first: Run, second: Run): Promise<RunComparison['pairs'][number]> {
  const runIds = [first.info.run_id, second.info.run_id];
  try {
    const [a, b] = await Promise.all([evalSegments(store, first), evalSegments(store, second)]);
    const common = commonSegments(a, b);
    const [sets, rows] = await Promise.all([Promise.all(common.map((h) => store.segments.get(h))), store.segments.concat(common)]);
    const [fm, sm] = await Promise.all([deps.cache.loadVersion(store.model, first.info.version), deps.cache.loadVersion(store.model, second.info.version)]);
    return scorePair({
      first: { run_id: first.info.run_id, version: first.info.version },
      second: { run_id: second.info.run_id, version: second.info.version },
      segments: common.map((hash, i) => ({ hash, rows: (sets[i] as LabeledSet).y.length })),
      y: rows.y,
      firstPred: predictLabels(fm.classifier, rows.x),
      secondPred: predictLabels(sm.classifier, rows.x),
    });
  } catch (err) {
    // A damaged file spoils this pair, not the comparison: the side-by-side stands.
    if (err instanceof ArtifactError) return { run_ids: runIds, error: describer(deps)(err) };
    throw err;
  }
}

/**
 * `GET /runs/compare?ids=a,b,c`: runs of one model side by side (params and latest metrics,
 * and which differ), and each run scored against the next on the evaluation rows both were
 * judged on, with McNemar's exact test. The route is not under a model, so the token's model
 * scope is checked here, once the ids name the model.
 */
export function runCompareHandler(deps: AppDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const q = parseOrThrow(runCompareQuerySchema, req.query, 'query');
    const { model, ids, seqs } = parseIds(q.ids);
    const caller = callerOf(req);
    if (caller.models !== null && !caller.models.includes(model)) throw new ApiError('forbidden', `token ${caller.name} is limited to ${caller.models.join(', ')}`);
    const { spec } = deps.catalog.resolve(model);
    const entries: HistoryEntry[] = await readEntries(deps, spec);
    const store = storeOf(deps, spec);
    const describe = describer(deps);
    const runs = await Promise.all(
      seqs.map(async (seq, i) => {
        const run = await readRun(store, entries, seq, describe);
        if ('missing' in run) throw new ApiError('not_found', `no run ${ids[i]}: ${run.missing}`);
        return run;
      }),
    );
    // One pair at a time: each loads two versions and predicts their common rows.
    const pairs: RunComparison['pairs'] = [];
    for (let i = 0; i + 1 < runs.length; i++) pairs.push(await pairOf(deps, store, runs[i] as Run, runs[i + 1] as Run));
    const body: RunComparison = { model, run_ids: ids, runs: runs.map((r) => r.info), ...compareSideBySide(runs), pairs };
    res.json(body);
  };
}
