import { createHash, type Hash } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import type { LabeledSet } from './labeled-set';

/**
 * {@link setHash} of a set that grows at its end, fed row by row: appending hashes only the
 * rows appended, so the hash of a training set that gains a batch per job costs the batch,
 * not the whole set again.
 *
 * The canonical JSON of a set is `{"x":[row,row,...],"y":[label,...]}`: the rows' part is a
 * prefix that only grows, so its sha256 state is kept and extended; the labels' part comes
 * after every row, so it is kept as text (a few bytes a row) and hashed when a digest is
 * asked for. Each row and label is written with {@link canonicalJson}, as setHash writes them,
 * so the digests are equal byte for byte.
 */
export class SetDigest {
  private constructor(
    private readonly rows: Hash,
    private labels: string,
    private count: number,
  ) {}

  /** The digest of `set` (of the empty set when omitted), ready to be extended. */
  static of(set?: LabeledSet): SetDigest {
    const d = new SetDigest(createHash('sha256').update('{"x":['), '', 0);
    return set ? d.append(set) : d;
  }

  /** Rows in the set so far. */
  get size(): number {
    return this.count;
  }

  /** An independent copy: extending it leaves this one as it is. */
  fork(): SetDigest {
    return new SetDigest(this.rows.copy(), this.labels, this.count);
  }

  /** Takes in the rows of `set` after the ones already in; returns this digest. */
  append(set: LabeledSet): this {
    if (set.x.length !== set.y.length) throw new RangeError(`${set.x.length} rows but ${set.y.length} labels`);
    let rows = '';
    let labels = '';
    for (let i = 0; i < set.y.length; i++) {
      const sep = this.count + i > 0 ? ',' : '';
      rows += sep + canonicalJson(set.x[i]);
      labels += sep + canonicalJson(set.y[i]);
    }
    this.rows.update(rows);
    this.labels += labels;
    this.count += set.y.length;
    return this;
  }

  /** setHash of the rows taken in so far (hex sha256); the digest can still be extended. */
  hex(): string {
    return this.rows.copy().update(`],"y":[${this.labels}]}`).digest('hex');
  }
}
