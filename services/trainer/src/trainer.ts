import type { ModelSpec } from '@ct/core';
import {
  bootstrapJobId,
  createRedisConnection,
  defaultJobOptions,
  modelArchivedChannel,
  modelEventsChannel,
  modelRegisteredChannel,
  REGISTRY_QUEUE,
  settleWithin,
  trainQueueName,
  type JobData,
  type JobResult,
  type RegistryJobData,
  type RegistryJobResult,
  Webhooks,
  WebhookDelivery,
  type EmitWebhookEvent,
  type WebhookDeliveryOptions,
  type WebhooksOptions,
} from '@ct/queue';
import { AcceptedJobs, ArtifactError, listModelDirs, readArchive, readRegistration, removeStaleTemps, whyModelNameTaken, type ArtifactStore } from '@ct/registry';
import { Queue, Worker } from 'bullmq';
import { AcceptedJobsReconciler } from './accepted-jobs-reconciler';
import { Automation } from './automation';
import { DriftAlerts, type EmitWebhookEventNow } from './drift-alerts';
import { TrainerMetrics } from './trainer-metrics';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import { FitThreadClient } from './fit-thread-client';
import { Inbox } from './inbox';
import { isJobCommitted } from './job-committed';
import { RegistryJobs } from './registry-jobs';
import { TrainPipeline } from './train-pipeline';

/** Settings of a {@link Trainer}. */
export interface TrainerOptions {
  redisUrl: string;
  prefix: string;
  dataDir: string;
  /** The models' artifacts (see PipelineDeps.artifactStore); a DirectoryStore on `dataDir` by default. */
  artifactStore?: ArtifactStore;
  datasetsDir: string;
  /** The built-in models to train (their specs; the catalogue at start). */
  specs: readonly ModelSpec[];
  /**
   * Every built-in spec: names a registration may not take, models an archive may mark.
   * Defaults to `specs` (a trainer given fewer models than the catalogue, in tests, passes it).
   */
  catalog?: readonly ModelSpec[];
  /** How often the inbox and `models/*` are scanned (the fallback of the pub/sub messages); default 2 s. */
  pollIntervalMs?: number;
  /** How often the automatic actions (automation.ts) are evaluated; default 2 s. */
  automationPollMs?: number;
  lockDurationMs: number;
  /** BullMQ's stalled-job check; defaults to BullMQ's 30 s. */
  stalledIntervalMs?: number;
  shutdownTimeoutMs: number;
  logger: Logger;
  /** Compiled fit-thread entry (tests may point elsewhere). */
  fitThreadScript?: string;
  /** Settings of the webhook delivery worker (defaults: 15 s timeout, 5 s base backoff up to 2 h). */
  webhookDelivery?: Pick<WebhookDeliveryOptions, 'backoff' | 'timeoutMs' | 'maxRetryAfterMs' | 'concurrency'>;
  /** Timing of the accepted jobs' reconciler (defaults: a pass every 5 s, records younger than 10 s left alone). */
  acceptedJobs?: { intervalMs?: number; graceMs?: number };
  /** Settings of the webhook messages this trainer queues and logs (defaults: 12 attempts, 500 log entries). */
  webhooks?: Pick<WebhooksOptions, 'attempts' | 'logCap' | 'retentionS'>;
}

/** One model this trainer trains: its queue and the worker that takes the queue's jobs. */
interface ModelWorker {
  queue: Queue<JobData, JobResult>;
  worker: Worker<JobData, JobResult>;
}

const catalogMessageSchema = z.object({ model: z.string() });

const parseJsonOrUndefined = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};

/**
 * The trainer process: one BullMQ worker per model queue, each queue capped at global
 * concurrency 1 (one promotion per model at a time across every replica), one warm fit
 * thread for the CPU-bound work, and a Redis connection for announcements. Models come from
 * the catalogue at start and, at run time, from registrations: the registry queue (global
 * concurrency 1, processed here) registers and archives; this trainer starts a worker for a
 * model it registered at once, and learns of the others' from their `model-registered`
 * message or its scan of `models/*` (at start and every poll interval). It also polls the
 * inbox folder (see Inbox).
 */
