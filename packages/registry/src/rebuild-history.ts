import { ArtifactError } from './artifact-error';
import type { ModelStore } from './model-store';
import type { HistoryEntry } from './records';

/** What {@link rebuildHistory} did. */
export interface RebuildReport {
  /** Entries written, oldest first. */
  entries: { seq: number; version: string; status: HistoryEntry['status'] }[];
  /** The version live after the rebuild. */
  active: string;
}

/**
 * Rebuilds a lost history from `versions/`: every candidate's data holds the entry that
 * recorded it, so the attempts come back in their order, renumbered from 1, and the active
 * file follows the last one. Resets and trusted-set changes are not versions and do not come
 * back: the model ends where its last candidate left it (queue a reset afterwards if it had
 * been reset since). Refuses when the history is not empty, or when two candidates claim one
 * entry (a trainer crashed between writing a candidate and committing it): it names them, and
 * the one that never went live is to be moved aside.
 */
export async function rebuildHistory(store: ModelStore): Promise<RebuildReport> {
  const existing = await store.history.sync();
  if (existing.length > 0) throw new ArtifactError('inconsistent', store.history.dir, `the history has ${existing.length} entries; only an empty one is rebuilt`);
  const versions = await store.listVersions();
  if (versions.length === 0) throw new ArtifactError('missing', store.dir, 'no versions to rebuild a history from');
  const recorded = await Promise.all(versions.map(async (v) => ({ v, entry: (await store.readVersionData(v)).entry })));
  recorded.sort((a, b) => a.entry.seq - b.entry.seq);
  for (let i = 1; i < recorded.length; i++) {
    const [a, b] = [recorded[i - 1], recorded[i]] as [(typeof recorded)[number], (typeof recorded)[number]];
    if (a.entry.seq === b.entry.seq) {
      throw new ArtifactError('inconsistent', store.dir, `versions ${a.v} and ${b.v} both claim history entry ${a.entry.seq}; move the one that was never committed out of versions/ and run again`);
    }
  }
  const written: RebuildReport['entries'] = [];
  for (const [i, { entry }] of recorded.entries()) {
    await store.commit({ ...entry, seq: i + 1 });
    written.push({ seq: i + 1, version: entry.version, status: entry.status });
  }
  const active = (await store.applyActive()) as string;
  return { entries: written, active };
}
