import { ArtifactError, CommitConflictError } from './artifact-error';
import { DirectoryStore, storeKey, type ArtifactStore } from './artifact-store';
import { historyEntrySchema, type HistoryEntry } from './records';
import { parseSealed, sealedText } from './sealed';

const NAME = /^(\d{9})\.json$/;

/** File name of entry `seq`: zero-padded, so that names sort as numbers. */
export const historyFileName = (seq: number): string => `${String(seq).padStart(9, '0')}.json`;

/**
 * A model's history as an append-only log: entry N is `<prefix>/<N>.json` in an
 * {@link ArtifactStore}, created exclusively (see {@link ArtifactStore.createExclusive}), so
 * of two writers of entry N exactly one succeeds, on one host or on several sharing the
 * volume; the other gets a
 * {@link CommitConflictError} and gates again against the new champion. A commit writes one
 * small file whatever the length of the history.
 *
 * Entries never change once written, so the ones read are kept in memory; `sync` reads only
 * entries it has not seen, and checks that the newest one it knows is still there.
 */
export class HistoryLog {
  private entries: HistoryEntry[] = [];
  private byJob = new Map<string, HistoryEntry>();
  /** The sync in progress: concurrent callers share it, so the copy is never appended to twice. */
  private syncing: Promise<readonly HistoryEntry[]> | undefined;

  /** Where the log lives, for messages (the folder's path for a directory store). */
  readonly dir: string;
  private readonly store: ArtifactStore;

  /**
   * The log in folder `prefix` of `store`; a string is a directory holding the log (the
   * store is then that directory, so `new HistoryLog(dir)` works as it always did).
   */
  constructor(store: string | ArtifactStore, private readonly prefix = '') {
    this.store = typeof store === 'string' ? new DirectoryStore(store) : store;
    this.dir = this.store.locate(prefix);
  }

  private key(seq: number): string {
    return storeKey(this.prefix, historyFileName(seq));
  }

  private path(seq: number): string {
    return this.store.locate(this.key(seq));
  }

  private async readEntry(seq: number): Promise<HistoryEntry | undefined> {
    const path = this.path(seq);
    const text = await this.store.read(this.key(seq));
    if (text === undefined) return undefined;
    const entry = parseSealed(path, text, 'history_entry', historyEntrySchema);
    if (entry.seq !== seq) throw new ArtifactError('inconsistent', path, `holds entry ${entry.seq}`);
    return entry;
  }

  private reset(): void {
    this.entries = [];
    this.byJob = new Map();
  }

  private remember(entry: HistoryEntry): void {
    // Only the next entry extends the copy; anything else was already taken in.
    if (entry.seq !== this.entries.length + 1) return;
    this.entries.push(entry);
    if (entry.job_id !== null) this.byJob.set(entry.job_id, entry);
  }

  /** Entry numbers present on disk (files only; no content read). */
  private async listSeqs(): Promise<number[]> {
    // An unreadable folder is an ArtifactError naming it (the store's contract).
    const names = await this.store.list(this.prefix);
    return names
      .map((n) => NAME.exec(n)?.[1])
      .filter((m): m is string => m !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  /**
   * Brings the in-memory copy up to date and returns every entry, oldest first. Throws an
   * ArtifactError when an entry is damaged or missing from the middle of the log.
   */
  sync(): Promise<readonly HistoryEntry[]> {
    this.syncing ??= this.syncOnce().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async syncOnce(): Promise<readonly HistoryEntry[]> {
    const last = this.entries.at(-1);
    if (last) {
      // A log deleted or cut short under a running process: start again from the files.
      const still = await this.store.stamp(this.key(last.seq)).then(
        (s) => s !== undefined,
        () => false,
      );
      if (!still) this.reset();
    }
    if (this.entries.length === 0) {
      const seqs = await this.listSeqs();
      const max = seqs.at(-1) ?? 0;
      if (seqs.length !== max) {
        const missing = Array.from({ length: max }, (_, i) => i + 1).find((s) => !seqs.includes(s));
        throw new ArtifactError('inconsistent', this.path(missing ?? 1), `history entry ${missing} is missing (entries up to ${max} exist)`);
      }
      // Read in order, a bounded number at a time: a long history is read once per process.
      for (let from = 1; from <= max; from += 64) {
        const chunk = await Promise.all(Array.from({ length: Math.min(64, max - from + 1) }, (_, i) => this.readEntry(from + i)));
        for (const [i, e] of chunk.entries()) {
          if (!e) throw new ArtifactError('inconsistent', this.path(from + i), 'history entry vanished while being read');
          this.remember(e);
        }
      }
    }
    for (;;) {
      const next = await this.readEntry(this.entries.length + 1);
      if (!next) break;
      this.remember(next);
    }
    return this.entries;
  }

  /** The newest entry, or undefined when the log is empty. */
  async head(): Promise<HistoryEntry | undefined> {
    return (await this.sync()).at(-1);
  }

  /** The entry committed by job `jobId`, if any. */
  async findJob(jobId: string): Promise<HistoryEntry | undefined> {
    await this.sync();
    return this.byJob.get(jobId);
  }

  /**
   * Appends `entry` as entry `entry.seq`, which must be one past the head the caller read.
   * Throws {@link CommitConflictError} when another writer took that number first. The file
   * is fsynced before this returns: a job reported done has a durable entry.
   */
  async append(entry: HistoryEntry): Promise<void> {
    const parsed = historyEntrySchema.parse(entry);
    const created = await this.store.createExclusive(this.key(parsed.seq), sealedText('history_entry', parsed));
    if (!created) throw new CommitConflictError(parsed.seq);
    this.remember(parsed);
  }
}