export class Trainer {
  private readonly connection: Redis;
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly fitThread: FitThreadClient;
  /** The specs the pipeline knows, built-in then registered; grows as models are registered. */
  private readonly specs: ModelSpec[];
  private readonly catalog: readonly ModelSpec[];
  private readonly models = new Map<string, ModelWorker>();
  /** Models whose worker is being started (between the first await and the map entry). */
  private readonly starting = new Set<string>();
  /** Models known to be archived (an archive is never undone): not looked at again. */
  private readonly archived = new Set<string>();
  /** Files already reported as unreadable, so a bad file is logged once, not every poll. */
  private readonly reported = new Set<string>();
  private pipeline: TrainPipeline | undefined;
  private registryQueue: Queue<RegistryJobData, RegistryJobResult> | undefined;
  private registryWorker: Worker<RegistryJobData, RegistryJobResult> | undefined;
  private inbox: Inbox | undefined;
  private timer: NodeJS.Timeout | undefined;
  private automation: Automation | undefined;
  /** Prometheus metrics of the jobs this trainer ran (served by main.ts on CT_METRICS_PORT). */
  readonly metrics = new TrainerMetrics();
  private polling: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  /** Webhooks: the events this trainer emits, and the worker delivering every trainer's messages. */
  private readonly webhooks: Webhooks;
  private delivery: WebhookDelivery | undefined;
  private readonly emitting = new Set<Promise<unknown>>();
  /** Queues again what the API accepted and Redis lost; removes the records of finished jobs. */
  private reconciler: AcceptedJobsReconciler | undefined;

  constructor(private readonly opts: TrainerOptions) {
    this.connection = createRedisConnection(opts.redisUrl, 'worker', 'ct-trainer');
    this.publisher = createRedisConnection(opts.redisUrl, 'worker', 'ct-trainer-pub');
    this.subscriber = createRedisConnection(opts.redisUrl, 'subscriber', 'ct-trainer-sub');
    this.fitThread = new FitThreadClient(opts.fitThreadScript);
    this.specs = [...opts.specs];
    this.catalog = opts.catalog ?? opts.specs;
    this.webhooks = new Webhooks({ ...opts.webhooks, redis: this.publisher, prefix: opts.prefix });
    for (const c of [this.connection, this.publisher, this.subscriber]) {
      c.on('error', (err: Error) => opts.logger.warn({ err: err.message }, 'redis connection error'));
    }
    // Global concurrency lives in Redis: a Redis restarted empty forgets it, and two trainers
    // would then run two jobs of one model at once. Set it again on every (re)connection; then
    // queue again the accepted jobs an emptied Redis lost (after: one model's jobs stay serial).
    this.connection.on('ready', () => {
      const reasserted = this.allQueues().map(([model, queue]) =>
        queue.setGlobalConcurrency(1).catch((err: Error) => opts.logger.warn({ err: err.message, model }, 'could not re-assert the global concurrency')),
      );
      void Promise.all(reasserted).then(() => this.reconciler?.reconcile());
    });
  }

  /** Queues an event's deliveries; logged, never thrown, and awaited by `close`. */
  private readonly emit: EmitWebhookEvent = (type, data, key) => {
    const p = this.webhooks
      .emit(type, data, key === undefined ? {} : { key })
      .then((r) => r.endpoints.length > 0 && this.opts.logger.info({ event: type, msg_id: r.msg_id, endpoints: r.endpoints.length }, 'webhook event queued'))
      .catch((err: unknown) => this.opts.logger.warn({ event: type, err: String(err) }, 'webhook event not queued'))
      .finally(() => this.emitting.delete(p));
    this.emitting.add(p);
  };

  /** Queues an event's deliveries and resolves when they are (or throws): for what must not be lost, drift alerts. */
  private readonly emitNow: EmitWebhookEventNow = async (type, data, key) => {
    const r = await this.webhooks.emit(type, data, { key });
    if (r.endpoints.length > 0) this.opts.logger.info({ event: type, msg_id: r.msg_id, endpoints: r.endpoints.length }, 'webhook event queued');
    return r;
  };

  /** Every queue this trainer holds, by model name (the registry queue by its own name). */
  private allQueues(): [string, Pick<Queue, 'setGlobalConcurrency' | 'close'>][] {
    const out: [string, Pick<Queue, 'setGlobalConcurrency' | 'close'>][] = [...this.models].map(([m, w]) => [m, w.queue]);
    if (this.registryQueue) out.push([REGISTRY_QUEUE, this.registryQueue]);
    return out;
  }

