import { normalQuantile } from './normal-quantile';

/** A two-sided confidence interval `[low, high]`. */
export interface ConfidenceInterval {
  low: number;
  high: number;
}

/**
 * Wilson score interval for a binomial proportion `successes / n` (E. B. Wilson, 1927).
 *
 * Chosen over the Wald interval `p ± z·sqrt(p(1-p)/n)` because the gate often sees accuracies
 * near 1 and small per-class supports, where Wald collapses to zero width or leaves [0, 1];
 * Wilson stays inside [0, 1] and keeps near-nominal coverage (Newcombe 1998).
 *
 * @param successes - Number of successes, an integer in [0, n].
 * @param n - Number of trials, a non-negative integer. `n = 0` carries no information, so the
 *   interval is the whole of [0, 1].
 * @param confidence - Two-sided confidence level in (0, 1); defaults to 0.95.
 * @throws RangeError on non-integer or out-of-range counts, or a confidence outside (0, 1).
 */
export function wilsonInterval(successes: number, n: number, confidence = 0.95): ConfidenceInterval {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n = ${n} is not a non-negative integer`);
  if (!Number.isInteger(successes) || successes < 0 || successes > n) {
    throw new RangeError(`successes = ${successes} is not an integer in [0, ${n}]`);
  }
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence ${confidence} outside (0, 1)`);
  if (n === 0) return { low: 0, high: 1 };
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const z2 = z * z;
  const p = successes / n;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At 0 or n successes the bound is exactly 0 or 1 in exact arithmetic; pin it so rounding
  // cannot report e.g. 1e-17 or 0.9999999999999999 and the interval never leaves [0, 1].
  return {
    low: successes === 0 ? 0 : Math.max(0, centre - half),
    high: successes === n ? 1 : Math.min(1, centre + half),
  };
}
