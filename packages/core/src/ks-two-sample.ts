import { kolmogorovSmirnovSurvival } from './kolmogorov-distribution';

// Module-level copies: under jest's vm sandbox every lookup of the global `Math` is slow.
const { ceil, floor, max, min, round } = Math;

/** How {@link ksTwoSample} computes its p-value; scipy's `method` argument. */
export type KsMethod = 'auto' | 'exact' | 'asymp';

/** Result of {@link ksTwoSample}. */
export interface KsTwoSampleResult {
  /** `D = max |F_a(x) - F_b(x)|` over the pooled sample, `F` the empirical CDFs. */
  statistic: number;
  /** Two-sided p-value: `P(D' >= D)` for two samples of these sizes from one continuous distribution. */
  pValue: number;
  /** The method actually used (scipy falls back from 'exact' to 'asymp' when it must). */
  method: 'exact' | 'asymp';
}

/** scipy's `MAX_AUTO_N`: 'auto' is exact while both samples have at most this many values. */
const MAX_EXACT_AUTO = 10000;
const INT32_MAX = 2147483647;

/**
 * Two-sample Kolmogorov-Smirnov test, two-sided: `scipy.stats.ks_2samp(a, b)` as of scipy 1.10,
 * which is what Evidently's `ks` stattest calls (its default for numeric features with at most
 * 1000 reference rows).
 *
 * The statistic is the largest gap between the two empirical CDFs, each evaluated right-
 * continuously at every pooled value (scipy's `searchsorted(..., side='right')`), so tied values
 * are stepped over together, within and across samples, exactly as scipy does. The p-value,
 * like scipy's, assumes continuous data: with ties it is conservative.
 *
 * Methods (scipy's `method='auto'` is the default):
 * - 'exact' — the exact null distribution, by counting lattice paths (Hodges 1958): for equal
 *   sizes the alternating-sum closed form, otherwise the "inside" recursion in Viehmann's form
 *   that computes `1 - p` directly (arXiv:2102.08037). The statistic is then reported as
 *   `h / lcm(m, n)`, `h` the nearest integer, as scipy does. Costs O(max(m, n)·min(m, n)·D):
 *   milliseconds for 1000 reference rows, but about 1.5 s (as in scipy) at the 10,000 × 9,999
 *   limit with completely separated samples.
 * - 'asymp' — the two-sided one-sample Kolmogorov-Smirnov distribution at the effective size
 *   `round(m·n / (m + n))` (half to even, as numpy rounds): scipy's `kstwo.sf(D, en)`, see
 *   {@link kolmogorovSmirnovSurvival}. Not the limiting Kolmogorov distribution.
 * - 'auto' — 'exact' when both samples have at most 10,000 values, else 'asymp'.
 * If the exact result is not a probability (scipy's overflow check), 'asymp' is used instead;
 * an explicit 'exact' also falls back when `lcm(m, n)` would overflow a 32-bit integer.
 *
 * Agrees with scipy 1.10.1 to about 1e-12 relative on the p-value and exactly on the statistic
 * (see the tests). Infinite values are ordinary (extreme) observations.
 *
 * @param a - First sample (Evidently: the reference), at least one value, no NaN.
 * @param b - Second sample (Evidently: the current data), at least one value, no NaN.
 * @param method - 'auto' (default), 'exact' or 'asymp'.
 * @throws RangeError on an empty sample or a NaN value.
 */
