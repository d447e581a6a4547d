import { percentile, stratifiedBootstrapF1 } from '../src/bootstrap';
import { confusionMatrix, evaluate, perClassMetrics } from '../src/metrics';
import { createRng } from '../src/random';

/** Labels drawn uniformly from `nClasses`, predicted correctly with probability `accuracy`. */
function noisyClassifier(
  n: number,
  nClasses: number,
  accuracy: number,
  seed: number,
): { y: Int32Array; p: Int32Array } {
  const rng = createRng(seed);
  const y = new Int32Array(n);
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = rng.int(nClasses);
    y[i] = label;
    p[i] = rng.next() < accuracy ? label : rng.int(nClasses);
  }
  return { y, p };
}

/**
 * The obvious, slow implementation of the procedure: materialise each resample row by row
 * (class 0 first, rows of a class in their original order) and score it with metrics.ts.
 */
function naiveBootstrapF1(
  y: ArrayLike<number>,
  p: ArrayLike<number>,
  nClasses: number,
  resamples: number,
  seed: number,
  confidence: number,
): { low: number; high: number }[] {
  const rng = createRng(seed);
  const rowsByClass = Array.from({ length: nClasses }, (): number[] => []);
  for (let i = 0; i < y.length; i++) rowsByClass[y[i] as number]?.push(i);
  const names = Array.from({ length: nClasses }, (_, k) => String(k));
  const scores = Array.from({ length: nClasses }, (): number[] => []);
  for (let r = 0; r < resamples; r++) {
    const yr: number[] = [];
    const pr: number[] = [];
    for (const rows of rowsByClass) {
      for (let d = 0; d < rows.length; d++) {
        const i = rows[rng.int(rows.length)] as number;
        yr.push(y[i] as number);
        pr.push(p[i] as number);
      }
    }
    perClassMetrics(confusionMatrix(yr, pr, nClasses), names).forEach((m, k) => scores[k]?.push(m.f1));
  }
  const alpha = 1 - confidence;
  return scores.map((s) => {
    s.sort((a, b) => a - b);
    return { low: percentile(s, alpha / 2), high: percentile(s, 1 - alpha / 2) };
  });
}

