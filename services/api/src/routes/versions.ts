import { VERSION_PATTERN } from '@ct/core';
import { ArtifactError, type Artifact, type VersionData } from '@ct/registry';
import type { Request, Response } from 'express';
import { relative } from 'node:path';
import type { AppDeps, ModelContext } from '../app-deps';
import { ApiError } from '../errors/api-error';
import { readEntries, storeOf } from '../model-history';
import { versionsQuerySchema } from '../registry-schemas';
import { activationTimeline, candidateEntry, isCandidate, pageOf, resultOf, scoreOf, versionItem, versionMetrics, versionUrl } from '../registry-views';
import { parseOrThrow } from '../validate';

/** `GET /models/:model/versions`: every candidate ever fitted (bootstrap and train), newest first, paged. */
export function versionListHandler(deps: AppDeps, resolve: (req: Request) => ModelContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const { spec } = resolve(req);
    const q = parseOrThrow(versionsQuerySchema, req.query, 'query');
    const entries = await readEntries(deps, spec);
    const live = entries.at(-1)?.active_after;
    const candidates = entries.filter((e) => isCandidate(e) && (q.status === undefined || e.status === q.status));
    const page = pageOf(candidates, (e) => e.seq, q);
    res.json({
      model: spec.name,
      versions: page.items.map((e) => versionItem(spec.name, e, live)),
      limit: page.limit,
      next_cursor: page.next_cursor,
      total: page.total,
    });
  };
}

/**
 * `GET /models/:model/versions/:version`: one candidate: what it is (algorithm,
 * hyperparameters, fit), how the gate scored and judged it, and its lineage (the version it
 * was gated against, the segments it was fitted on, its batch, the rows that judged it).
 * Only committed candidates are shown: a folder whose entry never made it into the history
 * (a lost commit race, a trainer killed mid-job) is not a version.
 */
export function versionDetailHandler(deps: AppDeps, resolve: (req: Request) => ModelContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const { spec } = resolve(req);
    const version = String((req.params as { version?: string }).version);
    // Checked before any path is built from it.
    if (!VERSION_PATTERN.test(version)) throw new ApiError('not_found', `no version ${version.slice(0, 64)} of model ${spec.name}`);
    const entries = await readEntries(deps, spec);
    const entry = candidateEntry(entries, version);
    if (!entry) throw new ApiError('not_found', `no version ${version} of model ${spec.name}`);
    const store = storeOf(deps, spec);

    let artifact: Artifact | null = null;
    let data: VersionData | null = null;
    let lineage = null;
    let filesError: string | null = null;
    try {
      [artifact, data] = await Promise.all([store.readVersion(version), store.readVersionData(version)]);
      const seg = async (hash: string) => ({ hash, rows: (await store.segments.get(hash)).y.length });
      const d = data;
      const [training, batch, holdout, trusted, growing] = await Promise.all([
        store.lists.items(d.training).then((hashes) => Promise.all(hashes.map(seg))),
        d.batch ? seg(d.batch) : null,
        d.batch_holdout ? seg(d.batch_holdout) : null,
        seg(d.trusted),
        store.lists.items(d.growing).then((hashes) => Promise.all(hashes.map(seg))),
      ]);
      lineage = {
        parent: d.parent,
        parent_url: d.parent ? versionUrl(spec.name, d.parent) : null,
        retrain_from_scratch: entry.retrain_from_scratch,
        training,
        batch,
        batch_holdout: holdout,
        trusted,
        growing,
      };
    } catch (err) {
      if (!(err instanceof ArtifactError)) throw err;
      filesError = `${err.kind} in ${relative(deps.dataDir, err.path)}: ${err.reason}`;
    }

    const r = resultOf(entry);
    const live = entries.at(-1)?.active_after;
    const body = artifact?.body;
    res.json({
      model: spec.name,
      version,
      seq: entry.seq,
      source: entry.source,
      status: entry.status,
      active: version === live,
      created_at: entry.created_at,
      job_id: entry.job_id,
      request_id: entry.request_id,
      algorithm: body?.algorithm ?? entry.algorithm,
      hyperparameters: body?.hyperparameters ?? null,
      data_hash: body?.training.data_hash ?? entry.data_hash,
      n_training_samples: body?.training.n_samples ?? entry.n_training_samples,
      n_batch_samples: entry.n_batch_samples,
      fit: body?.training.fit ?? null,
      classes: body?.classes ?? null,
      features: body?.features ?? null,
      metrics: versionMetrics(entries, version),
      champion_metrics: scoreOf(r.champion),
      decision: {
        activated: entry.status === 'activated',
        policy: r.policy ?? null,
        guardrails: r.guardrails ?? null,
        reason: typeof r.reason === 'string' ? r.reason : null,
        message: typeof r.message === 'string' ? r.message : null,
        violations: Array.isArray(r.violations) ? r.violations : [],
        paired: r.paired ?? null,
        trusted: r.trusted ?? null,
        growing: r.growing ?? null,
      },
      lineage,
      live_periods: activationTimeline(entries)
        .filter((p) => p.version === version)
        .reverse(),
      ...(filesError ? { files_error: filesError } : {}),
    });
  };
}