  private workerOptions() {
    return {
      connection: this.connection,
      prefix: this.opts.prefix,
      concurrency: 1,
      lockDuration: this.opts.lockDurationMs,
      ...(this.opts.stalledIntervalMs ? { stalledInterval: this.opts.stalledIntervalMs } : {}),
    };
  }

  /**
   * Starts the registry worker, a worker per model (built-in and registered, not archived)
   * with a bootstrap job for each (a no-op when it has a version), the announcements'
   * subscription, and the poll of `models/*` and of the inbox.
   */
  async start(): Promise<void> {
    const { logger, prefix } = this.opts;
    // Off the start's path: the temp files of writes a crash cut short (nothing reads them,
    // and a version's can hold all its training rows).
    void removeStaleTemps(this.opts.dataDir).then(
      (removed) => {
        if (removed.length > 0) logger.info({ removed: removed.length, files: removed.slice(0, 20) }, 'removed temp files left by interrupted writes');
      },
      (err: unknown) => logger.warn({ err: String(err) }, 'could not look for temp files left by interrupted writes'),
    );
    const pipeline = new TrainPipeline({
      specs: this.specs,
      dataDir: this.opts.dataDir,
      ...(this.opts.artifactStore ? { artifactStore: this.opts.artifactStore } : {}),
      datasetsDir: this.opts.datasetsDir,
      fitThread: this.fitThread,
      logger,
      publish: async (model, version) => {
        await this.publisher.publish(modelEventsChannel(prefix), JSON.stringify({ model, version }));
        logger.info({ model, version }, 'model activated');
      },
      emit: this.emit,
    });
    this.pipeline = pipeline;

    const registryQueue = new Queue<RegistryJobData, RegistryJobResult>(REGISTRY_QUEUE, { connection: this.connection, prefix, defaultJobOptions });
    this.registryQueue = registryQueue;
    await registryQueue.setGlobalConcurrency(1);
    const registry = new RegistryJobs({
      dataDir: this.opts.dataDir,
      catalog: this.catalog,
      pipeline,
      startModel: (spec) => this.startModel(spec, false),
      stopModel: (model) => this.stopModel(model),
      announce: async (event, model) => {
        const channel = event === 'registered' ? modelRegisteredChannel(prefix) : modelArchivedChannel(prefix);
        await this.publisher.publish(channel, JSON.stringify({ model }));
      },
      emit: this.emit,
      logger,
    });
    const worker = new Worker<RegistryJobData, RegistryJobResult>(REGISTRY_QUEUE, (job) => registry.process(job), this.workerOptions());
    const reconciler = new AcceptedJobsReconciler({
      accepted: new AcceptedJobs(this.opts.dataDir),
      connection: this.connection,
      prefix,
      committed: (jobId, data) => isJobCommitted({ dataDir: this.opts.dataDir, storeOf: (model) => pipeline.store(model) }, jobId, data),
      logger,
      ...this.opts.acceptedJobs,
    });
    this.reconciler = reconciler;
    worker.on('failed', (job, err) => logger.error({ job_id: job?.id, model: job?.data.model, kind: job?.data.kind, err: err.message }, 'registry job failed'));
    worker.on('completed', (job) => logger.info({ job_id: job.id, model: job.data.model, kind: job.data.kind }, 'registry job completed'));
    reconciler.watch(worker, REGISTRY_QUEUE);
    worker.on('error', (err) => logger.error({ err: err.message }, 'registry worker error'));
    this.registryWorker = worker;
    this.inbox = new Inbox({ dataDir: this.opts.dataDir, queue: registryQueue, whyTaken: (model) => whyModelNameTaken(this.opts.dataDir, this.catalog.map((s) => s.name), model), logger });

    for (const spec of this.opts.specs) {
      if (await this.isArchived(spec.name)) continue;
      await this.startModel(spec, true);
    }
    // Registered models; a registered one without a version yet (its registration job died
    // mid-way) gets its bootstrap job like a built-in one.
    await this.scan(true);

    const channels = { [modelRegisteredChannel(prefix)]: true, [modelArchivedChannel(prefix)]: true };
    // ioredis subscribes again after a reconnect on its own (autoResubscribe).
    this.subscriber.subscribe(...Object.keys(channels)).catch((err: Error) => logger.warn({ err: err.message }, 'subscribe failed'));
    this.subscriber.on('message', (channel: string, text: string) => {
      if (!channels[channel]) return;
      const msg = catalogMessageSchema.safeParse(parseJsonOrUndefined(text));
      if (!msg.success) {
        logger.warn({ channel, text }, 'ignoring a malformed catalogue message');
        return;
      }
      void this.syncModel(msg.data.model, false);
    });
    this.timer = setInterval(() => void this.poll(), this.opts.pollIntervalMs ?? 2000);
    this.timer.unref();
    this.automation = new Automation({
      redis: this.connection,
      prefix,
      storeOf: (model) => pipeline.store(model),
      models: () => [...this.models].flatMap(([name, m]) => {
        const spec = this.specs.find((s) => s.name === name);
        return spec ? [{ spec, queue: m.queue }] : [];
      }),
      pollMs: this.opts.automationPollMs ?? 2000,
      logger,
      emit: this.emit,
      drift: new DriftAlerts({ redis: this.connection, prefix, storeOf: (model) => pipeline.store(model), emit: this.emitNow, subscribed: () => this.webhooks.subscribed('drift.alert'), logger }),
    });
    this.automation.start();
    this.delivery = new WebhookDelivery({ connection: this.connection, prefix, webhooks: this.webhooks, logger, ...this.opts.webhookDelivery });
    // After the workers: a job queued again is taken at once.
    reconciler.start();
    logger.info({ models: [...this.models.keys()], prefix }, 'trainer ready');
  }