describe('stratifiedBootstrapF1', () => {
  it('agrees with a row-by-row resampling scored with perClassMetrics', () => {
    // Counts drawn from each class's confusion row have the distribution of rows drawn one by
    // one, but not the same draws: the two agree up to Monte Carlo error, which 4,000
    // resamples bring well under 0.01 on these data (the widths are 0.1 to 0.3).
    for (const [n, nClasses, accuracy] of [
      [90, 4, 0.6],
      [400, 3, 0.9],
    ] as const) {
      const { y, p } = noisyClassifier(n, nClasses, accuracy, 7);
      const fast = stratifiedBootstrapF1(y, p, nClasses, { resamples: 4000, seed: 3, confidence: 0.9 });
      const slow = naiveBootstrapF1(y, p, nClasses, 4000, 3, 0.9);
      expect(fast).toHaveLength(nClasses);
      fast.forEach((ci, k) => {
        expect(Math.abs(ci.low - (slow[k]?.low as number))).toBeLessThan(0.01);
        expect(Math.abs(ci.high - (slow[k]?.high as number))).toBeLessThan(0.01);
      });
    }
  });

  it('depends on the confusion matrix only, however many rows it counts', () => {
    // What the draws cost does not grow with the rows (the evaluation set grows with every
    // activated batch): rows in another order give the same intervals, and a million rows
    // are as valid an input as three hundred.
    const { y, p } = noisyClassifier(300, 3, 0.8, 8);
    const big = (a: Int32Array) => {
      const out = new Int32Array(a.length * 1000);
      for (let i = 0; i < out.length; i++) out[i] = a[i % a.length] as number;
      return out;
    };
    const reordered = (a: Int32Array, b: Int32Array) => {
      const idx = Array.from(a, (_, i) => i).sort((i, j) => (a[j] as number) - (a[i] as number) || (b[i] as number) - (b[j] as number));
      return { y: Int32Array.from(idx, (i) => a[i] as number), p: Int32Array.from(idx, (i) => b[i] as number) };
    };
    const other = reordered(y, p);
    expect(stratifiedBootstrapF1(other.y, other.p, 3, { resamples: 200 })).toEqual(stratifiedBootstrapF1(y, p, 3, { resamples: 200 }));
    const million = stratifiedBootstrapF1(big(y), big(p), 3, { resamples: 200 });
    const point = evaluate(y, p, ['a', 'b', 'c']).per_class;
    million.forEach((ci, k) => {
      // A thousand times the rows: an interval a thirtieth as wide, around the same F1.
      expect(ci.high - ci.low).toBeLessThan(0.01);
      expect(ci.low).toBeLessThan((point[k]?.f1 as number) + 1e-9);
      expect(ci.high).toBeGreaterThan((point[k]?.f1 as number) - 1e-9);
    });
  });

  it('is deterministic for a seed and changes with it', () => {
    const { y, p } = noisyClassifier(200, 3, 0.7, 1);
    const a = stratifiedBootstrapF1(y, p, 3, { resamples: 200, seed: 11 });
    expect(stratifiedBootstrapF1(y, p, 3, { resamples: 200, seed: 11 })).toEqual(a);
    expect(stratifiedBootstrapF1(y, p, 3, { resamples: 200, seed: 12 })).not.toEqual(a);
    // Defaults are resamples = 1000, seed = 42, confidence = 0.95.
    expect(stratifiedBootstrapF1(y, p, 3)).toEqual(
      stratifiedBootstrapF1(y, p, 3, { resamples: 1000, seed: 42, confidence: 0.95 }),
    );
  });

  it('brackets the point estimate of metrics.ts', () => {
    const { y, p } = noisyClassifier(1000, 5, 0.75, 2);
    const point = evaluate(y, p, ['a', 'b', 'c', 'd', 'e']).per_class;
    const cis = stratifiedBootstrapF1(y, p, 5, { resamples: 400 });
    expect(cis).toHaveLength(5);
    cis.forEach((ci, k) => {
      const f1 = point[k]?.f1 as number;
      expect(ci.low).toBeLessThan(f1);
      expect(ci.high).toBeGreaterThan(f1);
      expect(ci.high - ci.low).toBeLessThan(0.15);
    });
  });

  it('gives [1, 1] for a perfect classifier', () => {
    const { y } = noisyClassifier(300, 3, 1, 4);
    expect(stratifiedBootstrapF1(y, y, 3, { resamples: 50 })).toEqual([
      { low: 1, high: 1 },
      { low: 1, high: 1 },
      { low: 1, high: 1 },
    ]);
  });

  it('collapses to the metrics.ts F1 when every class is always predicted the same way', () => {
    // Class 0 is always called 1, class 1 always 1, class 2 always 2, class 3 never occurs: every
    // resample equals the data, including the zero_division = 0 cases (F1 of classes 0 and 3).
    const y = [0, 0, 0, 1, 1, 2, 2, 2, 2];
    const p = [1, 1, 1, 1, 1, 2, 2, 2, 2];
    const point = perClassMetrics(confusionMatrix(y, p, 4), ['0', '1', '2', '3']);
    const intervals = stratifiedBootstrapF1(y, p, 4, { resamples: 20 });
    expect(intervals).toHaveLength(4);
    intervals.forEach((ci, k) => {
      const f1 = point[k]?.f1 as number;
      expect(ci.low).toBeCloseTo(f1, 14);
      expect(ci.high).toBeCloseTo(f1, 14);
    });
    expect(point[1]?.f1).toBeCloseTo(4 / 7, 14);
  });

  it('narrows with more data and widens with confidence', () => {
    const width = (ci: { low: number; high: number }): number => ci.high - ci.low;
    const small = noisyClassifier(200, 3, 0.8, 5);
    const large = noisyClassifier(5000, 3, 0.8, 5);
    const smallCis = stratifiedBootstrapF1(small.y, small.p, 3, { resamples: 200 });
    const largeCis = stratifiedBootstrapF1(large.y, large.p, 3, { resamples: 200 });
    const wideCis = stratifiedBootstrapF1(small.y, small.p, 3, { resamples: 200, confidence: 0.99 });
    for (let k = 0; k < 3; k++) {
      // Width scales like 1/sqrt(n): 25x the rows should give roughly a fifth of the width.
      expect(width(largeCis[k] as { low: number; high: number })).toBeLessThan(
        0.35 * width(smallCis[k] as { low: number; high: number }),
      );
      expect(width(wideCis[k] as { low: number; high: number })).toBeGreaterThan(
        width(smallCis[k] as { low: number; high: number }),
      );
    }
  });

  it('handles empty input and rejects invalid arguments', () => {
    expect(stratifiedBootstrapF1([], [], 2, { resamples: 5 })).toEqual([
      { low: 0, high: 0 },
      { low: 0, high: 0 },
    ]);
    expect(() => stratifiedBootstrapF1([0, 1], [0], 2)).toThrow(RangeError);
    expect(() => stratifiedBootstrapF1([0, 2], [0, 1], 2)).toThrow(RangeError);
    expect(() => stratifiedBootstrapF1([0, 1], [0, -1], 2)).toThrow(RangeError);
    expect(() => stratifiedBootstrapF1([0, 0.5], [0, 1], 2)).toThrow(RangeError);
    expect(() => stratifiedBootstrapF1([0, 1], [0, 1], 0)).toThrow(RangeError);
    expect(() => stratifiedBootstrapF1([0, 1], [0, 1], 2, { resamples: 0 })).toThrow(RangeError);
    expect(() => stratifiedBootstrapF1([0, 1], [0, 1], 2, { confidence: 1 })).toThrow(RangeError);
  });
});

describe('percentile', () => {
  it('interpolates linearly like numpy.percentile', () => {
    // /usr/bin/python3 -c "import numpy as np; print(np.quantile([1, 2, 3, 4], [0, 0.025, 0.25, 0.5, 0.975, 1]))"
    // -> [1. 1.075 1.75 2.5 3.925 4.]
    const xs = [1, 2, 3, 4];
    const qs = [0, 0.025, 0.25, 0.5, 0.975, 1];
    const expected = [1, 1.075, 1.75, 2.5, 3.925, 4];
    qs.forEach((q, i) => expect(percentile(xs, q)).toBeCloseTo(expected[i] as number, 14));
    expect(percentile(Float64Array.of(7), 0.3)).toBe(7);
    expect(percentile([], 0.5)).toBeNaN();
    expect(() => percentile(xs, 1.5)).toThrow(RangeError);
  });
});
