import { bootstrapJobId, createRedisConnection, defaultJobOptions, modelEventsChannel, settleWithin, trainQueueName, type JobData, type JobResult } from '@ct/queue';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ModelSpec } from '@ct/core';
import type { Logger } from 'pino';
import { FitThreadClient } from './fit-thread-client';
import { TrainPipeline } from './train-pipeline';

/** Settings of a {@link Trainer}. */
export interface TrainerOptions {
  redisUrl: string;
  prefix: string;
  dataDir: string;
  datasetsDir: string;
  /** The models to train (their specs; the catalogue at start). */
  specs: readonly ModelSpec[];
  lockDurationMs: number;
  /** BullMQ's stalled-job check; defaults to BullMQ's 30 s. */
  stalledIntervalMs?: number;
  shutdownTimeoutMs: number;
  logger: Logger;
  /** Compiled fit-thread entry (tests may point elsewhere). */
  fitThreadScript?: string;
}

/**
 * The trainer process: one BullMQ worker per model queue, each queue capped at global
 * concurrency 1 (one promotion per model at a time across every replica), one warm fit
 * thread for the CPU-bound work, and a Redis connection for activation announcements.
 */
export class Trainer {
  private readonly connection: Redis;
  private readonly publisher: Redis;
  private readonly fitThread: FitThreadClient;
  private readonly workers: Worker<JobData, JobResult>[] = [];
  private readonly queues: Queue<JobData, JobResult>[] = [];
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: TrainerOptions) {
    this.connection = createRedisConnection(opts.redisUrl, 'worker', 'ct-trainer');
    this.publisher = createRedisConnection(opts.redisUrl, 'worker', 'ct-trainer-pub');
    this.fitThread = new FitThreadClient(opts.fitThreadScript);
    for (const c of [this.connection, this.publisher]) {
      c.on('error', (err: Error) => opts.logger.warn({ err: err.message }, 'redis connection error'));
    }
  }

  /** Starts the workers and queues a bootstrap job for each model (a no-op when it has a version). */
  async start(): Promise<void> {
    const { logger } = this.opts;
    const pipeline = new TrainPipeline({
      specs: this.opts.specs,
      dataDir: this.opts.dataDir,
      datasetsDir: this.opts.datasetsDir,
      fitThread: this.fitThread,
      logger,
      publish: async (model, version) => {
        await this.publisher.publish(modelEventsChannel(this.opts.prefix), JSON.stringify({ model, version }));
        logger.info({ model, version }, 'model activated');
      },
    });
    for (const { name: model } of this.opts.specs) {
      const name = trainQueueName(model);
      const queue = new Queue<JobData, JobResult>(name, { connection: this.connection, prefix: this.opts.prefix, defaultJobOptions });
      this.queues.push(queue);
      await queue.setGlobalConcurrency(1);
      // The setting lives in Redis: a Redis restarted empty forgets it, and two trainers would
      // then run two jobs of one model at once. Set it again on every (re)connection.
      this.connection.on('ready', () => {
        queue.setGlobalConcurrency(1).catch((err: Error) => logger.warn({ err: err.message, model }, 'could not re-assert the global concurrency'));
      });
      const worker = new Worker<JobData, JobResult>(name, (job) => pipeline.process(job), {
        connection: this.connection,
        prefix: this.opts.prefix,
        concurrency: 1,
        lockDuration: this.opts.lockDurationMs,
        ...(this.opts.stalledIntervalMs ? { stalledInterval: this.opts.stalledIntervalMs } : {}),
      });
      worker.on('failed', (job, err) => logger.error({ job_id: job?.id, model, err: err.message, attempts: job?.attemptsMade }, 'job failed'));
      worker.on('completed', (job) => logger.info({ job_id: job.id, model, status: job.returnvalue.status }, 'job completed'));
      worker.on('error', (err) => logger.error({ err: err.message, model }, 'worker error'));
      this.workers.push(worker);
      await queue.add(
        'bootstrap',
        { kind: 'bootstrap', model, request_id: null, body_hash: '' },
        { jobId: bootstrapJobId(model), removeOnComplete: true, removeOnFail: true },
      );
    }
    logger.info({ models: this.opts.specs.map((s) => s.name), prefix: this.opts.prefix }, 'trainer ready');
  }

  /**
   * Stops taking jobs, lets the running one finish (up to the shutdown timeout; past it the
   * job's lock expires and another replica retries it), then closes threads and connections.
   * Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const workersClosed = Promise.all(this.workers.map((w) => w.close()));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), this.opts.shutdownTimeoutMs);
      });
      if ((await Promise.race([workersClosed, timedOut])) === 'timeout') {
        this.opts.logger.warn('shutdown timeout: abandoning the running job; it will be retried');
        await Promise.all(this.workers.map((w) => settleWithin(w.close(true), 1000)));
      }
      clearTimeout(timer);
      await Promise.all(this.queues.map((q) => settleWithin(q.close(), 1000)));
      await this.fitThread.close();
      await Promise.all([this.connection, this.publisher].map((c) => settleWithin(c.quit(), 1000)));
      for (const c of [this.connection, this.publisher]) c.disconnect();
    })();
    return this.closing;
  }
}
