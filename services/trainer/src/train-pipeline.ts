import { getModelSpec, setHash, TrainingDataError, type LabeledSet, type ModelSpec } from '@ct/core';
import { bootstrapJobId, jobDataSchema, type JobData, type JobProgress, type JobResult } from '@ct/queue';
import { buildArtifact, ModelStore, type History, type HistoryEntry } from '@ct/registry';
import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { FitThreadClient } from './fit-thread-client';
import { loadBundledDataset } from './load-dataset';
import type { StepOutcome } from './step-task';

/** What the pipeline needs from its surroundings. */
export interface PipelineDeps {
  dataDir: string;
  datasetsDir: string;
  fitThread: FitThreadClient;
  /** Announces an activation (Redis pub/sub); the API also polls, so a lost message only delays. */
  publish: (model: string, version: string) => Promise<void>;
  logger: Logger;
}

/** The job as the pipeline sees it: BullMQ's Job, narrowed to what is used (tests pass real jobs). */
export type PipelineJob = Pick<Job<unknown, JobResult>, 'id' | 'data' | 'updateProgress'>;

const EMPTY: LabeledSet = { x: [], y: [] };

/** A committed attempt's result and the history that now ends with it. */
interface Recorded {
  result: JobResult;
  history: History;
}

/**
 * Load, fit, evaluate, gate, publish: one job of a model's queue. The history entry is the
 * commit point. A job that finds its own entry (it was re-run after a crash past that point)
 * repairs the derived files and returns the stored result, so a re-run has the same effect as
 * one run. Bad data throws UnrecoverableError (no retry); anything else is retried.
 */
export class TrainPipeline {
  constructor(private readonly deps: PipelineDeps) {}

