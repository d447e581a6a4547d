import { checkTrustedSet, concatSets, dataReportOf, TrainingDataError, type DataReport, type GateDecision, type LabeledSet, type ModelSpec } from '@ct/core';
import { bootstrapJobId, jobDataSchema, type JobData, type JobProgress, type JobResult } from '@ct/queue';
import { ArtifactError, buildArtifact, CommitConflictError, EMPTY_LIST, ModelStore, type ArtifactStore, type SegmentListRef, readArchive, readRegistration, type HistoryEntry, type ModelState } from '@ct/registry';
import { UnrecoverableError, type Job } from 'bullmq';
import { relative, sep } from 'node:path';
import type { Logger } from 'pino';
import type { FitThreadClient } from './fit-thread-client';
import { loadBundledDataset } from './load-dataset';
import type { StepOutcome } from './step-task';
import type { EmitWebhookEvent } from '@ct/queue';
import { decisionEventData, rollbackEventData } from './webhook-events';

/** What the pipeline needs from its surroundings. */
export interface PipelineDeps {
  /** The models this pipeline trains (the trainer adds registered models to its array as they come). */
  specs: readonly ModelSpec[];
  dataDir: string;
  /** Where the models' artifacts live; a DirectoryStore on `dataDir` by default. */
  artifactStore?: ArtifactStore;
  datasetsDir: string;
  fitThread: FitThreadClient;
  /** Announces an activation (Redis pub/sub); the API also polls, so a lost message only delays. */
  publish: (model: string, version: string) => Promise<void>;
  logger: Logger;
  /** Webhook events after a decision or a rollback (fire and forget); none when absent. */
  emit?: EmitWebhookEvent;
}

/** The job as the pipeline sees it: BullMQ's Job, narrowed to what is used (tests pass real jobs). */
export type PipelineJob = Pick<Job<unknown, JobResult>, 'id' | 'data' | 'updateProgress'>;

type Progress = (stage: JobProgress['stage'], percent: number) => void;

/**
 * How many times a job gates again after losing a commit race. Jobs of a model are serialized
 * by the queue, so a race needs that guarantee to be broken (Redis restarted empty, say);
 * each lost race means another job committed, so this bounds waiting, not progress.
 */
const MAX_COMMIT_ATTEMPTS = 20;

/** What one job knows when it starts: the head of the history and the job's context. */
interface JobContext {
  store: ModelStore;
  spec: ModelSpec;
  data: JobData;
  jobId: string;
  started: number;
  progress: Progress;
  log: Logger;
}

/** A candidate to record: the fit thread's outcome and what it was fitted on and judged by. */
interface Candidate {
  source: 'bootstrap' | 'train';
  algorithm: string;
  outcome: StepOutcome;
  batch: LabeledSet;
  /** Its training rows as a list of segments. */
  training: SegmentListRef;
  batchHash: string | null;
  holdoutHash: string | null;
  trusted: string;
  growing: SegmentListRef;
  fromScratch: boolean;
  /** For a bootstrap: what reading the bundled data left out or will fill. */
  dataReport?: DataReport;
}

/**
 * What every history entry of a job says of where it came from: the job, who asked (a token's
 * name and role, never the token) and, for the automation's jobs, why; and when it started.
 */
function jobOrigin(ctx: JobContext): Pick<HistoryEntry, 'job_id' | 'request_id' | 'actor' | 'trigger' | 'started_at'> {
  const { data } = ctx;
  return { job_id: ctx.jobId, request_id: data.request_id, actor: data.actor ?? null, trigger: data.trigger, started_at: new Date(ctx.started).toISOString() };
}

/**
 * Load, fit, evaluate, gate, commit, publish: one job of a model's queue. Appending the
 * history entry is the commit point, and it is exclusive: when another trainer committed
 * first, the candidate is discarded and the job gated again against the new champion. A job
 * that finds its own entry (a re-run after a crash past that point) brings the active file in
 * line and returns the stored result, so a re-run has the same effect as one run. Bad data
 * and damaged files fail at once (UnrecoverableError), naming what is wrong; anything else is
 * retried.
 */
export class TrainPipeline {
  private readonly stores = new Map<string, ModelStore>();
  /** Per model, the active file's stamp when last read and the version it named (see checkActiveKnown). */
  private readonly activeSeen = new Map<string, { stamp: string; version: string | undefined }>();

  constructor(private readonly deps: PipelineDeps) {}

