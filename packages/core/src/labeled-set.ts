import { z } from 'zod';
import { sha256Canonical } from './canonical-json';
import { createRng, shuffleInPlace } from './random';

/**
 * One cell of a row as stored and sent: a number (numeric and integer features), a string (a
 * categorical feature's level) or null (missing, for features that impute). The model's
 * preprocessing turns rows of these into numbers; algorithms see only numbers.
 */
export type RawValue = number | string | null;

/** Rows of features with a class index each: training data, evaluation sets, batches. */
export const labeledSetSchema = z
  .strictObject({
    x: z.array(z.array(z.union([z.number(), z.string(), z.null()]))),
    y: z.array(z.number().int().nonnegative()),
  })
  .refine((s) => s.x.length === s.y.length, { message: 'x and y must have the same length' });

/** Rows of features with a class index each: training data, evaluation sets, batches. */
export interface LabeledSet {
  x: RawValue[][];
  y: number[];
}

/** An empty set. */
export const emptySet = (): LabeledSet => ({ x: [], y: [] });

/** `a` followed by `b`. */
export function concatSets(a: LabeledSet, b: LabeledSet): LabeledSet {
  return { x: [...a.x, ...b.x], y: [...a.y, ...b.y] };
}

/** The rows of `set` at `indices`, in that order. */
export function subset(set: LabeledSet, indices: readonly number[]): LabeledSet {
  return { x: indices.map((i) => set.x[i] as number[]), y: indices.map((i) => set.y[i] as number) };
}

/** sha256 of the canonical JSON of a set: recorded with every version for reproducibility. */
export function setHash(set: LabeledSet): string {
  return sha256Canonical({ x: set.x, y: set.y });
}

/** Number of distinct labels in `y`. */
export function distinctLabels(y: readonly number[]): number {
  return new Set(y).size;
}

/**
 * Stratified split of row indices: `round(fraction * n)` rows go to the held-out side, shared
 * between classes in proportion to their counts (largest remainders first, ties to the lower
 * class index; a class keeps at least one training row), each class shuffled with the seed. Deterministic for a seed and input order.
 */
export function stratifiedSplit(
  y: readonly number[],
  fraction: number,
  seed: number,
): { train: number[]; holdout: number[] } {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`fraction must be in (0, 1), got ${fraction}`);
  const byClass = new Map<number, number[]>();
  y.forEach((label, i) => {
    const list = byClass.get(label);
    if (list) list.push(i);
    else byClass.set(label, [i]);
  });
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const total = Math.round(fraction * y.length);
  // A class never gives up its last row: a batch's held-out slice must not remove a class
  // from training.
  const quotas = classes.map((c) => {
    const count = (byClass.get(c) as number[]).length;
    const exact = fraction * count;
    return { c, cap: count - 1, take: Math.min(Math.floor(exact), count - 1), rest: exact - Math.floor(exact) };
  });
  let left = total - quotas.reduce((a, q) => a + q.take, 0);
  for (const q of [...quotas].sort((a, b) => b.rest - a.rest || a.c - b.c)) {
    if (left <= 0) break;
    if (q.take < q.cap) {
      q.take += 1;
      left -= 1;
    }
  }
  const rng = createRng(seed);
  const train: number[] = [];
  const holdout: number[] = [];
  for (const q of quotas) {
    const idx = shuffleInPlace([...(byClass.get(q.c) as number[])], rng);
    // A loop, not push(...slice): spreading hundreds of thousands of arguments overflows the stack.
    for (let i = 0; i < idx.length; i++) (i < q.take ? holdout : train).push(idx[i] as number);
  }
  const asc = (a: number, b: number) => a - b;
  return { train: train.sort(asc), holdout: holdout.sort(asc) };
}