  /** BullMQ processor. */
  async process(job: PipelineJob): Promise<JobResult> {
    const parsed = jobDataSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid job payload: ${parsed.error.message}`);
    const data = parsed.data;
    const spec = getModelSpec(data.model);
    if (!spec) throw new UnrecoverableError(`unknown model ${data.model}`);
    const jobId = job.id ?? 'unknown';
    const store = new ModelStore(this.deps.dataDir, spec.name);
    const log = this.deps.logger.child({ job_id: jobId, model: spec.name, kind: data.kind, request_id: data.request_id });

    // The history is read once here and passed along; a model's jobs are serialized, and
    // train() re-reads it once before committing to check that nothing else committed.
    let history = await store.readHistory();
    const committed = history.entries.find((e) => e.job_id === jobId);
    if (committed) {
      log.warn('job already committed; repairing derived files and returning its result');
      await this.activate(store, spec.name, history.entries.at(-1)?.active_after);
      return committed.result as unknown as JobResult;
    }
    const started = Date.now();
    const progress = (stage: JobProgress['stage'], percent: number): void => {
      void Promise.resolve(job.updateProgress({ stage, percent })).catch(() => undefined);
    };
    try {
      if (data.kind !== 'bootstrap' && history.entries.length === 0) {
        // A job that reached the queue before the model's bootstrap (e.g. queued while no
        // trainer ran): bootstrap first, under the bootstrap job's own id, then do the job.
        const boot = { kind: 'bootstrap' as const, model: spec.name, request_id: data.request_id, body_hash: '' };
        history = (await this.bootstrap(store, spec, boot, bootstrapJobId(spec.name), started, progress, history)).history;
      }
      let result: JobResult;
      if (data.kind === 'bootstrap') {
        result = (await this.bootstrap(store, spec, data, jobId, started, progress, history)).result;
      } else if (data.kind === 'reset') {
        result = await this.reset(store, data, jobId, started, history);
      } else {
        result = await this.train(store, spec, data, jobId, started, progress, log, history);
      }
      progress('done', 100);
      return result;
    } catch (err) {
      if (err instanceof TrainingDataError) throw new UnrecoverableError(err.message);
      throw err;
    }
  }

  private async bootstrap(
    store: ModelStore,
    spec: ModelSpec,
    data: JobData,
    jobId: string,
    started: number,
    progress: (stage: JobProgress['stage'], percent: number) => void,
    history: History,
  ): Promise<Recorded> {
    const first = history.entries[0];
    if (first) {
      // Already bootstrapped (another replica, or an earlier start): nothing to do.
      await this.activate(store, spec.name, history.entries.at(-1)?.active_after);
      return { result: first.result as unknown as JobResult, history };
    }
    progress('loading', 5);
    const dataset = await loadBundledDataset(this.deps.datasetsDir, spec);
    progress('fitting', 10);
    const outcome = await this.deps.fitThread.run(
      { kind: 'bootstrap', model: spec.name, algorithm: spec.algorithm, hyperparameters: {}, data: dataset },
      (f) => progress('fitting', 10 + Math.round(f * 70)),
    );
    progress('publishing', 90);
    return this.record(store, spec, data, jobId, started, outcome, history, { source: 'bootstrap', algorithm: spec.algorithm, batch: EMPTY, active: null, fromScratch: true });
  }

  private async train(
    store: ModelStore,
    spec: ModelSpec,
    data: Extract<JobData, { kind: 'train' }>,
    jobId: string,
    started: number,
    progress: (stage: JobProgress['stage'], percent: number) => void,
    log: Logger,
    history: History,
  ): Promise<JobResult> {
    progress('loading', 5);
    const active = history.entries.at(-1)?.active_after;
    if (!active) throw new Error('model has no active version yet');
    const champion = await store.readVersion(active);
    const state = await store.readTrainingState(active);
    const algorithm = data.algorithm ?? spec.algorithm;
    progress('fitting', 10);
    const outcome = await this.deps.fitThread.run(
      {
        kind: 'train',
        model: spec.name,
        algorithm,
        hyperparameters: {},
        champion: { algorithm: champion.body.algorithm, params: champion.body.params },
        accumulated: state.accumulated,
        evalSet: state.evalSet,
        batch: data.samples,
        fromScratch: data.retrain_from_scratch,
        policy: data.policy,
      },
      (f) => progress('fitting', 10 + Math.round(f * 70)),
    );
    progress('publishing', 90);
    // Compare-and-swap: nothing may have been committed since this job read the history, so
    // the champion it was gated against is still the live one and its version number is
    // free. Jobs of a model are serialized, so this only trips if that guarantee is broken;
    // the retry then gates against the new champion.
    const now = await store.readHistory();
    if (now.entries.length !== history.entries.length) {
      throw new Error(`history changed during the job (active ${active} -> ${String(now.entries.at(-1)?.active_after)})`);
    }
    const { result } = await this.record(store, spec, data, jobId, started, outcome, now, {
      source: 'train',
      algorithm,
      batch: data.samples,
      active,
      fromScratch: data.retrain_from_scratch,
    });
    log.info({ status: result.status, version: result.model_version, accuracy_new: result.accuracy_new, accuracy_previous: result.accuracy_previous }, 'job decided');
    return result;
  }

  private async record(
    store: ModelStore,
    spec: ModelSpec,
    data: JobData,
    jobId: string,
    started: number,
    outcome: StepOutcome,
    history: History,
    ctx: { source: 'bootstrap' | 'train'; algorithm: string; batch: LabeledSet; active: string | null; fromScratch: boolean },
  ): Promise<Recorded> {
    const n = history.entries.filter((e) => e.source !== 'reset').length + 1;
    const dataHash = setHash(outcome.trainingSet);
    const artifact = buildArtifact(n, {
      model: spec.name,
      algorithm: ctx.algorithm,
      classes: [...spec.classes],
      features: spec.features.map((f) => f.name),
      hyperparameters: outcome.hyperparameters as Record<string, unknown>,
      seed: spec.seed,
      params: outcome.params,
      training: { data_hash: dataHash, n_samples: outcome.trainingSet.y.length, fit: outcome.fit },
    });
    await store.writeCandidate(artifact, {
      format_version: 1,
      job_id: jobId,
      training_set: outcome.trainingSet,
      eval_set: outcome.evalSet,
      batch: ctx.batch,
    });
    const d = outcome.decision;
    const activated = d.activated;
    const activeAfter = activated ? artifact.version : (ctx.active as string);
    const result: JobResult = {
      status: activated ? 'activated' : 'rejected',
      model: spec.name,
      model_version: artifact.version,
      active_version: activeAfter,
      accuracy_new: d.challenger.accuracy,
      accuracy_previous: d.champion?.accuracy ?? null,
      model_updated: activated,
      message: activated
        ? `model updated: ${artifact.version} is now active (accuracy ${fmt(d.challenger.accuracy)}${d.champion ? ` vs ${fmt(d.champion.accuracy)}` : ''} on ${d.challenger.n} evaluation rows)`
        : `model not updated: ${artifact.version} rejected, ${ctx.active} stays active; ${d.reason}`,
      policy: d.policy,
      reason: d.reason,
      violations: d.violations,
      challenger: d.challenger,
      champion: d.champion,
      paired: d.paired,
      n_training_samples: outcome.trainingSet.y.length,
      n_batch_samples: ctx.batch.y.length,
      batch_holdout: outcome.batchHoldout,
      eval_set_size: outcome.evalSet.y.length,
      fit: outcome.fit,
      duration_ms: Date.now() - started,
    };
    const entry: HistoryEntry = {
      version: artifact.version,
      source: ctx.source,
      status: result.status,
      job_id: jobId,
      request_id: data.request_id,
      created_at: artifact.created_at,
      active_before: ctx.active,
      active_after: activeAfter,
      algorithm: ctx.algorithm,
      retrain_from_scratch: ctx.fromScratch,
      n_batch_samples: result.n_batch_samples,
      n_training_samples: result.n_training_samples,
      accuracy_new: result.accuracy_new,
      accuracy_previous: result.accuracy_previous,
      eval_set: { size: outcome.evalSet.y.length, hash: setHash(outcome.evalSet) },
      data_hash: dataHash,
      result: result as unknown as Record<string, unknown>,
      duration_ms: result.duration_ms,
    };
    const next = await store.commit(entry, history);
    if (activated) await this.activate(store, spec.name, activeAfter);
    return { result, history: next };
  }

  private async reset(store: ModelStore, data: JobData, jobId: string, started: number, history: History): Promise<JobResult> {
    const boot = history.entries.find((e) => e.source === 'bootstrap');
    if (!boot) throw new Error('model has no bootstrap version');
    const active = history.entries.at(-1)?.active_after ?? null;
    const result: JobResult = {
      ...(boot.result as unknown as JobResult),
      status: 'activated',
      model_version: boot.version,
      active_version: boot.version,
      model_updated: active !== boot.version,
      message: `model reset: ${boot.version} (bootstrap) is active again${active && active !== boot.version ? `, replacing ${active}` : ''}; history kept`,
      reason: 'reset to the bootstrap version on request',
      violations: [],
      n_batch_samples: 0,
      batch_holdout: 0,
      duration_ms: Date.now() - started,
    };
    await store.commit({
      ...boot,
      source: 'reset',
      status: 'activated',
      job_id: jobId,
      request_id: data.request_id,
      created_at: new Date().toISOString(),
      active_before: active,
      active_after: boot.version,
      n_batch_samples: 0,
      result: result as unknown as Record<string, unknown>,
      duration_ms: result.duration_ms,
    }, history);
    await this.activate(store, data.model, boot.version);
    return result;
  }

  /** Brings the derived files in line with `version` (the committed active one) and announces it. */
  private async activate(store: ModelStore, model: string, version: string | undefined): Promise<void> {
    const applied = await store.applyActive(version);
    if (applied) await this.deps.publish(model, applied);
  }
}

const fmt = (v: number): string => v.toFixed(4);