  /** One scan of `models/*` and one look at the inbox; single-flight. */
  poll(): Promise<void> {
    this.polling ??= (async () => {
      await this.scan(false);
      await this.inbox?.poll();
    })()
      .catch((err: unknown) => this.opts.logger.warn({ err: String(err) }, 'poll failed'))
      .finally(() => {
        this.polling = undefined;
      });
    return this.polling;
  }

  private async scan(bootstrap: boolean): Promise<void> {
    for (const model of await listModelDirs(this.opts.dataDir)) await this.syncModel(model, bootstrap);
  }

  private async isArchived(model: string): Promise<boolean> {
    if (this.archived.has(model)) return true;
    if (!(await readArchive(this.opts.dataDir, model))) return false;
    this.archived.add(model);
    return true;
  }

  /**
   * Brings this trainer in line with `model`'s files: archived, its worker stops; registered
   * and not running here, its worker starts. A damaged file is logged once and the model left
   * as it is.
   */
  private async syncModel(model: string, bootstrap: boolean): Promise<void> {
    if (this.closing || this.archived.has(model)) return;
    try {
      if (await this.isArchived(model)) {
        this.stopModel(model);
        return;
      }
      if (this.models.has(model) || this.catalog.some((s) => s.name === model)) return;
      const registration = await readRegistration(this.opts.dataDir, model);
      if (registration) await this.startModel(registration.spec, bootstrap);
    } catch (err) {
      const message = err instanceof ArtifactError ? `${err.kind}: ${err.reason}` : String(err);
      if (!this.reported.has(`${model}:${message}`)) {
        this.reported.add(`${model}:${message}`);
        this.opts.logger.error({ model, err: message }, 'cannot read the model\'s registration or archive marker; it is left as it is');
      }
    }
  }