export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>, method: KsMethod = 'auto'): KsTwoSampleResult {
  const x = sortedCopy(a, 'a');
  const y = sortedCopy(b, 'b');
  const n1 = x.length;
  const n2 = y.length;
  let d = statistic(x, y);
  const g = gcd(n1, n2);
  let mode: 'exact' | 'asymp';
  if (method === 'auto') mode = max(n1, n2) <= MAX_EXACT_AUTO ? 'exact' : 'asymp';
  else if (method === 'exact') mode = n1 / g >= INT32_MAX / (n2 / g) ? 'asymp' : 'exact';
  else mode = 'asymp';

  if (mode === 'exact') {
    const lcm = (n1 / g) * n2;
    const h = roundHalfEven(d * lcm);
    d = h / lcm;
    let p: number;
    if (h === 0) p = 1;
    else if (n1 === n2) p = probabilityOutsideSquare(n1, h);
    else p = probabilityOutsideBand(n1, n2, g, h);
    if (p >= 0 && p <= 1) return { statistic: d, pValue: p, method: 'exact' };
  }
  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  // scipy passes round(en) straight to kstwo; with explicit 'asymp' and two single values it
  // would be 0 (a NaN p-value), so at least 1 here.
  const en = max(1, roundHalfEven((m * n) / (m + n)));
  return { statistic: d, pValue: kolmogorovSmirnovSurvival(d, en), method: 'asymp' };
}

function sortedCopy(values: ArrayLike<number>, name: string): Float64Array {
  if (values.length === 0) throw new RangeError(`sample ${name} is empty`);
  const out = Float64Array.from(values);
  for (let i = 0; i < out.length; i++) {
    if (Number.isNaN(out[i])) throw new RangeError(`sample ${name} has NaN at index ${i}`);
  }
  return out.sort();
}

/** `max |F_x - F_y|` over the pooled values of two sorted samples, as scipy's `ks_2samp` forms it. */
function statistic(x: Float64Array, y: Float64Array): number {
  const n1 = x.length;
  const n2 = y.length;
  let i = 0;
  let j = 0;
  let maxDiff = -Infinity;
  let minDiff = Infinity;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && (x[i] as number) <= (y[j] as number)) ? (x[i] as number) : (y[j] as number);
    // Step over every copy of v in both samples: the CDFs are right-continuous.
    while (i < n1 && (x[i] as number) <= v) i++;
    while (j < n2 && (y[j] as number) <= v) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxDiff) maxDiff = diff;
    if (diff < minDiff) minDiff = diff;
  }
  const minS = min(1, max(0, -minDiff));
  return minS > maxDiff ? minS : maxDiff;
}

function gcd(a: number, b: number): number {
  let p = a;
  let q = b;
  while (q !== 0) [p, q] = [q, p % q];
  return p;
}

/** numpy's `round`: to the nearest integer, ties to even. */
function roundHalfEven(x: number): number {
  const r = round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * `P(D_{n,n} >= h/n)` for two samples of size `n`: the share of lattice paths leaving the band
 * `|x - y| < h`, `2·Σ_k (-1)^(k-1) C(2n, n - kh) / C(2n, n)`. Each ratio of binomials is a
 * product of `h` factors below 1, and the alternating sum is nested Horner-style,
 * `2·A1·(1 - A2·(1 - A3·(...)))`, so nothing overflows and little cancels (scipy's
 * `_compute_prob_outside_square`).
 */
function probabilityOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = floor(n / h); k >= 0; k--) {
    let ratio = 1;
    for (let j = 0; j < h; j++) ratio = ((n - k * h - j) * ratio) / (n + k * h + j + 1);
    p = ratio * (1 - p);
  }
  return 2 * p;
}

/**
 * `P(D_{m,n} >= h/lcm(m, n))`: one minus the share of monotone lattice paths from (0, 0) to
 * (m, n) that stay strictly inside `|x/m - y/n| < h/lcm`. Keeps one sliding column of the path
 * counts, each entry already divided by its binomial coefficient, with Viehmann's recursion for
 * the complement so that small p-values keep their precision (scipy's
 * `_compute_outer_prob_inside_method`, ported line for line).
 */
function probabilityOutsideBand(m0: number, n0: number, g: number, h: number): number {
  const [m, n] = m0 >= n0 ? [m0, n0] : [n0, m0];
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = min(ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  A.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = min(max(floor((ng * i - h) / mg) + 1, 0), n);
    maxj = min(ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = ((A[jj + minj - lastminj] as number) * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return A[maxj - minj - 1] as number;
}
