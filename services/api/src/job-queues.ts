import { createRedisConnection, defaultJobOptions, modelOfJobId, settleWithin, trainQueueName, type JobData, type JobResult } from '@ct/queue';
import { Queue, QueueEvents, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ApiError } from './errors/api-error';

/**
 * The API's side of the queues: adds jobs, finds them by id, waits for them. Every use checks
 * that Redis is connected first, so while Redis is down `/train` answers 503 at once, and
 * predictions, which never touch Redis, go on.
 */
export class JobQueues {
  private readonly connection: Redis;
  /** QueueEvents blocks on XREAD, so each one gets a connection of its own. */
  private readonly eventsConnections: Redis[] = [];
  private readonly queues = new Map<string, Queue<JobData, JobResult>>();
  private readonly events = new Map<string, QueueEvents>();
  private closing: Promise<void> | undefined;

  private readonly logger: Logger;

  constructor(opts: { redisUrl: string; prefix: string; models: readonly string[]; logger: Logger }) {
    this.logger = opts.logger;
    this.connection = createRedisConnection(opts.redisUrl, 'producer', 'ct-api');
    this.connection.on('error', (err: Error) => opts.logger.debug({ err: err.message }, 'redis connection error'));
    for (const model of opts.models) {
      const name = trainQueueName(model);
      const queue = new Queue<JobData, JobResult>(name, {
        connection: this.connection,
        prefix: opts.prefix,
        defaultJobOptions,
      });
      queue.on('error', (err) => opts.logger.debug({ err: err.message }, 'queue error'));
      this.queues.set(model, queue);
      const eventsConnection = createRedisConnection(opts.redisUrl, 'subscriber', `ct-api-events-${model}`);
      eventsConnection.on('error', (err: Error) => opts.logger.debug({ err: err.message }, 'redis connection error'));
      this.eventsConnections.push(eventsConnection);
      const events = new QueueEvents(name, { connection: eventsConnection, prefix: opts.prefix });
      events.on('error', (err) => opts.logger.debug({ err: err.message }, 'queue events error'));
      this.events.set(model, events);
    }
  }

  /** Whether Redis answers right now. */
  get redisReady(): boolean {
    return this.connection.status === 'ready';
  }

  /** Round trip to Redis for `/health`; false on any failure within a second. */
  async ping(): Promise<boolean> {
    if (!this.redisReady) return false;
    try {
      await Promise.race([this.connection.ping(), new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), 1000).unref())]);
      return true;
    } catch {
      return false;
    }
  }

  private queue(model: string): Queue<JobData, JobResult> {
    const q = this.queues.get(model);
    if (!q) throw new ApiError('not_found', `unknown model ${model}`);
    return q;
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    const { logger } = this;
    if (!this.redisReady) throw new ApiError('queue_unavailable', 'Redis is not reachable; retry later', [], { 'Retry-After': '5' });
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ApiError) throw err;
      logger.warn({ err: (err as Error).message }, 'queue operation failed');
      throw new ApiError('queue_unavailable', 'the queue did not accept the request; retry later', [], { 'Retry-After': '5' });
    }
  }

  /**
   * Adds a job under `jobId`, or finds the existing job with that id (an idempotent replay).
   * BullMQ keeps the first job added under an id and ignores later adds, so the stored job is
   * read back after adding: it was created by this call only if it carries this call's
   * request id. Two concurrent requests with one key thus get one job, and the loser learns it.
   */
  enqueue(model: string, data: JobData, jobId: string): Promise<{ job: Job<JobData, JobResult>; created: boolean }> {
    return this.guard(async () => {
      const q = this.queue(model);
      const existing = await q.getJob(jobId);
      if (existing) return { job: existing, created: false };
      await q.add(data.kind, data, { jobId });
      const stored = await q.getJob(jobId);
      if (!stored) throw new Error(`job ${jobId} vanished after add`);
      return { job: stored, created: stored.data.request_id === data.request_id };
    });
  }

  /**
   * The job with `jobId` and its state, or undefined. The state is read first (see jobView):
   * reading the job first could pair data from before completion with a `completed` state.
   */
  find(jobId: string): Promise<{ job: Job<JobData, JobResult>; state: string } | undefined> {
    const model = modelOfJobId(jobId);
    if (!model || !this.queues.has(model)) return Promise.resolve(undefined);
    return this.guard(async () => {
      const q = this.queue(model);
      const state = await q.getJobState(jobId);
      const job = await q.getJob(jobId);
      return job && state !== 'unknown' ? { job, state } : undefined;
    });
  }

  /** Waits up to `ms` for the job to finish; true if it did (completed or failed). */
  async waitFor(model: string, job: Job<JobData, JobResult>, ms: number): Promise<boolean> {
    const events = this.events.get(model);
    if (!events || ms <= 0) return false;
    try {
      await job.waitUntilFinished(events, ms);
      return true;
    } catch (err) {
      // A failed job rejects with its error: it did finish. A timeout did not.
      return !/timed out/i.test((err as Error).message);
    }
  }

  /**
   * Closes queues, listeners and connections. Idempotent. BullMQ's close waits for a
   * connection that may never come back while Redis is down, so each close gets a second
   * before the connections are dropped anyway.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.events.values()].map((e) => settleWithin(e.close(), 1000)));
      await Promise.all([...this.queues.values()].map((q) => settleWithin(q.close(), 1000)));
      for (const c of [this.connection, ...this.eventsConnections]) c.disconnect();
    })();
    return this.closing;
  }
}