  /** Starts the worker of `spec`'s queue here (a no-op when it runs), and queues its bootstrap job when asked. */
  private async startModel(spec: ModelSpec, bootstrap: boolean): Promise<void> {
    const { logger } = this.opts;
    const model = spec.name;
    // Two announcements of one model start one worker.
    if (this.models.has(model) || this.starting.has(model) || this.closing) return;
    this.starting.add(model);
    try {
      if (!this.specs.some((s) => s.name === model)) this.specs.push(spec);
      const name = trainQueueName(model);
      const queue = new Queue<JobData, JobResult>(name, { connection: this.connection, prefix: this.opts.prefix, defaultJobOptions });
      // Before the worker takes a job: across replicas, one job of a model at a time.
      await queue.setGlobalConcurrency(1);
      if (this.closing) {
        await settleWithin(queue.close(), 1000);
        return;
      }
      const pipeline = this.pipeline as TrainPipeline;
      const worker = new Worker<JobData, JobResult>(name, (job) => pipeline.process(job), this.workerOptions());
      const seconds = (job: { processedOn?: number; finishedOn?: number }): number => ((job.finishedOn ?? Date.now()) - (job.processedOn ?? Date.now())) / 1000;
      worker.on('failed', (job, err) => {
        logger.error({ job_id: job?.id, model, err: err.message, attempts: job?.attemptsMade }, 'job failed');
        if (job) this.metrics.jobFinished({ model, kind: job.data.kind, outcome: 'failed', seconds: seconds(job) });
      });
      worker.on('completed', (job) => {
        logger.info({ job_id: job.id, model, status: job.returnvalue.status }, 'job completed');
        this.metrics.jobFinished({ model, kind: job.data.kind, outcome: job.returnvalue.status, seconds: seconds(job), violations: job.returnvalue.violations.map((v) => v.code) });
      });
      worker.on('error', (err) => logger.error({ err: err.message, model }, 'worker error'));
      this.reconciler?.watch(worker, name);
      this.models.set(model, { queue, worker });
      if (bootstrap) {
        await queue.add('bootstrap', { kind: 'bootstrap', model, request_id: null, body_hash: '' }, { jobId: bootstrapJobId(model), removeOnComplete: true, removeOnFail: true });
      }
    } finally {
      this.starting.delete(model);
    }
  }

  /** Stops this trainer's worker of `model` (after its running job) and closes its queue. */
  private stopModel(model: string): void {
    const m = this.models.get(model);
    if (!m) return;
    this.models.delete(model);
    void m.worker
      .close()
      .then(() => m.queue.close())
      .then(() => this.opts.logger.info({ model }, 'model archived: worker stopped'))
      .catch((err: unknown) => this.opts.logger.warn({ err: String(err), model }, 'closing an archived model\'s worker failed'));
  }

  /**
   * Stops taking jobs, lets the running one finish (up to the shutdown timeout; past it the
   * job's lock expires and another replica retries it), then closes threads and connections.
   * Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.timer) clearInterval(this.timer);
      this.subscriber.disconnect();
      // Neither holds a model's job: they close alongside the workers, not after them.
      const automationClosed = settleWithin(this.automation?.close() ?? Promise.resolve(), 1000);
      const reconcilerClosed = this.reconciler?.close() ?? Promise.resolve();
      // Deliveries in flight end within their timeout; past the shutdown's, BullMQ retries them.
      const deliveriesClosed = settleWithin(this.delivery?.close() ?? Promise.resolve(), this.opts.shutdownTimeoutMs);
      const workers: Pick<Worker, 'close'>[] = [...[...this.models.values()].map((m) => m.worker), ...(this.registryWorker ? [this.registryWorker] : [])];
      const workersClosed = Promise.all(workers.map((w) => w.close()));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), this.opts.shutdownTimeoutMs);
      });
      if ((await Promise.race([workersClosed, timedOut])) === 'timeout') {
        this.opts.logger.warn('shutdown timeout: abandoning the running job; it will be retried');
        await Promise.all(workers.map((w) => settleWithin(w.close(true), 1000)));
      }
      clearTimeout(timer);
      // The rest closes together, each part bounded: with Redis down every part waits its full
      // bound, and one after another they outlasted main's last-resort deadline (exit 1).
      await Promise.all([
        automationClosed,
        reconcilerClosed,
        deliveriesClosed,
        settleWithin(this.polling ?? Promise.resolve(), 1000),
        // A job that just finished may still be queueing its events.
        settleWithin(Promise.all(this.emitting), 1000).then(() => settleWithin(this.webhooks.close(), 1000)),
        ...this.allQueues().map(([, q]) => settleWithin(q.close(), 1000)),
        this.fitThread.close(),
      ]);
      await Promise.all([this.connection, this.publisher].map((c) => settleWithin(c.quit(), 1000)));
      for (const c of [this.connection, this.publisher]) c.disconnect();
    })();
    return this.closing;
  }
}
