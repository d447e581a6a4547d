/** A categorical value: what a category column may hold once missing values are removed. */
export type CategoryValue = string | number | boolean;

/** Whether a feature is binned by value ranges (numeric) or by value (categorical). */
export type FeatureKind = 'numeric' | 'categorical';

/** Options of {@link binnedProportions}. */
export interface BinningOptions {
  /** How the values are to be read; default 'numeric'. */
  kind?: FeatureKind;
  /**
   * Histogram bins for numeric features with more than 20 distinct reference values: 'sturges'
   * (default, Evidently's choice) or a positive integer number of equal-width bins.
   */
  bins?: number | 'sturges';
  /**
   * Replace empty bins by a small proportion, as Evidently does before PSI (and not before
   * Jensen-Shannon); default false. See {@link binnedProportions}.
   */
  fillZeroes?: boolean;
}

/** The two samples' proportions over shared bins; see {@link binnedProportions}. */
export interface BinnedProportions {
  /** Share of the reference sample in each bin. */
  reference: Float64Array;
  /** Share of the current sample in each bin. */
  current: Float64Array;
  /** Histogram bin edges (`bins + 1` of them) when the values were binned by range, else null. */
  edges: Float64Array | null;
  /** The value of each bin when the values were binned by value, else null. */
  values: CategoryValue[] | null;
}

/**
 * Evidently's `get_binned_data`: the reference and current samples as proportions over common
 * bins, the input of its PSI, Jensen-Shannon and other distance stattests.
 *
 * - A numeric feature with more than 20 distinct reference values is cut into equal-width bins
 *   spanning the pooled (reference + current) range: `numpy.histogram_bin_edges(pooled,
 *   bins='sturges')`, i.e. `⌈range / (range / (log2(n_pooled) + 1))⌉` bins with edges
 *   `min + i·width`, the last one exactly the max; every bin is closed on the left and open on
 *   the right except the last, which is closed (`numpy.histogram`). Evidently's stattests take
 *   an `n_bins` argument (default 30) but never use it; a numeric `bins` here gives the same
 *   histogram with that many bins instead of Sturges' number.
 * - Otherwise (categorical, or numeric with at most 20 distinct reference values) there is one
 *   bin per distinct value of either sample.
 * - With `fillZeroes`, empty bins of each sample get the proportion 1e-4, or a millionth of the
 *   sample's smallest non-zero proportion when that is itself at most 1e-4 (Evidently's
 *   `feel_zeroes`), so that PSI's logarithms stay finite.
 *
 * Values are doubles, as numpy 1.24 (under Debian's scipy 1.10) treats integer columns too;
 * numpy 2.1 and later widen Sturges bins of integer-typed data to at least 1, which changes the
 * histogram of an integer feature only when its range is below log2(n) + 1, i.e. a few dozen
 * values over hundreds of thousands of rows.
 *
 * @param reference - Reference values, at least one, none missing (numeric: finite numbers).
 * @param current - Current values, at least one, none missing.
 * @throws RangeError on an empty sample, a missing or non-finite value, or invalid `bins`.
 */
export function binnedProportions(
  reference: ArrayLike<CategoryValue>,
  current: ArrayLike<CategoryValue>,
  options: BinningOptions = {},
): BinnedProportions {
  const { kind = 'numeric', bins = 'sturges', fillZeroes = false } = options;
  if (bins !== 'sturges' && !(Number.isSafeInteger(bins) && bins >= 1)) {
    throw new RangeError(`bins = ${bins} is neither 'sturges' nor a positive integer`);
  }
  checkSample(reference, 'reference', kind);
  checkSample(current, 'current', kind);
  let out: BinnedProportions;
  if (kind === 'numeric' && distinctCount(reference) > 20) {
    const ref = Float64Array.from(reference as ArrayLike<number>).sort();
    const cur = Float64Array.from(current as ArrayLike<number>).sort();
    const edges = binEdges(ref, cur, bins);
    out = { reference: histogram(ref, edges), current: histogram(cur, edges), edges, values: null };
  } else {
    const refCounts = countCategoryValues(reference);
    const curCounts = countCategoryValues(current);
    const values = [...new Set([...refCounts.keys(), ...curCounts.keys()])];
    out = {
      reference: Float64Array.from(values, (v) => (refCounts.get(v) ?? 0) / reference.length),
      current: Float64Array.from(values, (v) => (curCounts.get(v) ?? 0) / current.length),
      edges: null,
      values,
    };
  }
  if (fillZeroes) {
    fillEmptyBins(out.reference);
    fillEmptyBins(out.current);
  }
  return out;
}

