import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ArtifactError } from './artifact-error';
import { writeFileAtomic } from './atomic-write';
import { readJsonFile } from './read-json';

/**
 * The folder of the records under the data directory. Its own folder (its own volume in
 * compose), not under `models/`: the API, which writes the records, mounts `models/` read-only.
 */
export const ACCEPTED_JOBS_DIR = 'accepted-jobs';

/**
 * A queue name or a job id as it may appear in a file name: no separator, no `+` (which joins
 * the two in the name) and no leading dot (temp files start with one).
 */
const NAME_PART = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** One accepted job as recorded on the volume. */
export const acceptedJobSchema = z.strictObject({
  format_version: z.literal(1),
  /** The BullMQ queue it was added to. */
  queue: z.string().regex(NAME_PART),
  job_id: z.string().regex(NAME_PART),
  /** When the API accepted it (its clock). */
  accepted_at: z.iso.datetime(),
  /** The job's payload as queued: never a token or a header (the job schemas have no place for one). */
  data: z.record(z.string(), z.unknown()),
});

/** One accepted job as recorded on the volume. */
export type AcceptedJob = z.infer<typeof acceptedJobSchema>;

/** What {@link AcceptedJobs.list} found: the records, oldest first, and the files it could not use. */
export interface AcceptedJobListing {
  jobs: AcceptedJob[];
  unreadable: { file: string; reason: string }[];
}

/**
 * The durable record of the jobs the API has accepted and no trainer has finished yet: one
 * small file per job, `<queue>+<job id>.json`, written atomically and fsynced before the API
 * answers 202, removed by the trainer once the job is completed or failed for good. Redis holds
 * the queue; this holds what must not be lost if Redis comes back empty (see the trainer's
 * AcceptedJobsReconciler).
 */
export class AcceptedJobs {
  /** The records' folder. */
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, ACCEPTED_JOBS_DIR);
  }

  /** The file of job `jobId` of `queue`; throws on a name that cannot be one safely. */
  fileOf(queue: string, jobId: string): string {
    if (!NAME_PART.test(queue)) throw new Error(`queue name ${JSON.stringify(queue.slice(0, 100))} cannot name an accepted-job record`);
    if (!NAME_PART.test(jobId)) throw new Error(`job id ${JSON.stringify(jobId.slice(0, 100))} cannot name an accepted-job record`);
    return join(this.dir, `${queue}+${jobId}.json`);
  }

  /**
   * Records job `jobId` of `queue` with its payload, durably (fsynced file and folder) before
   * it resolves. Writing it again replaces it whole.
   */
  async record(queue: string, jobId: string, data: object, acceptedAt: Date = new Date()): Promise<void> {
    const record: AcceptedJob = { format_version: 1, queue, job_id: jobId, accepted_at: acceptedAt.toISOString(), data: data as Record<string, unknown> };
    // Compact: a training job's rows are most of the file, and this write is on /train's path.
    await writeFileAtomic(this.fileOf(queue, jobId), `${JSON.stringify(record)}\n`);
  }

  /**
   * Removes the record of a finished job; nothing to remove is not an error. The folder is not
   * fsynced: a removal a power cut undoes brings back the record of a finished job, which the
   * reconciler recognizes (Redis says it finished, or its entry is in the history) and removes.
   */
  async remove(queue: string, jobId: string): Promise<void> {
    await rm(this.fileOf(queue, jobId), { force: true });
  }

  /** The record of job `jobId` of `queue`, or undefined when there is none (damaged: throws). */
  async read(queue: string, jobId: string): Promise<AcceptedJob | undefined> {
    try {
      return await readJsonFile(this.fileOf(queue, jobId), acceptedJobSchema);
    } catch (err) {
      if (err instanceof ArtifactError && err.kind === 'missing') return undefined;
      throw err;
    }
  }

  /** Whether job `jobId` of `queue` still has its record. */
  async has(queue: string, jobId: string): Promise<boolean> {
    try {
      await stat(this.fileOf(queue, jobId));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  /**
   * Every record, oldest accepted first (the order to queue them again in), and the files that
   * are not records (damaged, or named for another job than they hold): those are reported,
   * never removed. A record removed while this reads is left out.
   */
  async list(): Promise<AcceptedJobListing> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { jobs: [], unreadable: [] };
      throw err;
    }
    const out: AcceptedJobListing = { jobs: [], unreadable: [] };
    for (const name of names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort()) {
      const path = join(this.dir, name);
      try {
        const job = await readJsonFile(path, acceptedJobSchema);
        if (`${job.queue}+${job.job_id}.json` !== name) throw new ArtifactError('inconsistent', path, `holds job ${job.job_id} of queue ${job.queue}`);
        out.jobs.push(job);
      } catch (err) {
        if (err instanceof ArtifactError && err.kind === 'missing') continue;
        out.unreadable.push({ file: name, reason: err instanceof ArtifactError ? `${err.kind}: ${err.reason}` : String(err) });
      }
    }
    out.jobs.sort((a, b) => a.accepted_at.localeCompare(b.accepted_at));
    return out;
  }
}
