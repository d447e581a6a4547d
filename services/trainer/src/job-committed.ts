import type { AnyJobData } from '@ct/queue';
import { readArchive, readRegistration, type ModelStore } from '@ct/registry';

/** Where a job's effect would be recorded. */
export interface JobCommittedDeps {
  dataDir: string;
  /** The model's store (the pipeline's kept one: its history is read incrementally). */
  storeOf: (model: string) => ModelStore;
}

/**
 * Whether job `jobId` has already taken effect, as the volume records it: a model queue's job
 * by its history entry (every job that changes a model commits one, carrying its id), a
 * registration by `spec.json` and an archive by `archived.json` (both name the job that wrote
 * them). A job that changed nothing (a rollback to the active version) or failed left no
 * trace: false. Damaged files throw (an ArtifactError naming the file).
 */
export async function isJobCommitted(deps: JobCommittedDeps, jobId: string, data: AnyJobData): Promise<boolean> {
  switch (data.kind) {
    case 'register':
      return (await readRegistration(deps.dataDir, data.model))?.job_id === jobId;
    case 'archive':
      return (await readArchive(deps.dataDir, data.model))?.job_id === jobId;
    default:
      return (await deps.storeOf(data.model).history.findJob(jobId)) !== undefined;
  }
}
