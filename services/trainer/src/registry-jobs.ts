import { checkBootstrapSet, DEFAULT_MODEL, TrainingDataError, type ModelSpec } from '@ct/core';
import { bootstrapJobId, registryJobDataSchema, type ArchiveResult, type EmitWebhookEvent, type JobResult, type RegistryJobData, type RegistryJobResult } from '@ct/queue';
import {
  ArtifactError,
  createArchive,
  createRegistration,
  ModelStore,
  parseRegisteredSpec,
  readArchive,
  readRegistration,
  SpecError,
  whyModelNameTaken,
} from '@ct/registry';
import { UnrecoverableError, type Job } from 'bullmq';
import { relative } from 'node:path';
import type { Logger } from 'pino';
import type { TrainPipeline } from './train-pipeline';

/** What the registry jobs need from the trainer. */
export interface RegistryJobsDeps {
  dataDir: string;
  /** Every built-in spec: names a registration may not take, models an archive may mark. */
  catalog: readonly ModelSpec[];
  pipeline: TrainPipeline;
  /** Starts this trainer's worker of the model's queue (a no-op when it runs). */
  startModel: (spec: ModelSpec) => Promise<void>;
  /** Stops this trainer's worker of the model's queue. */
  stopModel: (model: string) => void;
  /** Tells every replica (Redis pub/sub); their scans of the volume cover a lost message. */
  announce: (event: 'registered' | 'archived', model: string) => Promise<void>;
  /** Webhook events `model.registered` and `model.archived` (fire and forget); none when absent. */
  emit?: EmitWebhookEvent;
  logger: Logger;
}

/** The job as the registry sees it: BullMQ's Job, narrowed to what is used. */
export type RegistryJob = Pick<Job<unknown, RegistryJobResult>, 'id' | 'data' | 'updateProgress'>;

/**
 * The jobs of the registry queue: `register` writes `models/<name>/spec.json` and the
 * bootstrap rows, starts the model's worker, announces it, and bootstraps it with the same
 * pipeline as a built-in model (under the bootstrap's own job id, so a bootstrap queued by a
 * trainer's start-up and this one commit entry 1 once: the entry is created exclusively);
 * `archive` writes `models/<name>/archived.json`. Both are safe to re-run: a job that finds its
 * own record goes on from there.
 */
export class RegistryJobs {
  constructor(private readonly deps: RegistryJobsDeps) {}

  /** BullMQ processor of the registry queue. */
  async process(job: RegistryJob): Promise<RegistryJobResult> {
    const parsed = registryJobDataSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid registry job payload: ${parsed.error.message}`);
    const data = parsed.data;
    const jobId = job.id ?? 'unknown';
    const log = this.deps.logger.child({ job_id: jobId, model: data.model, kind: data.kind, request_id: data.request_id });
    try {
      return data.kind === 'register' ? await this.register(job, jobId, data, log) : await this.archive(jobId, data, log);
    } catch (err) {
      if (err instanceof TrainingDataError || err instanceof SpecError) throw new UnrecoverableError(err.message);
      if (err instanceof ArtifactError) throw new UnrecoverableError(`${relative(this.deps.dataDir, err.path)}: ${err.kind}: ${err.reason}`);
      throw err;
    }
  }

  private async register(job: RegistryJob, jobId: string, data: Extract<RegistryJobData, { kind: 'register' }>, log: Logger): Promise<JobResult> {
    const { dataDir } = this.deps;
    const spec = parseRegisteredSpec(data.spec, 'spec');
    if (spec.name !== data.model) throw new UnrecoverableError(`the job is for model ${data.model} but its spec names ${spec.name}`);
    const mine = (await readRegistration(dataDir, spec.name))?.job_id === jobId;
    if (!mine) {
      const taken = await whyModelNameTaken(dataDir, this.deps.catalog.map((s) => s.name), spec.name);
      if (taken) throw new UnrecoverableError(taken);
      checkBootstrapSet(data.data, { classes: spec.target.classes, features: spec.features, evalFraction: spec.eval_fraction, seed: spec.seed });
      // The rows first, then the record that points at them: a reader never finds a spec.json
      // whose rows are not there yet.
      const segment = await new ModelStore(dataDir, spec.name).segments.put(data.data);
      const created = await createRegistration(dataDir, {
        spec,
        bootstrap: { segment, report: data.data_report },
        registered_at: new Date().toISOString(),
        source: data.source,
        file: data.file,
        request_id: data.request_id,
        actor: data.actor ?? null,
        job_id: jobId,
      });
      // Lost to a registration of the same name on another replica, between the check and the write.
      if (!created && (await readRegistration(dataDir, spec.name))?.job_id !== jobId) throw new UnrecoverableError(`model ${spec.name} already exists (registered meanwhile)`);
      log.info({ rows: data.data.y.length, source: data.source, file: data.file }, 'model registered');
    }
    await this.deps.startModel(spec);
    await this.deps.announce('registered', spec.name);
    // Keyed by the job: a re-run after a crash emits the same message, delivered once.
    this.deps.emit?.('model.registered', { model: spec.name, source: data.source, file: data.file ?? null, job_id: jobId, request_id: data.request_id, actor: data.actor?.name ?? null }, jobId);
    const boot = await this.deps.pipeline.process({
      id: bootstrapJobId(spec.name),
      data: { kind: 'bootstrap', model: spec.name, request_id: data.request_id, body_hash: '' },
      updateProgress: (p) => job.updateProgress(p),
    });
    return { ...boot, message: `model ${spec.name} registered (${data.source === 'api' ? 'POST /models' : data.file ?? 'inbox'}) and bootstrapped: ${boot.message}` };
  }

  private async archive(jobId: string, data: Extract<RegistryJobData, { kind: 'archive' }>, log: Logger): Promise<ArchiveResult> {
    const { dataDir } = this.deps;
    const model = data.model;
    if (model === DEFAULT_MODEL) throw new UnrecoverableError(`the default model ${DEFAULT_MODEL} cannot be archived: the lab's paths (/predict, /train, /model/info) serve it`);
    if (!this.deps.catalog.some((s) => s.name === model) && !(await readRegistration(dataDir, model))) throw new UnrecoverableError(`unknown model ${model}`);
    const record = { model, archived_at: new Date().toISOString(), request_id: data.request_id, actor: data.actor ?? null, job_id: jobId, reason: data.reason };
    const created = await createArchive(dataDir, record);
    const stored = created ? record : await readArchive(dataDir, model);
    if (!stored) throw new Error(`models/${model}/archived.json vanished after it was found`);
    const mine = stored.job_id === jobId;
    if (mine) {
      // Announced again on a re-run: the first run may have died before it announced.
      await this.deps.announce('archived', model);
      this.deps.stopModel(model);
      log.info({ reason: data.reason }, 'model archived');
      this.deps.emit?.('model.archived', { model, archived_at: stored.archived_at, reason: stored.reason, job_id: jobId, request_id: data.request_id, actor: data.actor?.name ?? null }, jobId);
    }
    return {
      status: 'archived',
      model,
      archived_at: stored.archived_at,
      already_archived: !mine,
      reason: stored.reason,
      message: mine
        ? `model ${model} archived: no longer served or trained; its history and versions are kept`
        : `model ${model} was already archived (${stored.archived_at}); nothing changed`,
    };
  }
}
