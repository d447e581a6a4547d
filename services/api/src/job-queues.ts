import {
  createRedisConnection,
  defaultJobOptions,
  isRegistryJobId,
  modelOfJobId,
  REGISTRY_QUEUE,
  settleWithin,
  trainQueueName,
  type AnyJobData,
  type AnyJobResult,
  type JobData,
  type RegistryJobData,
} from '@ct/queue';
import type { AcceptedJob, AcceptedJobs } from '@ct/registry';
import { Queue, QueueEvents, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ApiError } from './errors/api-error';

/** BullMQ's states of a job that has not finished. */
const UNFINISHED = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'] as const;

/** The caps `enqueue` holds a new job to; see `checkCaps`. */
export interface JobCaps {
  perModel: number;
  perCaller: number;
  /** The caller's token id (null: anonymous, counted only against the model's cap). */
  callerTokenId: string | null;
}

/** A job of any queue, as the routes see it. */
export type AnyJob = Job<AnyJobData, AnyJobResult>;

/** A queue and the events of its jobs (for `Prefer: wait`). */
interface QueueHandle {
  queue: Queue<AnyJobData, AnyJobResult>;
  events: QueueEvents;
}

/**
 * The API's side of the queues: adds jobs, finds them by id, waits for them. Every use checks
 * that Redis is connected first, so while Redis is down `/train` answers 503 at once, and
 * predictions, which never touch Redis, go on. One queue per model (added as models are
 * registered) and the registry queue (`register` and `archive` jobs). Every job it accepts is
 * also recorded on the volume (AcceptedJobs) before it is acknowledged, so a Redis that comes
 * back empty loses none: the trainer queues it again from its record.
 */
export class JobQueues {
  private readonly connection: Redis;
  /** QueueEvents blocks on XREAD, so each one gets a connection of its own. */
  private readonly eventsConnections: Redis[] = [];
  private readonly queues = new Map<string, QueueHandle>();
  private readonly registry: QueueHandle;
  private closing: Promise<void> | undefined;

  private readonly logger: Logger;

  constructor(private readonly opts: { redisUrl: string; prefix: string; models: readonly string[]; logger: Logger; accepted: AcceptedJobs }) {
    this.logger = opts.logger;
    this.connection = createRedisConnection(opts.redisUrl, 'producer', 'ct-api');
    this.connection.on('error', (err: Error) => opts.logger.debug({ err: err.message }, 'redis connection error'));
    this.registry = this.open(REGISTRY_QUEUE, 'registry');
    for (const model of opts.models) this.addModel(model);
  }

  private open(name: string, tag: string): QueueHandle {
    const { opts } = this;
    const queue = new Queue<AnyJobData, AnyJobResult>(name, { connection: this.connection, prefix: opts.prefix, defaultJobOptions });
    queue.on('error', (err) => opts.logger.debug({ err: err.message }, 'queue error'));
    const eventsConnection = createRedisConnection(opts.redisUrl, 'subscriber', `ct-api-events-${tag}`);
    eventsConnection.on('error', (err: Error) => opts.logger.debug({ err: err.message }, 'redis connection error'));
    this.eventsConnections.push(eventsConnection);
    const events = new QueueEvents(name, { connection: eventsConnection, prefix: opts.prefix });
    events.on('error', (err) => opts.logger.debug({ err: err.message }, 'queue events error'));
    return { queue, events };
  }

  /** Opens `model`'s queue (a model registered at run time); a no-op when it is open. */
  addModel(model: string): void {
    if (this.queues.has(model) || this.closing) return;
    this.queues.set(model, this.open(trainQueueName(model), model));
  }

  /** A model queue's unfinished jobs by state, or undefined (no such queue, or Redis down): for metrics. */
  async jobCounts(model: string): Promise<Record<string, number> | undefined> {
    const handle = this.queues.get(model);
    if (!handle || !this.redisReady) return undefined;
    try {
      return await handle.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    } catch {
      return undefined;
    }
  }

