import { chiSquareTest } from './chi-square-test';
import { countCategoryValues, isCategoryValue, type CategoryValue, type FeatureKind } from './drift-binning';
import { jensenShannon, JENSEN_SHANNON_THRESHOLD } from './jensen-shannon';
import { ksTwoSample } from './ks-two-sample';
import { normalCdf } from './normal-cdf';
import { twoProportionTest } from './two-proportion';

/** The statistical test {@link driftOfFeature} chose. */
export type DriftTest = 'ks' | 'chi-square' | 'z' | 'jensen-shannon';

/** Drift of one input feature between the version's training data and current traffic. */
export interface FeatureDrift {
  feature: string;
  /** The feature's declared kind (a numeric feature may still be tested as a categorical one). */
  kind: FeatureKind;
  test: DriftTest;
  /** KS `D`, Pearson's chi-square, the z statistic, or the Jensen-Shannon distance. */
  statistic: number;
  /** The test's p-value; null for Jensen-Shannon, which is a distance, not a test. */
  pValue: number | null;
  /** Drift when `pValue` is below it (at most, for KS) or the distance reaches it. */
  threshold: number;
  drifted: boolean;
  /** Reference rows used, i.e. present (missing ones are excluded). */
  referenceRows: number;
  /** Current rows used. */
  currentRows: number;
  /** Reference rows excluded as missing. */
  referenceMissing: number;
  /** Current rows excluded as missing. */
  currentMissing: number;
}

/** A feature's values: numbers (or categories), with null, undefined or NaN for missing. */
export type FeatureValues = ArrayLike<CategoryValue | null | undefined>;

/** Evidently's significance level for the p-value tests. */
export const DRIFT_P_VALUE_THRESHOLD = 0.05;
/** Above this many reference rows Evidently switches from p-value tests to distances. */
export const DRIFT_LARGE_REFERENCE_ROWS = 1000;
/** Numeric features with at most this many distinct values are tested as categorical ones. */
export const DRIFT_MAX_CATEGORICAL_NUMERIC_VALUES = 5;

/**
 * Tests one feature for drift, choosing the test as Evidently's default data-drift stattest
 * does (`_get_default_stattest`, Evidently 0.7), counting distinct values over both samples:
 *
 * - at most 1000 reference rows:
 *   - numeric with more than 5 distinct values: two-sample KS, drift if p <= 0.05;
 *   - categorical, or numeric with at most 5 distinct values (Evidently treats those as
 *     categories): chi-square, drift if p < 0.05; with at most 2 distinct values the pooled
 *     two-proportion z-test instead, drift if p < 0.05;
 * - more than 1000 reference rows: the Jensen-Shannon distance, drift if >= 0.1.
 *
 * One deliberate departure: for numeric features with more than 1000 reference rows Evidently
 * uses the normed Wasserstein distance (threshold 0.1); here it is the Jensen-Shannon distance
 * over Sturges bins (threshold 0.1), as the monitoring issue asks for PSI or Jensen-Shannon
 * on numeric features. Everything else is Evidently's recipe: {@link ksTwoSample} (scipy's
 * `ks_2samp`, method 'auto'), {@link chiSquareTest}, the pooled two-proportion z-test
 * ({@link twoProportionTest}, two-sided), {@link jensenShannon}. The `<=` for KS and `<` for
 * the others are Evidently's too.
 *
 * Missing values are dropped from each sample before anything else, as Evidently does, and
 * counted: null, undefined and NaN, and for numeric features also ±Infinity (Evidently turns
 * infinities into NaN). The 1000-row switch counts the reference rows left.
 *
 * Numeric values are compared as numbers, categorical ones by identity (`1` and `'1'` are two
 * categories; `0` and `-0` one).
 *
 * @param feature - The feature's name, copied to the result.
 * @param kind - 'numeric' (a model spec's 'numeric' and 'integer' features) or 'categorical'.
 * @param reference - The feature's values in the version's training data.
 * @param current - Its values in current traffic.
 * @throws RangeError when a sample has no present values, or a numeric feature holds a
 *   non-number.
 */
