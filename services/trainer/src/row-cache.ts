import { SetDigest, type LabeledSet } from '@ct/core';

/** Segments joined in order, and the digest of the rows once it has been asked for. */
export interface JoinedRows {
  segments: readonly string[];
  /** The rows of the segments one after another; shared, never to be changed. */
  set: LabeledSet;
  digest?: SetDigest;
}

/**
 * Joins kept: one training set and one growing evaluation set per model in practice, for a
 * few models taking turns on the thread. Each holds references to rows, not copies.
 */
const MAX_JOINS = 8;

/**
 * The fit thread's rows across jobs. A model's training rows gain one segment per accepted job
 * and its growing evaluation rows one more, so joining every segment, sending every row to
 * the thread and hashing the whole training set again made a job's time outside the fit grow
 * with the data. Here the thread keeps every segment it was sent (the client sends each once,
 * see FitThreadClient) and the last joins: a join that extends a kept one copies references
 * and reads only the new segments, and the training set a step builds is kept as the join its
 * list will name if it is activated, with its digest, so the next job finds it whole.
 *
 * Exact by construction: segments are named by the hash of their rows, so a list of hashes
 * names one sequence of rows, whatever store or job it came from.
 */
export class RowCache {
  private readonly segments = new Map<string, LabeledSet>();
  /** Least recently used first. */
  private joins: JoinedRows[] = [];

  /** Keeps the rows of segment `hash` (the hash of `rows`). */
  hold(hash: string, rows: LabeledSet): void {
    this.segments.set(hash, rows);
  }

  /** Whether segment `hash` is kept. */
  holds(hash: string): boolean {
    return this.segments.has(hash);
  }

  /** The rows of `segments` one after another, built from the longest kept join they extend. */
  join(segments: readonly string[]): JoinedRows {
    const only = segments.length === 1 ? this.segments.get(segments[0] as string) : undefined;
    // One segment (the trusted rows): its own rows, no join to keep.
    if (only) return { segments, set: only };
    let base: JoinedRows | undefined;
    for (const j of this.joins) {
      if (j.segments.length <= segments.length && (base === undefined || j.segments.length > base.segments.length) && isPrefix(j.segments, segments)) base = j;
    }
    if (base && base.segments.length === segments.length) return this.keep(base);
    const from = base?.segments.length ?? 0;
    const x = base ? base.set.x.slice() : [];
    const y = base ? base.set.y.slice() : [];
    const digest = base?.digest?.fork();
    for (const h of segments.slice(from)) {
      const rows = this.segments.get(h);
      if (!rows) throw new Error(`fit thread: segment ${h} was never sent`);
      // A loop, not spreads: a spread of a large segment overflows the argument stack.
      for (let i = 0; i < rows.y.length; i++) {
        x.push(rows.x[i] as LabeledSet['x'][number]);
        y.push(rows.y[i] as number);
      }
      digest?.append(rows);
    }
    return this.keep({ segments: [...segments], set: { x, y }, ...(digest ? { digest } : {}) });
  }

  /** The digest of a join's rows (computed once, then extended by the joins built on it). */
  digestOf(j: JoinedRows): SetDigest {
    j.digest ??= SetDigest.of(j.set);
    return j.digest;
  }

  /**
   * Keeps `set`, the rows of `base` followed by segment `hash` (whose rows are `rows`), as a
   * join: what the list `base` + `hash` will name. `digest` is the digest of `set`.
   */
  extended(base: readonly string[], hash: string, rows: LabeledSet, set: LabeledSet, digest: SetDigest): void {
    this.hold(hash, rows);
    this.keep({ segments: [...base, hash], set, digest });
  }

  private keep(j: JoinedRows): JoinedRows {
    this.joins = this.joins.filter((k) => k !== j);
    this.joins.push(j);
    if (this.joins.length > MAX_JOINS) this.joins.shift();
    return j;
  }
}

function isPrefix(a: readonly string[], b: readonly string[]): boolean {
  // Newest first: two lists of one model share their start, so a mismatch shows at the end.
  for (let i = a.length - 1; i >= 0; i--) if (a[i] !== b[i]) return false;
  return true;
}