  /** The producer connection, shared with the rate limiter and the token store. */
  get redis(): Redis {
    return this.connection;
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

  /** The queue of a job with this payload: the registry's for catalogue changes, else the model's. */
  private handleFor(data: Pick<AnyJobData, 'kind' | 'model'>): QueueHandle {
    const q = this.handleOf(data);
    if (!q) throw new ApiError('not_found', `unknown model ${data.model}`);
    return q;
  }

  private handleOf(data: Pick<AnyJobData, 'kind' | 'model'>): QueueHandle | undefined {
    return data.kind === 'register' || data.kind === 'archive' ? this.registry : this.queues.get(data.model);
  }

  /** The connection when Redis answers; else the 503 every Redis-backed route answers (`queue_unavailable`, Retry-After 5). */
  requireRedis(): Redis {
    if (!this.redisReady) throw new ApiError('queue_unavailable', 'Redis is not reachable; retry later', [], { 'Retry-After': '5' });
    return this.connection;
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    const { logger } = this;
    this.requireRedis();
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
   *
   * The job is recorded on the volume (fsynced) before it is added, and so before the 202: a
   * Redis restarted empty then loses no accepted job. An add that fails removes the record (the
   * client is told 503, so the job must not come to life later); the trainer's reconciler waits
   * a grace period before queuing a record Redis lacks, so it never races this call.
   */
  enqueue(data: JobData | RegistryJobData, jobId: string, caps?: JobCaps): Promise<{ job: AnyJob; created: boolean }> {
    return this.guard(async () => {
      const { accepted } = this.opts;
      const { queue } = this.handleFor(data);
      const existing = await queue.getJob(jobId);
      if (existing) return { job: existing, created: false };
      if (caps) await this.checkCaps(queue, data.model, caps);
      await accepted.record(queue.name, jobId, data);
      let stored: AnyJob | undefined;
      try {
        await queue.add(data.kind, data, { jobId });
        stored = await queue.getJob(jobId);
        if (!stored) throw new Error(`job ${jobId} vanished after add`);
      } catch (err) {
        await accepted.remove(queue.name, jobId).catch((e: Error) => this.logger.warn({ job_id: jobId, err: e.message }, 'could not remove the record of a job not accepted'));
        throw err;
      }
      const created = stored.data.request_id === data.request_id;
      // Lost to a concurrent request with the same key, which may have written its record
      // first: the record must hold the job Redis holds (an idempotency conflict's body must
      // not be what runs if Redis loses the job).
      if (!created) await accepted.record(queue.name, jobId, stored.data);
      return { job: stored, created };
    });
  }

  /**
   * Refuses a new job (429) when the queue already holds `perModel` unfinished jobs, or the
   * caller `perCaller` of them: one client cannot hold a model's training for minutes. Two
   * requests checked at the same moment can both pass, so a cap may be passed by the number
   * of concurrent requests; it bounds the queue, it is not an exact quota.
   */
  private async checkCaps(queue: Queue<AnyJobData, AnyJobResult>, model: string, caps: JobCaps): Promise<void> {
    const counts = await queue.getJobCounts(...UNFINISHED);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const retry = { 'Retry-After': '5' };
    if (total >= caps.perModel) throw new ApiError('too_many_jobs', `${model} has ${total} jobs queued or running (at most ${caps.perModel}); retry when some have finished`, [], retry);
    if (caps.callerTokenId === null || total < caps.perCaller) return;
    const jobs = await queue.getJobs([...UNFINISHED]);
    const mine = jobs.filter((j) => j?.data?.actor?.token_id === caps.callerTokenId).length;
    if (mine >= caps.perCaller) throw new ApiError('too_many_jobs', `you have ${mine} jobs of ${model} queued or running (at most ${caps.perCaller}); retry when some have finished`, [], retry);
  }

  /**
   * The job with `jobId` and its state, or undefined. The state is read first (see jobView):
   * reading the job first could pair data from before completion with a `completed` state.
   */
  find(jobId: string): Promise<{ job: AnyJob; state: string } | undefined> {
    const handle = this.handleOfJobId(jobId);
    if (!handle) return Promise.resolve(undefined);
    return this.guard(async () => {
      const state = await handle.queue.getJobState(jobId);
      const job = await handle.queue.getJob(jobId);
      return job && state !== 'unknown' ? { job, state } : undefined;
    });
  }

  /**
   * The volume's record of an accepted job Redis does not hold (see AcceptedJobs): between
   * Redis coming back empty and a trainer queuing the job again, its status comes from here.
   */
  async recorded(jobId: string): Promise<AcceptedJob | undefined> {
    const handle = this.handleOfJobId(jobId);
    if (!handle) return undefined;
    return this.opts.accepted.read(handle.queue.name, jobId);
  }

  /** The queue a job id belongs to (its model's, or the registry's), from the id alone. */
  private handleOfJobId(jobId: string): QueueHandle | undefined {
    if (isRegistryJobId(jobId)) return this.registry;
    const model = modelOfJobId(jobId);
    return model ? this.queues.get(model) : undefined;
  }

  /** Waits up to `ms` for the job to finish; true if it did (completed or failed). */
  async waitFor(job: AnyJob, ms: number): Promise<boolean> {
    const handle = this.handleOf(job.data);
    if (!handle || ms <= 0) return false;
    try {
      await job.waitUntilFinished(handle.events, ms);
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
      const handles = [...this.queues.values(), this.registry];
      await Promise.all(handles.map((h) => settleWithin(h.events.close(), 1000)));
      await Promise.all(handles.map((h) => settleWithin(h.queue.close(), 1000)));
      for (const c of [this.connection, ...this.eventsConnections]) c.disconnect();
    })();
    return this.closing;
  }
}