export function driftOfFeature(
  feature: string,
  kind: FeatureKind,
  reference: FeatureValues,
  current: FeatureValues,
): FeatureDrift {
  const ref = present(reference, kind, feature, 'reference');
  const cur = present(current, kind, feature, 'current');
  const rows = {
    referenceRows: ref.length,
    currentRows: cur.length,
    referenceMissing: reference.length - ref.length,
    currentMissing: current.length - cur.length,
  };
  const refCounts = countCategoryValues(ref);
  const curCounts = countCategoryValues(cur);
  const values = [...new Set([...refCounts.keys(), ...curCounts.keys()])];
  const asCategorical = kind === 'categorical' || values.length <= DRIFT_MAX_CATEGORICAL_NUMERIC_VALUES;

  if (ref.length > DRIFT_LARGE_REFERENCE_ROWS) {
    const statistic = jensenShannon(ref, cur, { kind });
    const threshold = JENSEN_SHANNON_THRESHOLD;
    const drifted = statistic >= threshold;
    return { feature, kind, test: 'jensen-shannon', statistic, pValue: null, threshold, drifted, ...rows };
  }
  const threshold = DRIFT_P_VALUE_THRESHOLD;
  if (!asCategorical) {
    const { statistic, pValue } = ksTwoSample(ref as number[], cur as number[]);
    return { feature, kind, test: 'ks', statistic, pValue, threshold, drifted: pValue <= threshold, ...rows };
  }
  if (values.length > 2) {
    const { statistic, pValue } = chiSquareTest(
      values.map((v) => refCounts.get(v) ?? 0),
      values.map((v) => curCounts.get(v) ?? 0),
    );
    return { feature, kind, test: 'chi-square', statistic, pValue, threshold, drifted: pValue < threshold, ...rows };
  }
  // Evidently's z stattest: it codes the first of the sorted values as 0, the other as 1, and
  // runs the pooled two-proportion z-test on the shares of 1s, two-sided. Evidently evaluates
  // 2·(1 - Φ(|z|)), which is 0 below ~1e-16; 2·Φ(-|z|) is the same number without that floor.
  // With a single value in all, the pooled variance is 0: z = 0 and p = 1, as in Evidently.
  const first = values.sort(compareCategories)[0] as CategoryValue;
  const { z } = twoProportionTest(
    ref.length - (refCounts.get(first) ?? 0),
    ref.length,
    cur.length - (curCounts.get(first) ?? 0),
    cur.length,
  );
  const pValue = 2 * normalCdf(-Math.abs(z));
  return { feature, kind, test: 'z', statistic: z, pValue, threshold, drifted: pValue < threshold, ...rows };
}

/** The present values of a sample, in order. */
function present(values: FeatureValues, kind: FeatureKind, feature: string, name: string): CategoryValue[] {
  const out: CategoryValue[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) continue;
    if (kind === 'numeric') {
      if (typeof v !== 'number') {
        throw new RangeError(`numeric feature ${feature}: ${name}[${i}] = ${String(v)} is not a number`);
      }
      if (!Number.isFinite(v)) continue;
    } else if (!isCategoryValue(v)) {
      throw new RangeError(`categorical feature ${feature}: ${name}[${i}] is not a string, number or boolean`);
    }
    out.push(v);
  }
  if (out.length === 0) throw new RangeError(`feature ${feature} has no present values in the ${name} sample`);
  return out;
}

/** Numbers before booleans before strings; numbers numerically, the rest by `<`. */
function compareCategories(a: CategoryValue, b: CategoryValue): number {
  const rank = (v: CategoryValue): number => (typeof v === 'number' ? 0 : typeof v === 'boolean' ? 1 : 2);
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  return a < b ? -1 : a > b ? 1 : 0;
}
