import { normalCdf } from './normal-cdf';

/** A pooled two-proportion z-test of "the first proportion is lower than the second". */
export interface TwoProportionTest {
  p1: number;
  p2: number;
  /** p1 - p2. */
  difference: number;
  z: number;
  /** One-sided P(Z <= z) under equal proportions: small when the first is significantly lower. */
  pValueLower: number;
}

/**
 * The pooled two-proportion z-test of x1/n1 against x2/n2 (the textbook test, as
 * statsmodels' `proportions_ztest(..., alternative='smaller')` computes it). Used to ask
 * whether a newly promoted version is significantly worse on feedback than its predecessor
 * was. When the pooled proportion is 0 or 1 the two cannot differ: z = 0, p = 0.5.
 */
export function twoProportionTest(x1: number, n1: number, x2: number, n2: number): TwoProportionTest {
  for (const [v, name] of [
    [n1, 'n1'],
    [n2, 'n2'],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  }
  if (!Number.isInteger(x1) || x1 < 0 || x1 > n1) throw new RangeError(`x1 must be an integer in 0..${n1}, got ${x1}`);
  if (!Number.isInteger(x2) || x2 < 0 || x2 > n2) throw new RangeError(`x2 must be an integer in 0..${n2}, got ${x2}`);
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  const z = se === 0 ? 0 : (p1 - p2) / se;
  return { p1, p2, difference: p1 - p2, z, pValueLower: normalCdf(z) };
}
