import type { AnyJobData, AnyJobResult } from '@ct/queue';
import type { AcceptedJob } from '@ct/registry';
import type { Job } from 'bullmq';

/** The states a client sees; BullMQ's finer states map onto them. */
export type JobState = 'queued' | 'running' | 'completed' | 'failed';

/** `GET /jobs/:id` body. */
export interface JobView {
  job_id: string;
  model: string;
  kind: AnyJobData['kind'];
  state: JobState;
  progress: unknown;
  result: AnyJobResult | null;
  error: string | null;
  attempts_made: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  status_url: string;
}

const iso = (ms: number | undefined | null): string | null => (ms ? new Date(ms).toISOString() : null);

/**
 * The view of an accepted job known only from its record on the volume (Redis lost it, and no
 * trainer has queued it again yet): queued, as it will be again.
 */
export function recordedJobView(record: AcceptedJob): JobView {
  const data = record.data as unknown as AnyJobData;
  return {
    job_id: record.job_id,
    model: data.model,
    kind: data.kind,
    state: 'queued',
    progress: 0,
    result: null,
    error: null,
    attempts_made: 0,
    created_at: record.accepted_at,
    started_at: null,
    finished_at: null,
    status_url: statusUrl(record.job_id),
  };
}

/** Maps BullMQ's state names onto the four the API documents. */
export function mapState(state: string): JobState {
  switch (state) {
    case 'active':
      return 'running';
    case 'completed':
      return 'completed';
    case 'failed':
      return 'failed';
    default:
      // waiting, delayed (a retry's backoff), prioritized, waiting-children, unknown
      return 'queued';
  }
}

/** Path of a job's status resource. */
export const statusUrl = (jobId: string): string => `/jobs/${encodeURIComponent(jobId)}`;

/**
 * The client's view of a job. `state` must have been read before `job`: completion stores
 * the result and the state together, so data read after a `completed` state has the result.
 */
export function jobView(job: Job<AnyJobData, AnyJobResult>, bullState: string): JobView {
  const state = mapState(bullState);
  const id = job.id as string;
  return {
    job_id: id,
    model: job.data.model,
    kind: job.data.kind,
    state,
    progress: job.progress,
    result: state === 'completed' ? (job.returnvalue ?? null) : null,
    error: state === 'failed' ? (job.failedReason ?? 'failed') : null,
    attempts_made: job.attemptsMade,
    created_at: iso(job.timestamp) as string,
    started_at: iso(job.processedOn),
    finished_at: iso(job.finishedOn),
    status_url: statusUrl(id),
  };
}
