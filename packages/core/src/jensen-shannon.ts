import { binnedProportions, type CategoryValue, type FeatureKind } from './drift-binning';

/** Evidently's default Jensen-Shannon threshold: a feature has drifted when the distance >= 0.1. */
export const JENSEN_SHANNON_THRESHOLD = 0.1;

/** Options of {@link jensenShannon}. */
export interface JensenShannonOptions {
  /** 'numeric' (default) or 'categorical'; see {@link binnedProportions}. */
  kind?: FeatureKind;
  /** 'sturges' (default, Evidently) or a number of equal-width bins, for numeric features. */
  bins?: number | 'sturges';
}

/**
 * Jensen-Shannon distance between two discrete distributions, natural logarithm:
 * `sqrt((KL(p || m) + KL(q || m)) / 2)`, `m = (p + q)/2` (scipy
 * `scipy.spatial.distance.jensenshannon(p, q)`). Each vector is first divided by its sum, as
 * scipy does, so counts work as well as proportions. Lies in [0, sqrt(ln 2)]; empty bins are
 * fine (`0·ln 0 = 0`).
 *
 * @throws RangeError on vectors of different lengths, a negative or non-finite weight, or a
 *   vector summing to zero.
 */
export function jensenShannonDistance(p: ArrayLike<number>, q: ArrayLike<number>): number {
  if (p.length !== q.length) throw new RangeError(`${p.length} bins in p but ${q.length} in q`);
  let sumP = 0;
  let sumQ = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i] as number;
    const b = q[i] as number;
    if (!(a >= 0 && b >= 0 && Number.isFinite(a) && Number.isFinite(b))) {
      throw new RangeError(`bin ${i} has weights ${a} and ${b}; need finite non-negative numbers`);
    }
    sumP += a;
    sumQ += b;
  }
  if (!(sumP > 0 && sumQ > 0)) throw new RangeError('a distribution with zero total weight');
  let left = 0;
  let right = 0;
  for (let i = 0; i < p.length; i++) {
    const a = (p[i] as number) / sumP;
    const b = (q[i] as number) / sumQ;
    const m = (a + b) / 2;
    // scipy.special.rel_entr(x, m) = x·ln(x/m), and 0 for x = 0.
    if (a > 0) left += a * Math.log(a / m);
    if (b > 0) right += b * Math.log(b / m);
  }
  // Mathematically non-negative; rounding can leave -1e-17, whose square root would be NaN.
  return Math.sqrt(Math.max(0, (left + right) / 2));
}

/**
 * Jensen-Shannon distance of a feature's current values from its reference values, with
 * Evidently's `jensenshannon` stattest recipe (threshold {@link JENSEN_SHANNON_THRESHOLD}):
 * {@link binnedProportions} without filling empty bins (Sturges-width bins over the pooled
 * range for numeric features with more than 20 distinct reference values, one bin per value
 * otherwise), then {@link jensenShannonDistance} with the natural logarithm (Evidently passes
 * `base=None`). Evidently's unused `n_bins = 30` argument is not reproduced; pass `bins` for a
 * fixed number of equal-width bins instead of Sturges' rule.
 *
 * @param reference - Reference (training) values, none missing; finite numbers if numeric.
 * @param current - Current values, none missing.
 * @throws RangeError on an empty sample or a missing or non-finite value.
 */
export function jensenShannon(
  reference: ArrayLike<CategoryValue>,
  current: ArrayLike<CategoryValue>,
  options: JensenShannonOptions = {},
): number {
  const binned = binnedProportions(reference, current, { ...options, fillZeroes: false });
  return jensenShannonDistance(binned.reference, binned.current);
}
