import { ArtifactError, type Artifact, type HistoryEntry, type ModelStore, type VersionData } from '@ct/registry';
import { isCandidate } from '../registry-views';
import type { Run } from './run-schemas';
import { judgingRows, runTimes, runView } from './run-view';

/**
 * Reads runs: each candidate entry of the history with its version's artifact and data. Runs
 * never change (the entry, the artifact and the data are written once), so each is built once
 * per process and kept, per store; a run whose files could not be read is built again next
 * time, in case they were repaired.
 */

const built = new WeakMap<ModelStore, Map<number, Run>>();

/** Most runs kept per model; past it, the oldest built are dropped (and rebuilt on demand). */
const KEPT_RUNS = 20_000;

/** Files read at once while building runs: enough to overlap I/O, few enough for the descriptors. */
const PARALLEL_READS = 16;

/** How a files error is shown: relative to the data directory, never a server path. */
export type DescribeError = (err: ArtifactError) => string;

async function build(store: ModelStore, entries: readonly HistoryEntry[], index: number, describe: DescribeError): Promise<Run> {
  const entry = entries[index] as HistoryEntry;
  let artifact: Artifact | null = null;
  let data: VersionData | null = null;
  let filesError: string | null = null;
  try {
    [artifact, data] = await Promise.all([store.readVersion(entry.version), store.readVersionData(entry.version)]);
  } catch (err) {
    if (!(err instanceof ArtifactError)) throw err;
    filesError = describe(err);
  }
  return runView({ model: store.model, entry, judgedBy: judgingRows(entries, index), artifact, data, filesError });
}

/** The run of `entries[index]` (a candidate entry), built or kept. */
async function runAt(store: ModelStore, entries: readonly HistoryEntry[], index: number, describe: DescribeError): Promise<Run> {
  let kept = built.get(store);
  if (!kept) built.set(store, (kept = new Map<number, Run>()));
  const entry = entries[index] as HistoryEntry;
  const hit = kept.get(entry.seq);
  // A rebuilt history could give a seq to another entry: keep only what still matches.
  if (hit && hit.info.version === entry.version && hit.info.end_time === runTimes(entry).endTime) return hit;
  const run = await build(store, entries, index, describe);
  if (run.files_error === undefined) {
    kept.set(entry.seq, run);
    if (kept.size > KEPT_RUNS) kept.delete(kept.keys().next().value as number);
  }
  return run;
}

/** Every run of the model, oldest first. */
export async function readRuns(store: ModelStore, entries: readonly HistoryEntry[], describe: DescribeError): Promise<Run[]> {
  const indices = entries.flatMap((e, i) => (isCandidate(e) ? [i] : []));
  const runs: Run[] = [];
  for (let i = 0; i < indices.length; i += PARALLEL_READS) {
    runs.push(...(await Promise.all(indices.slice(i, i + PARALLEL_READS).map((index) => runAt(store, entries, index, describe)))));
  }
  return runs;
}

/**
 * The run recorded by entry `seq`, or a reason it is none: no such entry, or an entry that
 * fitted nothing (a reset, a rollback, a change of the trusted rows).
 */
export async function readRun(store: ModelStore, entries: readonly HistoryEntry[], seq: number, describe: DescribeError): Promise<Run | { missing: string }> {
  const index = entries.findIndex((e) => e.seq === seq);
  const entry = entries[index];
  if (!entry) return { missing: 'no such history entry' };
  if (!isCandidate(entry)) return { missing: `entry ${seq} is a ${entry.source} (${entry.status}), which fitted no candidate` };
  return runAt(store, entries, index, describe);
}
