import { regularizedGammaQ } from './incomplete-gamma';

/** Result of {@link chiSquareTest}. */
export interface ChiSquareResult {
  /** Pearson's statistic `Σ (observed - expected)^2 / expected`; `Infinity` with unseen categories. */
  statistic: number;
  /** `P(X >= statistic)`, `X ~ χ²(dof)`: the probability of a shift at least this large without drift. */
  pValue: number;
  /** Degrees of freedom: categories seen in either sample, minus one. */
  dof: number;
  /** Categories present in the current sample but absent from the reference. */
  unseenCategories: number;
}

/**
 * Survival function `P(X > x)` of the chi-square distribution with `dof` degrees of freedom,
 * `Q(dof/2, x/2)` (scipy `chi2.sf(x, dof)`, `chdtrc`), to about 1e-12 relative.
 *
 * @param x - The statistic, a number >= 0 (`Infinity` gives 0).
 * @param dof - Degrees of freedom, a finite number > 0 (usually an integer).
 * @throws RangeError on a negative or NaN statistic or a non-positive `dof`.
 */
export function chiSquareSurvival(x: number, dof: number): number {
  if (!(dof > 0 && Number.isFinite(dof))) throw new RangeError(`dof = ${dof} is not a finite positive number`);
  if (!(x >= 0)) throw new RangeError(`chi-square statistic ${x} is not a non-negative number`);
  return regularizedGammaQ(dof / 2, x / 2);
}

/**
 * Chi-square goodness-of-fit test of a categorical feature's current counts against its
 * reference (training) distribution, as Evidently's `chisquare` stattest computes it.
 *
 * Evidently calls `scipy.stats.chisquare(f_obs, f_exp)` over the union of categories seen in
 * either sample, with `f_obs` the current counts and `f_exp = reference count · (current total /
 * reference total)`: the reference proportions are taken as the null distribution and scaled to
 * the current sample size. This function reproduces that, category for category, and settles
 * the three cases where scipy's arithmetic breaks down:
 * - A category with a zero count in both samples is left out (it carries no information and
 *   scipy would turn its `0/0` term into NaN); Evidently never passes one, since it takes the
 *   categories from the data.
 * - A category seen in the current sample but never in the reference has expected count 0, so
 *   the current sample is impossible under the reference proportions: the statistic is
 *   `Infinity` and the p-value exactly 0 (drift), as scipy and Evidently report it (with a
 *   divide-by-zero warning). `unseenCategories` says how many there were. Note that
 *   `JSON.stringify` writes `Infinity` as `null`.
 * - With a single category in all (`dof = 0`) the two distributions are identical and the
 *   p-value is 1, where scipy returns NaN.
 *
 * @param referenceCounts - Count of each category in the reference sample.
 * @param currentCounts - Count of the same categories, in the same order, in the current sample.
 * @throws RangeError on arrays of different lengths, negative or non-finite counts, or a sample
 *   with no rows.
 */
export function chiSquareTest(referenceCounts: ArrayLike<number>, currentCounts: ArrayLike<number>): ChiSquareResult {
  const k = referenceCounts.length;
  if (currentCounts.length !== k) {
    throw new RangeError(`${k} reference categories but ${currentCounts.length} current ones`);
  }
  let referenceTotal = 0;
  let currentTotal = 0;
  for (let i = 0; i < k; i++) {
    const r = referenceCounts[i] as number;
    const c = currentCounts[i] as number;
    if (!(r >= 0 && Number.isFinite(r))) throw new RangeError(`reference count ${r} of category ${i} is invalid`);
    if (!(c >= 0 && Number.isFinite(c))) throw new RangeError(`current count ${c} of category ${i} is invalid`);
    referenceTotal += r;
    currentTotal += c;
  }
  if (referenceTotal === 0) throw new RangeError('the reference sample has no rows');
  if (currentTotal === 0) throw new RangeError('the current sample has no rows');
  // Evidently's k_norm; scaling each count by it (rather than taking proportions times the
  // total) keeps the expected counts bit-for-bit equal to the ones scipy sees.
  const scale = currentTotal / referenceTotal;
  let statistic = 0;
  let categories = 0;
  let unseenCategories = 0;
  for (let i = 0; i < k; i++) {
    const observed = currentCounts[i] as number;
    const expected = (referenceCounts[i] as number) * scale;
    if (expected === 0) {
      if (observed === 0) continue;
      unseenCategories++;
    } else {
      statistic += ((observed - expected) * (observed - expected)) / expected;
    }
    categories++;
  }
  const dof = categories - 1;
  if (unseenCategories > 0) return { statistic: Infinity, pValue: 0, dof, unseenCategories };
  const pValue = dof === 0 ? 1 : chiSquareSurvival(statistic, dof);
  return { statistic, pValue, dof, unseenCategories };
}
