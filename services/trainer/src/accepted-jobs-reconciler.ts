import { defaultJobOptions, jobDataSchema, REGISTRY_QUEUE, registryJobDataSchema, settleWithin, trainQueueName, type AnyJobData } from '@ct/queue';
import type { AcceptedJob, AcceptedJobs } from '@ct/registry';
import { Queue, type Job, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** How long a completed job stays in Redis (defaultJobOptions.removeOnComplete.age), in ms. */
const COMPLETED_RETENTION_MS = ((defaultJobOptions.removeOnComplete as { age: number }).age ?? 24 * 3600) * 1000;

/** Settings of an {@link AcceptedJobsReconciler}. */
export interface AcceptedJobsReconcilerOptions {
  accepted: AcceptedJobs;
  /** The trainer's connection (commands wait while Redis is away; a pass runs only while it is ready). */
  connection: Redis;
  prefix: string;
  /** Whether the job has already taken effect on the volume (see isJobCommitted). */
  committed: (jobId: string, data: AnyJobData) => Promise<boolean>;
  logger: Logger;
  /** Time between passes; default 5 s. */
  intervalMs?: number;
  /**
   * A record younger than this is left alone; default 10 s. The API records a job before it
   * adds it, and removes the record when the add fails (it then answers 503): well within this,
   * as its Redis commands time out after 3 s. Queuing a younger record could revive a job the
   * client was told was refused.
   */
  graceMs?: number;
  /**
   * A record older than this, whose job Redis lacks and whose effect is not on the volume, is
   * reported and left, not queued; default the time Redis keeps a completed job (a day). Past
   * it, a lost queued job cannot be told from one that finished leaving no trace (a no-op
   * rollback) whose record outlived it because its trainer died at that moment.
   */
  staleMs?: number;
}

/** What one pass did, by job id. */
export interface ReconcileReport {
  /** Queued again: Redis had lost them and they had not taken effect. */
  requeued: string[];
  /** Records removed: their job finished (in Redis, or on the volume) without its trainer removing it. */
  removed: string[];
  /** Left for later: too young to judge, or still queued or running in Redis. */
  pending: string[];
  /** Reported, left in place: too old to queue again (see `staleMs`), or not a valid job. */
  reported: string[];
}

const emptyReport = (): ReconcileReport => ({ requeued: [], removed: [], pending: [], reported: [] });

/**
 * Makes Redis hold every job the API accepted and no trainer finished, from the records on the
 * volume (AcceptedJobs): a job Redis no longer has (it came back empty) is added again under
 * its own id, unless its effect is already in the model's history (it ran, and its record was
 * not removed yet). Runs at start, on each Redis (re)connection and on an interval.
 *
 * Neither lost nor run twice: the same id makes a second add a no-op while the job exists
 * (BullMQ's add keeps the first job of an id, and a finished job is kept a day), so two trainers
 * reconciling at once add one job; a job whose entry is in the history is never added again;
 * and a re-run that still races its first run (a job running when Redis came back empty, re-added
 * before it committed) finds its own entry and returns the stored result (TrainPipeline).
 */
export class AcceptedJobsReconciler {
  private readonly queues = new Map<string, Queue>();
  /** Records already reported (unreadable, invalid or stale): logged once per process. */
  private readonly told = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ReconcileReport> | undefined;
  private queued: Promise<ReconcileReport> | undefined;
  private closed = false;

  constructor(private readonly opts: AcceptedJobsReconcilerOptions) {}

  /** A first pass now, then one every interval. */
  start(): void {
    void this.reconcile();
    this.timer = setInterval(() => void this.reconcile(), this.opts.intervalMs ?? 5000);
    this.timer.unref();
  }

  /**
   * One pass. Called while one runs, it runs another right after (the pass in flight may have
   * read a Redis that has since come back empty), shared by every caller meanwhile.
   */
  reconcile(): Promise<ReconcileReport> {
    if (this.closed) return Promise.resolve(emptyReport());
    if (!this.running) {
      this.running = this.pass().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    this.queued ??= this.running.then(() => {
      this.queued = undefined;
      return this.reconcile();
    });
    return this.queued;
  }

  /**
   * Removes the record of each job `worker` finishes: completed, or failed for good (BullMQ sets
   * `finishedOn` only when no attempt is left, so a failure that will be retried keeps it).
   */
  watch(worker: Pick<Worker, 'on'>, queue: string): void {
    worker.on('completed', (job: Job) => void this.finished(queue, job.id));
    worker.on('failed', (job: Job | undefined) => {
      if (job?.finishedOn) void this.finished(queue, job.id);
    });
  }

  /** Removes the record of job `jobId` of `queue`, which reached a final state (completed, or failed for good). */
  async finished(queue: string, jobId: string | undefined): Promise<void> {
    if (jobId === undefined) return;
    try {
      await this.opts.accepted.remove(queue, jobId);
    } catch (err) {
      // The next pass removes it (Redis says the job finished).
      this.opts.logger.warn({ queue, job_id: jobId, err: String(err) }, 'could not remove a finished job\'s record; the reconciler will');
    }
  }

  /** Stops the passes (one in flight gets a second) and closes the queues it opened. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await settleWithin(this.running ?? Promise.resolve(), 1000);
    await Promise.all([...this.queues.values()].map((q) => settleWithin(q.close(), 1000)));
  }

  private queue(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.opts.connection, prefix: this.opts.prefix, defaultJobOptions });
      q.on('error', (err) => this.opts.logger.debug({ err: err.message, queue: name }, 'queue error'));
      this.queues.set(name, q);
    }
    return q;
  }

  private async pass(): Promise<ReconcileReport> {
    const report = emptyReport();
    // Nothing to compare with while Redis is away; its 'ready' brings the next pass.
    if (this.opts.connection.status !== 'ready') return report;
    const { logger } = this.opts;
    try {
      const { jobs, unreadable } = await this.opts.accepted.list();
      for (const u of unreadable) this.tell(`file:${u.file}`, () => logger.error({ file: u.file, dir: this.opts.accepted.dir, reason: u.reason }, 'an accepted-job record cannot be read; left in place'));
      for (const record of jobs) {
        if (this.closed) break;
        try {
          await this.one(record, report);
        } catch (err) {
          logger.warn({ queue: record.queue, job_id: record.job_id, err: String(err) }, 'could not reconcile an accepted job; trying again at the next pass');
          report.pending.push(record.job_id);
        }
      }
    } catch (err) {
      logger.warn({ err: String(err) }, 'reconciling the accepted jobs failed');
    }
    if (report.requeued.length > 0 || report.removed.length > 0) logger.info({ requeued: report.requeued.length, removed: report.removed.length, pending: report.pending.length }, 'accepted jobs reconciled');
    return report;
  }

  private async one(record: AcceptedJob, report: ReconcileReport): Promise<void> {
    const { accepted, logger } = this.opts;
    const id = record.job_id;
    const age = Date.now() - Date.parse(record.accepted_at);
    if (age < (this.opts.graceMs ?? 10_000)) {
      report.pending.push(id);
      return;
    }
    const data = this.payload(record);
    if (!data) {
      report.reported.push(id);
      return;
    }
    const queue = this.queue(record.queue);
    const state = await queue.getJobState(id);
    if (state === 'completed' || state === 'failed') {
      // Finished; its trainer died (or lost Redis for a moment) before removing the record.
      await accepted.remove(record.queue, id);
      report.removed.push(id);
      return;
    }
    if (state !== 'unknown') {
      report.pending.push(id);
      return;
    }
    // Redis lacks it: it ran and was removed from Redis, or Redis lost it.
    if (await this.opts.committed(id, data)) {
      await accepted.remove(record.queue, id);
      report.removed.push(id);
      return;
    }
    if (age > (this.opts.staleMs ?? COMPLETED_RETENTION_MS)) {
      this.tell(`stale:${record.queue}+${id}`, () =>
        logger.error(
          { queue: record.queue, job_id: id, model: data.model, kind: data.kind, accepted_at: record.accepted_at, file: accepted.fileOf(record.queue, id) },
          'an accepted job older than Redis keeps finished jobs is neither in Redis nor in the history: not queued again (it may have finished leaving no trace); queue it again or remove its record',
        ),
      );
      report.reported.push(id);
      return;
    }
    // Its trainer may have finished it and removed the record while this pass looked.
    if (!(await accepted.has(record.queue, id))) return;
    await queue.add(data.kind, data, { jobId: id });
    logger.warn({ queue: record.queue, job_id: id, model: data.model, kind: data.kind, accepted_at: record.accepted_at }, 'an accepted job Redis no longer had is queued again from its record');
    report.requeued.push(id);
  }

  /** The record's payload when it is a valid job of its queue; else reported (once) and undefined. */
  private payload(record: AcceptedJob): AnyJobData | undefined {
    const registry = record.queue === REGISTRY_QUEUE;
    const parsed = registry ? registryJobDataSchema.safeParse(record.data) : jobDataSchema.safeParse(record.data);
    const problem = !parsed.success
      ? parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')
      : !registry && trainQueueName(parsed.data.model) !== record.queue
        ? `a job of model ${parsed.data.model} recorded for queue ${record.queue}`
        : undefined;
    if (problem === undefined && parsed.success) return parsed.data;
    this.tell(`invalid:${record.queue}+${record.job_id}`, () =>
      this.opts.logger.error({ queue: record.queue, job_id: record.job_id, file: this.opts.accepted.fileOf(record.queue, record.job_id), problem }, 'an accepted-job record holds no valid job; left in place, not queued'),
    );
    return undefined;
  }

  private tell(key: string, log: () => void): void {
    if (this.told.has(key)) return;
    this.told.add(key);
    log();
  }
}
