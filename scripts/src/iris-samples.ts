import { createRng } from '@ct/core';

// Iris rows for the demo and the benchmark, generated from a seed so that runs repeat.

/** One iris flower, in centimetres. */
export interface IrisRow {
  sepal_length: number;
  sepal_width: number;
  petal_length: number;
  petal_width: number;
}

/** An iris row with its class index (0 setosa, 1 versicolor, 2 virginica). */
export type IrisSample = IrisRow & { label: number };

/** A typical setosa (the first row of the Iris data). */
export const SETOSA: IrisRow = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };

// The means of the bundled Iris data per class, in feature order.
const CENTRES: readonly (readonly number[])[] = [
  [5.006, 3.428, 1.462, 0.246],
  [5.936, 2.77, 4.26, 1.326],
  [6.588, 2.974, 5.552, 2.026],
];

const round1 = (v: number): number => Math.round(v * 10) / 10;

/**
 * `n` correctly labeled flowers, classes in turn: each class's mean plus seeded normal
 * jitter of `jitter` cm, rounded to 1 mm as the data set is.
 */
export function cleanIrisSamples(n: number, seed: number, jitter = 0.1): IrisSample[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, i) => {
    const label = i % 3;
    const [a, b, c, d] = (CENTRES[label] as number[]).map((m) => Math.max(0.1, round1(m + rng.normal() * jitter))) as [number, number, number, number];
    return { sepal_length: a, sepal_width: b, petal_length: c, petal_width: d, label };
  });
}

/** `n` rows of noise: plausible measurements (within the data set's ranges) with random labels. */
export function noisyIrisSamples(n: number, seed: number): IrisSample[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => ({
    sepal_length: round1(4.3 + rng.next() * 3.6),
    sepal_width: round1(2.0 + rng.next() * 2.4),
    petal_length: round1(1.0 + rng.next() * 5.9),
    petal_width: round1(0.1 + rng.next() * 2.4),
    label: rng.int(3),
  }));
}
