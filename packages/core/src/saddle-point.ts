/*
 * The two ingredients of Loader's saddle-point expansion of the binomial and Poisson densities
 * (C. Loader, "Fast and accurate computation of binomial probabilities", 2000; R's stirlerr.c
 * and bd0.c). Written this way, a density like x^a·e^(-x)/Γ(a+1) keeps nearly full relative
 * precision even when a is in the millions, where exp(a·log x - x - lgamma(a+1)) would cancel
 * numbers of size a·log a and lose most of its digits. Shared by the incomplete gamma function
 * and the Kolmogorov distribution; mcnemar.ts keeps its own integer-only copy.
 */

// Module-level copies: under jest's vm sandbox every lookup of the global `Math` is slow.
const { abs, exp, log, sqrt, PI } = Math;

const LN_SQRT_2PI = 0.5 * log(2 * PI);

/**
 * `stirlingError(h/2)` for h = 1..30, from R's stirlerr.c (Loader's table), rounded to the
 * nearest double. Half-integers are exactly the shapes the chi-square distribution needs.
 */
const HALVES = [
  0.15342640972002736, 0.08106146679532726, 0.05481412105191765, 0.0413406959554093, 0.03316287351993629,
  0.02767792568499834, 0.023746163656297496, 0.020790672103765093, 0.018488450532673187, 0.016644691189821193,
  0.015134973221917378, 0.013876128823070748, 0.012810465242920227, 0.01189670994589177, 0.011104559758206917,
  0.010411265261972096, 0.009799416126158804, 0.009255462182712733, 0.008768700134139386, 0.00833056343336287,
  0.00793411456431402, 0.007573675487951841, 0.007244554301320383, 0.00694284010720953, 0.006665247032707682,
  0.006408994188004207, 0.006171712263039458, 0.0059513701127588475, 0.0057462165130101155, 0.005554733551962801,
] as const;

/**
 * Stirling's formula's error `log Γ(x + 1) - log(sqrt(2πx)·(x/e)^x)` for a real `x > 0`.
 *
 * Above 15 the asymptotic series `1/(12x) - 1/(360x^3) + 1/(1260x^5) - 1/(1680x^7) + 1/(1188x^9)`
 * is accurate to double precision (the next term is below 3e-16 there). At or below 15,
 * half-integers come from Loader's table; other values are shifted above 15 with the recurrence
 * `Γ(x + 1) = Γ(x + k + 1) / ((x + 1)···(x + k))`, which costs about 1e-14 absolute.
 */
export function stirlingError(x: number): number {
  if (x > 15) {
    const xx = x * x;
    return (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - 1 / 1188 / xx) / xx) / xx) / xx) / x;
  }
  const twice = 2 * x;
  if (Number.isInteger(twice) && twice >= 1) return HALVES[twice - 1] as number;
  // log Γ(x+1) = log Γ(y+1) - log((x+1)···(y)), y = x + k > 15; the product stays below 1e24.
  let y = x;
  let product = 1;
  while (y <= 15) {
    y += 1;
    product *= y;
  }
  const logGammaY1 = stirlingError(y) + (y + 0.5) * log(y) - y + LN_SQRT_2PI;
  return logGammaY1 - log(product) - (x + 0.5) * log(x) + x - LN_SQRT_2PI;
}

/**
 * The deviance term `x·log(x/m) + m - x` (Loader's `bd0`), for `x >= 0`, `m > 0`.
 *
 * Near `x = m` the closed form subtracts nearly equal numbers; there a series in
 * `v = (x - m)/(x + m)` is summed instead, which keeps full relative precision.
 */
export function deviance(x: number, m: number): number {
  if (abs(x - m) < 0.1 * (x + m)) {
    let v = (x - m) / (x + m);
    let s = (x - m) * v;
    let ej = 2 * x * v;
    v *= v;
    for (let j = 1; j < 1000; j++) {
      ej *= v;
      const next = s + ej / (2 * j + 1);
      if (next === s) return next;
      s = next;
    }
    return s;
  }
  return x === 0 ? m : x * log(x / m) + m - x;
}

/**
 * The Poisson-like density `λ^x·e^(-λ) / Γ(x + 1)` for a real `x >= 0` and `λ >= 0` (R's
 * `dpois_raw`), to nearly full relative precision over the whole range.
 */
export function poissonDensity(x: number, lambda: number): number {
  if (lambda === 0) return x === 0 ? 1 : 0;
  if (!Number.isFinite(lambda)) return 0;
  if (x === 0) return exp(-lambda);
  return exp(-stirlingError(x) - deviance(x, lambda)) / sqrt(2 * PI * x);
}