  /** One store per model, kept: it caches history entries and data segments, which never change. Shared with the automation. */
  store(model: string): ModelStore {
    let s = this.stores.get(model);
    if (!s) {
      s = new ModelStore(this.deps.artifactStore ?? this.deps.dataDir, model);
      this.stores.set(model, s);
    }
    return s;
  }

  /** BullMQ processor. */
  async process(job: PipelineJob): Promise<JobResult> {
    const parsed = jobDataSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid job payload: ${parsed.error.message}`);
    const data = parsed.data;
    const spec = this.deps.specs.find((s) => s.name === data.model);
    if (!spec) throw new UnrecoverableError(`unknown model ${data.model}`);
    const ctx: JobContext = {
      store: this.store(spec.name),
      spec,
      data,
      jobId: job.id ?? 'unknown',
      started: Date.now(),
      progress: (stage, percent) => void Promise.resolve(job.updateProgress({ stage, percent })).catch(() => undefined),
      log: this.deps.logger.child({ job_id: job.id, model: spec.name, kind: data.kind, request_id: data.request_id }),
    };
    try {
      // An archived model keeps its files but is trained no more, whatever is still queued for it.
      const archived = await readArchive(this.deps.dataDir, spec.name);
      if (archived) throw new UnrecoverableError(`model ${spec.name} is archived (since ${archived.archived_at}); it is no longer trained`);
      const result = await this.runWithRetries(ctx);
      ctx.progress('done', 100);
      return result;
    } catch (err) {
      if (err instanceof TrainingDataError) throw new UnrecoverableError(err.message);
      if (err instanceof ArtifactError) {
        // Damage no retry can repair: fail now, naming the file (relative to the data directory).
        const message = `${relative(this.deps.dataDir, err.path)}: ${err.kind}: ${err.reason}`;
        ctx.log.error({ err: message }, 'model files damaged; job refused');
        throw new UnrecoverableError(message);
      }
      // Anything else is retried. An I/O error (a full disk) names its file by absolute path;
      // a client reads this message in GET /jobs/:id, so it names it as above, from the data
      // directory: the server's paths stay on the server.
      if (err instanceof Error) err.message = err.message.split(`${this.deps.dataDir}${sep}`).join('');
      throw err;
    }
  }

  private async runWithRetries(ctx: JobContext): Promise<JobResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.runOnce(ctx);
      } catch (err) {
        if (!(err instanceof CommitConflictError) || attempt >= MAX_COMMIT_ATTEMPTS) throw err;
        ctx.log.info({ seq: err.seq, attempt }, 'another trainer committed first; gating again against the new champion');
      }
    }
  }

  private async runOnce(ctx: JobContext): Promise<JobResult> {
    const { store, data, jobId } = ctx;
    let head = await store.head();
    await this.checkActiveKnown(store);
    const committed = await store.history.findJob(jobId);
    if (committed) {
      if (data.kind !== 'bootstrap') ctx.log.info({ seq: committed.seq }, 'job already committed (a re-run); returning its result');
      await this.activate(store, head?.state.active);
      return committed.result as unknown as JobResult;
    }
    if (!head) {
      // The model has no version yet. A job that reached the queue before the bootstrap (e.g.
      // queued while no trainer ran) bootstraps first, under the bootstrap job's own id.
      const boot = await this.bootstrap({ ...ctx, jobId: bootstrapJobId(ctx.spec.name) });
      if (data.kind === 'bootstrap') return boot;
      head = await store.head();
      if (!head) throw new Error('bootstrap left no history entry');
    }
    switch (data.kind) {
      case 'bootstrap':
        // Already bootstrapped (an earlier start, or another replica): nothing to do.
        await this.activate(store, head.state.active);
        return (await store.history.sync())[0]?.result as unknown as JobResult;
      case 'reset':
        return this.reset(ctx, head);
      case 'rollback':
        return this.rollback(ctx, data, head);
      case 'trusted_eval':
        return this.changeTrusted(ctx, data, head);
      case 'train':
        return this.train(ctx, data, head);
    }
  }

  /**
   * Refuses to go on when `model_active.json` names a version the history never recorded. The
   * file is written only after a commit, so the history has lost its newest entries (or the
   * file was replaced by hand): a commit now would take the lost entries' places and numbers,
   * and rewriting the file would erase the evidence. A damaged file is no such evidence (it
   * is a copy, repaired at the next activation). Read once per change of the file's stamp.
   */
  private async checkActiveKnown(store: ModelStore): Promise<void> {
    const stamp = JSON.stringify((await store.statActive()) ?? null);
    const seen = this.activeSeen.get(store.model);
    let version = seen?.stamp === stamp ? seen.version : undefined;
    if (seen?.stamp !== stamp) {
      version = (await store.readActive().catch(() => undefined))?.version;
      this.activeSeen.set(store.model, { stamp, version });
    }
    // Read after the file: an entry committed before the file was written is in this sync.
    if (version === undefined || (await store.history.sync()).some((e) => e.version === version)) return;
    throw new ArtifactError(
      'inconsistent',
      store.activePath,
      `holds ${version}, which the history does not know: the history has lost its newest entries, and a commit now would take their place. Restore history/ from a backup, or remove model_active.json if it was replaced by hand`,
    );
  }

  /**
   * The rows a model starts from: a registered model's came with its registration and wait in
   * a segment (`spec.json` says which); a built-in model's are its bundled CSV.
   */
  private async bootstrapData(store: ModelStore, spec: ModelSpec): Promise<{ set: LabeledSet; report: DataReport }> {
    const registration = await readRegistration(this.deps.dataDir, spec.name);
    if (registration) return { set: await store.segments.get(registration.bootstrap.segment), report: registration.bootstrap.report };
    const dataset = await loadBundledDataset(this.deps.datasetsDir, spec);
    return { set: dataset.set, report: dataReportOf(dataset) };
  }

  private async bootstrap(ctx: JobContext): Promise<JobResult> {
    const { store, spec, progress } = ctx;
    progress('loading', 5);
    const dataset = await this.bootstrapData(store, spec);
    ctx.log.info(dataset.report, 'bootstrap data read');
    progress('fitting', 10);
    const outcome = await this.deps.fitThread.run(
      { kind: 'bootstrap', spec, algorithm: spec.algorithm, hyperparameters: spec.hyperparameters, data: dataset.set },
      (f) => progress('fitting', 10 + Math.round(f * 70)),
    );
    progress('publishing', 90);
    const trainHash = await store.segments.put(outcome.batchTrain);
    const trusted = await store.segments.put(outcome.batchHoldout);
    return this.record(ctx, undefined, {
      source: 'bootstrap',
      algorithm: spec.algorithm,
      outcome,
      batch: { x: [], y: [] },
      training: await store.lists.append(EMPTY_LIST, [trainHash]),
      batchHash: null,
      holdoutHash: null,
      trusted,
      growing: EMPTY_LIST,
      fromScratch: true,
      dataReport: dataset.report,
    });
  }

  private async train(ctx: JobContext, data: Extract<JobData, { kind: 'train' }>, head: HistoryEntry): Promise<JobResult> {
    const { store, spec, progress } = ctx;
    progress('loading', 5);
    const state = head.state;
    // The rows go to the fit thread as segment hashes: it keeps the rows it was sent and the
    // joins it made, so a job neither joins nor posts the whole data again (see RowCache).
    const [champion, parent, growing] = await Promise.all([store.readVersion(state.active), store.readVersionData(state.active), store.lists.items(state.growing)]);
    const accumulated = data.retrain_from_scratch ? [] : await store.lists.items(parent.training);
    const algorithm = data.algorithm ?? spec.algorithm;
    progress('fitting', 10);
    const outcome = await this.deps.fitThread.run(
      {
        kind: 'train',
        spec,
        algorithm,
        hyperparameters: data.hyperparameters ?? (algorithm === spec.algorithm ? spec.hyperparameters : {}),
        champion: { algorithm: champion.body.algorithm, params: champion.body.params, preprocessing: champion.body.preprocessing ?? null },
        accumulated: { segments: accumulated },
        trusted: { segments: [state.trusted] },
        growing: { segments: growing },
        batch: data.samples,
        fromScratch: data.retrain_from_scratch,
        policy: data.policy,
      },
      (f) => progress('fitting', 10 + Math.round(f * 70)),
      (hash) => store.segments.get(hash),
    );
    progress('publishing', 90);
    const [batchHash, trainHash, holdoutHash] = await Promise.all([
      store.segments.put(data.samples),
      store.segments.put(outcome.batchTrain),
      outcome.batchHoldout.y.length > 0 ? store.segments.put(outcome.batchHoldout) : Promise.resolve(null),
    ]);
    const result = await this.record(ctx, head, {
      source: 'train',
      algorithm,
      outcome,
      batch: data.samples,
      training: await store.lists.append(data.retrain_from_scratch ? EMPTY_LIST : parent.training, [trainHash]),
      batchHash,
      holdoutHash,
      trusted: state.trusted,
      growing: state.growing,
      fromScratch: data.retrain_from_scratch,
    });
    ctx.log.info(
      { status: result.status, version: result.model_version, accuracy_new: result.accuracy_new, accuracy_previous: result.accuracy_previous, violations: result.violations.map((v) => v.code) },
      'job decided',
    );
    this.deps.emit?.(result.status === 'activated' ? 'model.activated' : 'model.rejected', decisionEventData(ctx.jobId, data, result), ctx.jobId);
    return result;
  }

  /**
   * Writes the candidate under `versions/`, then commits its entry. Losing the commit race
   * removes the candidate (no folder outlives a lost race) and throws CommitConflictError.
   */
  private async record(ctx: JobContext, head: HistoryEntry | undefined, c: Candidate): Promise<JobResult> {
    const { store, spec, jobId } = ctx;
    const n = (head?.state.n_versions ?? 0) + 1;
    const o = c.outcome;
    const artifact = buildArtifact(n, {
      model: spec.name,
      algorithm: c.algorithm,
      classes: [...spec.target.classes],
      features: spec.features.map((f) => f.name),
      hyperparameters: o.hyperparameters as Record<string, unknown>,
      seed: spec.seed,
      ...(o.preprocessing ? { preprocessing: o.preprocessing } : {}),
      params: o.params,
      // The artifact (hashed) keeps the fit's summary; the loss per iteration goes to the result only.
      training: { data_hash: o.dataHash, n_samples: o.nTraining, fit: { iterations: o.fit.iterations, converged: o.fit.converged, final_loss: o.fit.final_loss } },
    });
    const d = o.decision;
    const active = head?.state.active ?? null;
    const stateAfter: ModelState = d.activated
      ? { active: artifact.version, n_versions: n, trusted: c.trusted, growing: c.holdoutHash ? await store.lists.append(c.growing, [c.holdoutHash]) : c.growing }
      : { ...(head as HistoryEntry).state, n_versions: n };
    const trustedRows = (await store.segments.get(stateAfter.trusted)).y.length;
    const result = decisionResult(spec.name, artifact.version, active, d, {
      nTraining: o.nTraining,
      nBatch: c.batch.y.length,
      holdout: c.source === 'bootstrap' ? 0 : o.batchHoldout.y.length,
      trustedSetSize: trustedRows,
      fit: o.fit,
      fitMs: o.fitMs,
      durationMs: Date.now() - ctx.started,
    });
    if (c.dataReport) result.data_report = c.dataReport;
    const entry: HistoryEntry = {
      seq: (head?.seq ?? 0) + 1,
      version: artifact.version,
      source: c.source,
      status: d.activated ? 'activated' : 'rejected',
      ...jobOrigin(ctx),
      created_at: artifact.created_at,
      active_before: active,
      active_after: stateAfter.active,
      algorithm: c.algorithm,
      retrain_from_scratch: c.fromScratch,
      n_batch_samples: result.n_batch_samples,
      n_training_samples: o.nTraining,
      accuracy_new: result.accuracy_new,
      accuracy_previous: result.accuracy_previous,
      eval_set: { size: d.challenger.n, trusted: d.trusted.n, growing: d.growing?.n ?? 0 },
      data_hash: o.dataHash,
      result: result as unknown as Record<string, unknown>,
      duration_ms: result.duration_ms,
      state: stateAfter,
    };
    try {
      await store.writeCandidate(artifact, {
        job_id: jobId,
        parent: active,
        training: c.training,
        batch: c.batchHash,
        batch_holdout: c.holdoutHash,
        trusted: c.trusted,
        growing: c.growing,
        entry,
      });
      await store.commit(entry);
    } catch (err) {
      // No folder outlives an attempt that did not commit it: a lost race, or a write that
      // failed (a full disk), whose job runs again or fails; otherwise a later job would take
      // the same number and two candidates would claim it. Kept if the history holds this very
      // candidate (the winner committed the same one, or the entry landed before the error).
      const entries = await store.history.sync().catch(() => undefined);
      if (entries && !entries.some((e) => e.version === artifact.version)) await store.removeCandidate(artifact.version).catch(() => undefined);
      throw err;
    }
    if (d.activated) await this.activate(store, stateAfter.active);
    return result;
  }

  /** Back to the bootstrap version, its training rows and no growing rows; the trusted rows stay. */
  private async reset(ctx: JobContext, head: HistoryEntry): Promise<JobResult> {
    const boot = (await ctx.store.history.sync())[0];
    if (boot?.source !== 'bootstrap') throw new ArtifactError('inconsistent', ctx.store.history.dir, 'the first history entry is not a bootstrap');
    const active = head.state.active;
    return this.reactivate(ctx, head, boot, {
      source: 'reset',
      growing: EMPTY_LIST,
      reason: 'reset to the bootstrap version on request',
      message: `model reset: ${boot.version} (bootstrap) is active again${active !== boot.version ? `, replacing ${active}` : ''}; the growing evaluation rows are cleared, the trusted ones kept; history kept`,
    });
  }

  /**
   * Activates a kept candidate again. The next incremental job starts from its training rows
   * and the growing rows it left (its own slice included if it had been activated); the
   * trusted rows stay as the admin set them. Already active: a no-op result, no entry.
   */
  private async rollback(ctx: JobContext, data: Extract<JobData, { kind: 'rollback' }>, head: HistoryEntry): Promise<JobResult> {
    const { store, spec } = ctx;
    const target = (await store.history.sync()).find((e) => e.version === data.version && (e.source === 'bootstrap' || e.source === 'train'));
    if (!target) throw new TrainingDataError(`version ${data.version} is not a committed candidate of model ${spec.name}`);
    const active = head.state.active;
    // The growing rows as this version left them: after its own activation, its entry's state.
    const growing = target.status === 'activated' ? target.state.growing : (await store.readVersionData(data.version)).growing;
    return this.reactivate(ctx, head, target, {
      source: 'rollback',
      growing,
      reason: `rollback to ${data.version} on request${data.reason ? `: ${data.reason}` : ''}`,
      message: active === data.version ? `${data.version} is already active; nothing to do` : `rolled back: ${data.version} is active again, replacing ${active}`,
      noOpWhenActive: true,
    });
  }

  /**
   * Makes the candidate that `target` recorded live again (a reset or a rollback): an entry
   * that copies the target's, with the model's state after it, then the active file. The
   * result is the target's result, re-labelled.
   */
  private async reactivate(
    ctx: JobContext,
    head: HistoryEntry,
    target: HistoryEntry,
    how: { source: 'reset' | 'rollback'; growing: SegmentListRef; reason: string; message: string; noOpWhenActive?: boolean },
  ): Promise<JobResult> {
    const { store, data, jobId } = ctx;
    const active = head.state.active;
    const trustedRows = (await store.segments.get(head.state.trusted)).y.length;
    const result: JobResult = {
      ...(target.result as unknown as JobResult),
      status: 'activated',
      model_version: target.version,
      active_version: target.version,
      model_updated: active !== target.version,
      message: how.message,
      reason: how.reason,
      violations: [],
      n_batch_samples: 0,
      batch_holdout: 0,
      trusted_set_size: trustedRows,
      duration_ms: Date.now() - ctx.started,
    };
    if (how.noOpWhenActive && active === target.version) return result;
    const growingRows = await store.rowCount(how.growing);
    await store.commit({
      ...target,
      seq: head.seq + 1,
      source: how.source,
      status: 'activated',
      ...jobOrigin(ctx),
      created_at: new Date().toISOString(),
      active_before: active,
      active_after: target.version,
      n_batch_samples: 0,
      eval_set: { size: trustedRows + growingRows, trusted: trustedRows, growing: growingRows },
      result: result as unknown as Record<string, unknown>,
      duration_ms: result.duration_ms,
      state: { active: target.version, n_versions: head.state.n_versions, trusted: head.state.trusted, growing: how.growing },
    });
    ctx.log.info({ version: target.version, previous: active, source: how.source }, 'version activated again');
    await this.activate(store, target.version);
    this.deps.emit?.('model.rolled_back', rollbackEventData(store.model, jobId, data, how, active, target.version), jobId);
    return result;
  }

  /** An admin's change to the trusted evaluation rows: a history entry, no new version. */
  private async changeTrusted(ctx: JobContext, data: Extract<JobData, { kind: 'trusted_eval' }>, head: HistoryEntry): Promise<JobResult> {
    const { store, spec } = ctx;
    const before = await store.segments.get(head.state.trusted);
    const next = data.mode === 'replace' ? data.samples : concatSets(before, data.samples);
    checkTrustedSet(next, { classes: spec.target.classes, features: spec.features });
    const trusted = await store.segments.put(next);
    const stateAfter: ModelState = { ...head.state, trusted };
    const active = head.state.active;
    const verb = data.mode === 'replace' ? 'replaced' : 'extended';
    const result: JobResult = {
      status: 'applied',
      model: spec.name,
      model_version: active,
      active_version: active,
      accuracy_new: null,
      accuracy_previous: null,
      model_updated: false,
      message: `trusted evaluation rows ${verb}: ${next.y.length} rows (were ${before.y.length}); ${active} stays active and every later candidate is judged on them`,
      policy: null,
      guardrails: spec.guardrails,
      reason: `trusted evaluation rows ${verb} on request`,
      violations: [],
      challenger: null,
      champion: null,
      paired: null,
      trusted: null,
      growing: null,
      n_training_samples: 0,
      n_batch_samples: data.samples.y.length,
      batch_holdout: 0,
      eval_set_size: next.y.length,
      trusted_set_size: next.y.length,
      fit: null,
      fit_ms: null,
      duration_ms: Date.now() - ctx.started,
    };
    await store.commit({
      seq: head.seq + 1,
      version: active,
      source: 'trusted_eval',
      status: 'applied',
      ...jobOrigin(ctx),
      created_at: new Date().toISOString(),
      active_before: active,
      active_after: active,
      algorithm: head.algorithm,
      retrain_from_scratch: false,
      n_batch_samples: data.samples.y.length,
      n_training_samples: 0,
      accuracy_new: null,
      accuracy_previous: null,
      eval_set: { size: next.y.length, trusted: next.y.length, growing: 0 },
      data_hash: trusted,
      result: result as unknown as Record<string, unknown>,
      duration_ms: result.duration_ms,
      state: stateAfter,
    });
    ctx.log.info({ rows: next.y.length, mode: data.mode }, 'trusted evaluation rows changed');
    return result;
  }

  /**
   * Brings the active file in line with `version` (the committed active one) and announces it.
   * Runs after a commit, which is the job's point of no return: the history already says what
   * is live and readers follow it when the copy lags, so a failure here (a full disk, Redis
   * down) is logged, not thrown. Thrown, the job would be retried and, once out of attempts,
   * reported failed while its entry took effect. The next job or trainer start catches the
   * copy up; the API's poll the announcement.
   */
  private async activate(store: ModelStore, version: string | undefined): Promise<void> {
    try {
      const applied = await store.applyActive(version);
      if (applied) await this.deps.publish(store.model, applied);
    } catch (err) {
      const message = err instanceof Error ? err.message.split(`${this.deps.dataDir}${sep}`).join('') : String(err);
      this.deps.logger.warn({ model: store.model, version, err: message }, 'committed, but updating model_active.json or announcing it failed; readers follow the history');
    }
  }

}

/** The job result of a gated candidate (or a bootstrap), in the lab's field names plus the gate's. */
function decisionResult(
  model: string,
  version: string,
  active: string | null,
  d: GateDecision,
  n: { nTraining: number; nBatch: number; holdout: number; trustedSetSize: number; fit: JobResult['fit']; fitMs: number; durationMs: number },
): JobResult {
  const rows = `${d.challenger.n} evaluation rows (${d.trusted.n} trusted, ${d.growing?.n ?? 0} growing)`;
  return {
    status: d.activated ? 'activated' : 'rejected',
    model,
    model_version: version,
    active_version: d.activated ? version : (active as string),
    accuracy_new: d.challenger.accuracy,
    accuracy_previous: d.champion?.accuracy ?? null,
    model_updated: d.activated,
    message: d.activated
      ? `model updated: ${version} is now active (accuracy ${fmt(d.challenger.accuracy)}${d.champion ? ` vs ${fmt(d.champion.accuracy)}` : ''} on ${rows})`
      : `model not updated: ${version} rejected, ${active} stays active; ${d.reason}`,
    policy: d.policy,
    guardrails: d.guardrails,
    reason: d.reason,
    violations: d.violations,
    challenger: d.challenger,
    champion: d.champion,
    paired: d.paired,
    trusted: d.trusted,
    growing: d.growing,
    n_training_samples: n.nTraining,
    n_batch_samples: n.nBatch,
    batch_holdout: n.holdout,
    eval_set_size: d.challenger.n,
    trusted_set_size: n.trustedSetSize,
    fit: n.fit,
    fit_ms: Math.round(n.fitMs * 100) / 100,
    duration_ms: n.durationMs,
  };
}

const fmt = (v: number): string => v.toFixed(4);
