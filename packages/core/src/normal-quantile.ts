/*
 * Coefficients of Wichura's algorithm AS 241 (PPND16): M. J. Wichura, "Algorithm AS 241: The
 * percentage points of the normal distribution", Applied Statistics 37(3), 1988, 477-484.
 * PPND16 is accurate to about 1 part in 1e16, i.e. to double precision, which is why it is used
 * here instead of Acklam's shorter approximation (~1e-9 relative without a refinement step).
 */

/** Central region, |p - 0.5| <= 0.425: rational function in r = 0.180625 - q^2. */
const A = [
  3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125,
  45921.953931549871457, 67265.770927008700853, 33430.575583588128105, 2509.0809287301226727,
] as const;
const B = [
  1, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077, 21213.794301586595867,
  39307.89580009271061, 28729.085735721942674, 5226.495278852854561,
] as const;

/** Intermediate tail, sqrt(-log(min(p, 1 - p))) <= 5. */
const C = [
  1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504,
  1.27045825245236838258, 0.24178072517745061177, 0.0227238449892691845833, 7.7454501427834140764e-4,
] as const;
const D = [
  1, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455, 0.14810397642748007459,
  0.0151986665636164571966, 5.475938084995344946e-4, 1.05075007164441684324e-9,
] as const;

/** Far tail, sqrt(-log(min(p, 1 - p))) > 5 (p below about 1.4e-11). */
const E = [
  6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123,
  0.026532189526576123093, 0.0012426609473880784386, 2.71155556874348757815e-5, 2.01033439929228813265e-7,
] as const;
const F = [
  1, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525, 7.868691311456132591e-4,
  1.8463183175100546818e-5, 1.4215117583164458887e-7, 2.04426310338993978564e-15,
] as const;

/** Evaluates a degree-7 polynomial with Horner's rule. */
function poly7(c: readonly number[], x: number): number {
  let s = c[7] as number;
  for (let i = 6; i >= 0; i--) s = s * x + (c[i] as number);
  return s;
}

/**
 * Quantile function (inverse CDF) of the standard normal distribution: the `z` with
 * `P(Z <= z) = p`.
 *
 * Uses Wichura's AS 241 (PPND16), accurate to about 1e-16 relative over the whole of (0, 1), so
 * any confidence level (0.9, 0.99, 0.999, ...) gets a correct critical value rather than the
 * hard-coded 1.96.
 *
 * @param p - Probability in [0, 1].
 * @returns `-Infinity` for `p = 0`, `Infinity` for `p = 1`, otherwise the quantile.
 * @throws RangeError when `p` is NaN or outside [0, 1].
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`probability ${p} outside [0, 1]`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * poly7(A, r)) / poly7(B, r);
  }
  // Work with the smaller tail probability so 1 - p does not lose digits near p = 1.
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let z: number;
  if (r <= 5) {
    r -= 1.6;
    z = poly7(C, r) / poly7(D, r);
  } else {
    r -= 5;
    z = poly7(E, r) / poly7(F, r);
  }
  return q < 0 ? -z : z;
}
