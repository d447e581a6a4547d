import { setHash, type LabeledSet } from '@ct/core';
import { ArtifactError } from './artifact-error';
import { DirectoryStore, readExisting, storeKey, type ArtifactStore } from './artifact-store';
import { parseJsonFile } from './read-json';
import { RECORD_FORMAT } from './sealed';
import { segmentFileSchema } from './records';

/**
 * Labeled rows stored once under `segments/<hash>.json`, the hash of the rows being their
 * name and their checksum. A version's training data is a list of segments, so a job writes
 * only its own batch, never the whole data again. Segments never change once written, so
 * the ones read are kept in memory.
 */
export class SegmentStore {
  private readonly cache = new Map<string, LabeledSet>();

  /** Where the segments live, for messages (the folder's path for a directory store). */
  readonly dir: string;
  private readonly store: ArtifactStore;

  /** The segments in folder `prefix` of `store`; a string is a directory holding them. */
  constructor(store: string | ArtifactStore, private readonly prefix = '') {
    this.store = typeof store === 'string' ? new DirectoryStore(store) : store;
    this.dir = this.store.locate(prefix);
  }

  private key(hash: string): string {
    return storeKey(this.prefix, `${hash}.json`);
  }

  /** Stores `set` (a no-op when a segment with its hash exists) and returns its hash. */
  async put(set: LabeledSet): Promise<string> {
    const hash = setHash(set);
    if (!this.cache.has(hash)) {
      const text = `${JSON.stringify({ format_version: RECORD_FORMAT, kind: 'segment', rows: set.y.length, data: set })}\n`;
      // Taken means another job stored the same rows: content-addressed, so they are equal.
      await this.store.createExclusive(this.key(hash), text);
      this.cache.set(hash, set);
    }
    return hash;
  }

  /** The rows of segment `hash`, checked against their hash. */
  async get(hash: string): Promise<LabeledSet> {
    const hit = this.cache.get(hash);
    if (hit) return hit;
    const path = this.store.locate(this.key(hash));
    const file = parseJsonFile(path, await readExisting(this.store, this.key(hash)), segmentFileSchema);
    if (file.rows !== file.data.y.length || setHash(file.data) !== hash) {
      throw new ArtifactError('checksum_mismatch', path, 'the rows do not match the segment\'s hash');
    }
    this.cache.set(hash, file.data);
    return file.data;
  }

  /** The segments' rows one after another. */
  async concat(hashes: readonly string[]): Promise<LabeledSet> {
    const sets = await Promise.all(hashes.map((h) => this.get(h)));
    const out: LabeledSet = { x: [], y: [] };
    // A loop, not spreads: a spread of a large segment overflows the argument stack.
    for (const s of sets) {
      for (let i = 0; i < s.y.length; i++) {
        out.x.push(s.x[i] as number[]);
        out.y.push(s.y[i] as number);
      }
    }
    return out;
  }
}