function checkSample(values: ArrayLike<CategoryValue>, name: string, kind: FeatureKind): void {
  if (values.length === 0) throw new RangeError(`the ${name} sample is empty`);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (kind === 'numeric' ? !(typeof v === 'number' && Number.isFinite(v)) : !isCategoryValue(v)) {
      const expected = kind === 'numeric' ? 'finite number' : 'category';
      throw new RangeError(`${name}[${i}] = ${String(v)} is not a ${expected}`);
    }
  }
}

/** A present categorical value: not null, undefined or NaN. */
export function isCategoryValue(v: unknown): v is CategoryValue {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && !Number.isNaN(v));
}

function distinctCount(values: ArrayLike<CategoryValue>): number {
  const seen = new Set<CategoryValue>();
  for (let i = 0; i < values.length; i++) seen.add(values[i] as CategoryValue);
  return seen.size;
}

/** How many times each value occurs, in order of first appearance. (0 and -0 are one value.) */
export function countCategoryValues(values: ArrayLike<CategoryValue>): Map<CategoryValue, number> {
  const counts = new Map<CategoryValue, number>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as CategoryValue;
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return counts;
}

/** numpy's `histogram_bin_edges(concat(ref, cur), bins)` for two sorted, finite samples. */
function binEdges(ref: Float64Array, cur: Float64Array, bins: number | 'sturges'): Float64Array {
  const min = Math.min(ref[0] as number, cur[0] as number);
  const max = Math.max(ref[ref.length - 1] as number, cur[cur.length - 1] as number);
  // A constant sample gets the unit interval around its value.
  const first = min === max ? min - 0.5 : min;
  const last = min === max ? max + 0.5 : max;
  let count: number;
  if (bins === 'sturges') {
    // Sturges' width is the data's range over log2(n) + 1; numpy then takes the ceiling of
    // range / width, which rounding can push one above log2(n) + 1. Same operations here.
    const width = (max - min) / (Math.log2(ref.length + cur.length) + 1);
    count = width ? Math.ceil((last - first) / width) : 1;
  } else {
    count = bins;
  }
  // numpy.linspace: start + i·step, and the last edge exactly the stop.
  const step = (last - first) / count;
  const edges = new Float64Array(count + 1);
  for (let i = 0; i < count; i++) edges[i] = i * step + first;
  edges[count] = last;
  return edges;
}

/** `numpy.histogram(sorted, edges)[0] / n`: bins `[e_i, e_i+1)`, the last one closed. */
function histogram(sorted: Float64Array, edges: Float64Array): Float64Array {
  const bins = edges.length - 1;
  const cumulative = new Float64Array(edges.length);
  for (let i = 0; i < bins; i++) cumulative[i] = lowerBound(sorted, edges[i] as number);
  cumulative[bins] = upperBound(sorted, edges[bins] as number);
  const out = new Float64Array(bins);
  for (let i = 0; i < bins; i++) out[i] = ((cumulative[i + 1] as number) - (cumulative[i] as number)) / sorted.length;
  return out;
}

/** Index of the first element `>= x` (numpy `searchsorted(side='left')`). */
function lowerBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element `> x` (numpy `searchsorted(side='right')`). */
function upperBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Evidently's `feel_zeroes`, in place. */
function fillEmptyBins(proportions: Float64Array): void {
  let smallest = Infinity;
  for (const p of proportions) if (p !== 0 && p < smallest) smallest = p;
  const fill = smallest <= 1e-4 ? smallest / 1e6 : 1e-4;
  for (let i = 0; i < proportions.length; i++) if (proportions[i] === 0) proportions[i] = fill;
}
