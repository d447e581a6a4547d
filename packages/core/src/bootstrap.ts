import { binomialDraw } from './binomial';
import { createRng } from './random';
import type { ConfidenceInterval } from './wilson';

/** Options of {@link stratifiedBootstrapF1}. */
export interface BootstrapOptions {
  /** Number of bootstrap resamples; a positive integer, default 1000. */
  resamples?: number;
  /** Seed of the resampling generator; the same seed gives the same intervals. Default 42. */
  seed?: number;
  /** Two-sided confidence level in (0, 1); default 0.95. */
  confidence?: number;
}

/**
 * Percentile bootstrap confidence interval of each class's F1 score, stratified by true class.
 *
 * Each resample draws, for every true class `k` in turn, `support_k` rows with replacement from
 * the rows whose true label is `k`, then scores per-class F1 on the resample. Stratifying keeps
 * every class's support fixed, so a rare class cannot vanish from a resample (its F1 would then
 * be undefined) and the interval reflects only the uncertainty of the predictions. The interval
 * is the `(1 - confidence)/2` and `(1 + confidence)/2` percentiles of the resampled F1 values
 * (linear interpolation, see {@link percentile}).
 *
 * F1 on a resample depends only on how many of each class's drawn rows were predicted as each
 * class, and those counts are multinomial: `support_k` draws over the predicted classes, with
 * the frequencies of row `k` of the confusion matrix. So each resample draws them as that,
 * one binomial per cell ({@link binomialDraw}: class 0's row first, cells in class order, each
 * conditioned on the ones before), instead of drawing `support_k` rows one by one. Same
 * distribution as the row-by-row resampling, at a cost that does not grow with the number of
 * rows: the evaluation set grows with every activated batch, and the row-by-row draws were
 * most of a job's time outside the fit after a thousand jobs.
 *
 * F1 on a resample is computed as `2·TP / (support + predicted)`, which equals the
 * `2PR / (P + R)` of `perClassMetrics` in metrics.ts, including its `zero_division = 0`
 * convention. A class with no support therefore gets the interval [0, 0].
 *
 * Cost: O(n) to count the confusion matrix, then O(resamples · nClasses²) binomial draws of
 * O(1) expected cost each, plus O(nClasses · resamples · log resamples) for the percentiles;
 * memory O(nClasses² + nClasses · resamples).
 *
 * Deterministic for a given seed and confusion matrix: the draws come from `createRng(seed)`
 * in the order above.
 *
 * @param yTrue - True labels, integers in `[0, nClasses)`.
 * @param yPred - Predicted labels aligned with `yTrue`, integers in `[0, nClasses)`.
 * @param nClasses - Number of classes.
 * @returns One interval per class, indexed by class.
 * @throws RangeError on mismatched lengths, labels out of range, or invalid options.
 */
export function stratifiedBootstrapF1(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  nClasses: number,
  options: BootstrapOptions = {},
): ConfidenceInterval[] {
  const { resamples = 1000, seed = 42, confidence = 0.95 } = options;
  if (!Number.isInteger(nClasses) || nClasses < 1) {
    throw new RangeError(`nClasses = ${nClasses} is not a positive integer`);
  }
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new RangeError(`resamples = ${resamples} is not a positive integer`);
  }
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence ${confidence} outside (0, 1)`);
  if (yTrue.length !== yPred.length) throw new RangeError(`${yTrue.length} labels but ${yPred.length} predictions`);
  const n = yTrue.length;

  // counts[k * nClasses + j]: rows of true class k predicted j (the confusion matrix, flat).
  const counts = new Int32Array(nClasses * nClasses);
  const support = new Int32Array(nClasses);
  for (let i = 0; i < n; i++) {
    const t = yTrue[i] as number;
    if (!Number.isInteger(t) || t < 0 || t >= nClasses) throw new RangeError(`label ${t} outside [0, ${nClasses})`);
    const p = yPred[i] as number;
    if (!Number.isInteger(p) || p < 0 || p >= nClasses) {
      throw new RangeError(`prediction ${p} outside [0, ${nClasses})`);
    }
    counts[t * nClasses + p] = (counts[t * nClasses + p] as number) + 1;
    support[t] = (support[t] as number) + 1;
  }

  const rng = createRng(seed);
  const tp = new Int32Array(nClasses);
  const predicted = new Int32Array(nClasses);
  // f1[k * resamples + r]: each class's resampled scores are contiguous, ready to sort in place.
  const f1 = new Float64Array(nClasses * resamples);
  for (let r = 0; r < resamples; r++) {
    tp.fill(0);
    predicted.fill(0);
    for (let k = 0; k < nClasses; k++) {
      // Multinomial(support_k, row k / support_k) as a chain of binomials: each cell takes its
      // share of the draws left, with its weight among the cells left.
      let left = support[k] as number;
      let mass = left;
      for (let j = 0; j < nClasses && left > 0; j++) {
        const c = counts[k * nClasses + j] as number;
        if (c === 0) continue;
        const drawn = c === mass ? left : binomialDraw(rng, left, c / mass);
        left -= drawn;
        mass -= c;
        predicted[j] = (predicted[j] as number) + drawn;
        if (j === k) tp[k] = drawn;
      }
    }
    for (let k = 0; k < nClasses; k++) {
      const denom = (support[k] as number) + (predicted[k] as number);
      f1[k * resamples + r] = denom === 0 ? 0 : (2 * (tp[k] as number)) / denom;
    }
  }

  const alpha = 1 - confidence;
  const out: ConfidenceInterval[] = [];
  for (let k = 0; k < nClasses; k++) {
    const scores = f1.subarray(k * resamples, (k + 1) * resamples).sort();
    out.push({ low: percentile(scores, alpha / 2), high: percentile(scores, 1 - alpha / 2) });
  }
  return out;
}

/**
 * The `q`-quantile of ascending `sortedValues`, interpolating linearly between order statistics
 * (Hyndman & Fan type 7, the default of NumPy and R), so `q = 0` is the minimum and `q = 1` the
 * maximum.
 *
 * @param sortedValues - Values sorted ascending; not checked, as sorting is the caller's cost.
 * @param q - Quantile in [0, 1].
 * @returns NaN for an empty input.
 * @throws RangeError when `q` is outside [0, 1].
 */
export function percentile(sortedValues: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile ${q} outside [0, 1]`);
  const m = sortedValues.length;
  if (m === 0) return NaN;
  const h = (m - 1) * q;
  const i = Math.floor(h);
  const lower = sortedValues[i] as number;
  if (i + 1 >= m) return lower;
  const upper = sortedValues[i + 1] as number;
  return lower + (h - i) * (upper - lower);
}
