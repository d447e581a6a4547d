import { binnedProportions, type CategoryValue, type FeatureKind } from './drift-binning';

/** Evidently's default PSI threshold: a feature has drifted when PSI >= 0.1. */
export const PSI_THRESHOLD = 0.1;

/** Options of {@link psi}. */
export interface PsiOptions {
  /** 'numeric' (default) or 'categorical'; see {@link binnedProportions}. */
  kind?: FeatureKind;
  /** 'sturges' (default, Evidently) or a number of equal-width bins, for numeric features. */
  bins?: number | 'sturges';
}

/**
 * Population stability index `Σ (r_i - c_i)·ln(r_i / c_i)` of two proportion vectors over the
 * same bins, none of them zero (fill empty bins first, as {@link psi} does).
 *
 * @throws RangeError on vectors of different lengths or a proportion that is not positive.
 */
export function psiOfProportions(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  if (reference.length !== current.length) {
    throw new RangeError(`${reference.length} reference bins but ${current.length} current ones`);
  }
  let sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i] as number;
    const c = current[i] as number;
    if (!(r > 0 && c > 0)) throw new RangeError(`bin ${i} has proportions ${r} and ${c}; PSI needs both positive`);
    sum += (r - c) * Math.log(r / c);
  }
  return sum;
}

/**
 * Population stability index of a feature's current values against its reference values,
 * with Evidently's `psi` stattest recipe (threshold {@link PSI_THRESHOLD}):
 * {@link binnedProportions} with `fillZeroes` (Sturges-width bins over the pooled range for
 * numeric features with more than 20 distinct reference values, one bin per value otherwise;
 * empty bins get 1e-4, or a millionth of the smallest proportion if that is below 1e-4), then
 * `Σ (r - c)·ln(r / c)`. Evidently's `n_bins = 30` argument is not used by its binning, so the
 * default here is Sturges' rule, as there; pass `bins` for a fixed number of equal-width bins.
 *
 * 0 when the two samples fill the bins in the same proportions; not symmetric in general,
 * since whether to bin by range depends on the reference sample alone.
 *
 * @param reference - Reference (training) values, none missing; finite numbers if numeric.
 * @param current - Current values, none missing.
 * @throws RangeError on an empty sample or a missing or non-finite value.
 */
export function psi(
  reference: ArrayLike<CategoryValue>,
  current: ArrayLike<CategoryValue>,
  options: PsiOptions = {},
): number {
  const binned = binnedProportions(reference, current, { ...options, fillZeroes: true });
  return psiOfProportions(binned.reference, binned.current);
}
