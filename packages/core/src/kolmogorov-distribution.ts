import { deviance, stirlingError } from './saddle-point';

// Module-level copies: under jest's vm sandbox every lookup of the global `Math` is slow.
const { abs, ceil, exp, expm1, floor, log, log1p, max, min, sqrt, PI } = Math;

/*
 * The distribution of the two-sided one-sample Kolmogorov-Smirnov statistic
 * D_n = sup |F_n(x) - F(x)| for a sample of size n, as scipy 1.10 computes it
 * (`scipy.stats.kstwo`, scipy/stats/_ksstats.py). scipy's two-sample test uses it for its
 * 'asymp' p-values, with n the rounded effective sample size m·n/(m + n).
 *
 * The method for each (n, d) is Simard and L'Ecuyer's choice (R. Simard, P. L'Ecuyer,
 * "Computing the two-sided Kolmogorov-Smirnov distribution", J. Stat. Softw. 39(11), 2011),
 * with scipy's thresholds:
 * - Ruben-Gambino closed forms for n·d <= 1 and n·d >= n - 1;
 * - Durbin's matrix algorithm in the form of Marsaglia, Tsang and Wang (J. Stat. Softw. 8(18),
 *   2003) for small n·d²;
 * - Pomeranz's recursion (CACM 17(12), 1974) for n <= 140 and moderate n·d²;
 * - the Pelz-Good asymptotic series (JRSS B 38(2), 1976) for large n and small n·d²;
 * - twice Smirnov's exact one-sided tail (Birnbaum-Tingey sum) in the upper tail, where the
 *   two one-sided events are practically disjoint.
 */

const SQRT_2PI = sqrt(2 * PI);
const PI2 = PI * PI;
const PI4 = PI2 * PI2;
const PI6 = PI4 * PI2;
const SQRT3 = sqrt(3);
const TWO_128 = 2 ** 128;
const TWO_M128 = 2 ** -128;
/** cephes MINLOG = log(2^-1022): exp() of anything smaller underflows. */
const MIN_LOG = -708.3964185322641;

/**
 * Survival function `P(D_n >= d)` of the two-sided one-sample Kolmogorov-Smirnov statistic
 * for a sample of size `n`: scipy's `kstwo.sf(d, n)`.
 *
 * Follows scipy 1.10's `_kolmogn(n, d, cdf=False)` branch for branch (see the module comment),
 * so it agrees with scipy to about 1e-12 relative wherever scipy itself is accurate. Where the
 * p-value is computed as `1 - cdf` (small `n·d²`, where it is above about 1e-3) both carry
 * ~1e-16 absolute error. Smirnov's one-sided sum is evaluated term by term with Loader's
 * saddle-point binomial density instead of scipy's double-double arithmetic; for `n` above
 * 1e6 it is replaced by scipy's approximation `exp(-(6nd + 1)^2 / (18n))`.
 *
 * Cost: at most O(n) for the Smirnov sum (about 50 ms at n = 250,000), O(k^3 log n) with
 * `k = 2⌈nd⌉ - 1 <= 115` for the matrix algorithm, O(n·(nd)^2) for Pomeranz (n <= 140).
 *
 * @param d - The statistic; `d <= 1/(2n)` gives 1 and `d >= 1` gives 0.
 * @param n - Sample size, a positive integer.
 * @throws RangeError on a non-integer or non-positive `n`, or a NaN `d`.
 */
export function kolmogorovSmirnovSurvival(d: number, n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`n = ${n} is not a positive integer`);
  if (Number.isNaN(d)) throw new RangeError('d is NaN');
  if (d >= 1) return 0;
  const t = n * d;
  if (t <= 0.5) return 1;
  if (t <= 1) {
    // Ruben-Gambino: P(D_n <= d) = n!/n^n · (2t - 1)^n for 1/(2n) <= d <= 1/n.
    let cdf: number;
    if (n <= 140) {
      cdf = 1;
      for (let i = 1; i <= n; i++) cdf *= i * (1 / n) * (2 * t - 1);
    } else {
      // log(n!/n^n) = stirlingError(n) + log(sqrt(2πn)) - n.
      cdf = exp(stirlingError(n) + 0.5 * log(2 * PI * n) - n + n * log(2 * t - 1));
    }
    return clip(1 - cdf);
  }
  if (t >= n - 1) return clip(2 * (1 - d) ** n); // Ruben-Gambino
  if (d >= 0.5) return clip(2 * smirnovSurvival(n, d)); // the two one-sided events are disjoint
  const nd2 = t * d;
  if (n <= 140) {
    if (nd2 <= 0.754693) return clip(1 - durbinMatrixCdf(n, d));
    if (nd2 <= 4) return clip(1 - pomeranzCdf(n, d));
    return clip(2 * smirnovSurvival(n, d));
  }
  if (nd2 >= 370) return 0;
  if (nd2 >= 2.2) return clip(2 * smirnovSurvival(n, d));
  const cdf = n <= 100000 && n * d ** 1.5 <= 1.4 ? durbinMatrixCdf(n, d) : pelzGoodCdf(n, d);
  return clip(1 - cdf);
}

function clip(p: number): number {
  return p < 0 ? 0 : p > 1 ? 1 : p;
}

/** `x·2^e` without overflowing or underflowing the power of two on the way. */
function ldexp(x: number, e: number): number {
  let y = x;
  let rest = e;
  while (rest > 1000) {
    y *= 2 ** 1000;
    rest -= 1000;
  }
  while (rest < -1000) {
    y *= 2 ** -1000;
    rest += 1000;
  }
  return y * 2 ** rest;
}

/**
 * Smirnov's one-sided tail `P(D_n^+ >= d)` by the Birnbaum-Tingey sum
 * `d · Σ_{v=0}^{⌊n(1-d)⌋} C(n, v) (d + v/n)^(v-1) (1 - d - v/n)^(n-v)` (scipy `smirnov(n, d)`).
 *
 * Each term is a binomial density `C(n,v) p^v q^(n-v)` with `p = d + v/n`, divided by `p`, and
 * all are positive; the density is formed with Loader's saddle-point expansion from `np = nd + v`
 * and `nq = n - v - nd`, which keeps ~1e-13 relative precision for n up to 1e6. The terms rise
 * to a single peak (near `v = n(1/2 - d)`) and fall; the sum stops once the remaining terms
 * cannot change it, as scipy's does.
 */
function smirnovSurvival(n: number, d: number): number {
  if (n === 1) return clip(1 - d);
  if (d === 0) return 1;
  if (d >= 1) return 0;
  const nd = n * d;
  const ndFloor = floor(nd);
  const fraction = nd - ndFloor;
  if (ndFloor === 0 || (ndFloor === 1 && fraction === 0)) return clip(1 - d * (1 + d) ** (n - 1));
  if (-2 * n * d * d < MIN_LOG) return 0;
  if (ndFloor >= n - 1) return (1 - d) ** n;
  if (n > 1e6) {
    const logp = -((6 * nd + 1) ** 2) / 18 / n;
    // As scipy: the tail directly when it is below 1/2, else 1 - cdf.
    return logp < -Math.LN2 ? exp(logp) : 1 - -expm1(logp);
  }
  const lastV = n - ndFloor - 1;
  // v = 0: the density is q^n with q = 1 - d, and d·(q^n / d) = q^n.
  let sum = exp(n * log1p(-d)) / d;
  let previous = sum;
  const stirlingN = stirlingError(n);
  for (let v = 1; v <= lastV; v++) {
    const np = nd + v;
    const nq = n - v - nd;
    const logDensity =
      stirlingN -
      stirlingError(v) -
      stirlingError(n - v) -
      deviance(v, np) -
      deviance(n - v, nq) -
      0.5 * log((2 * PI * v * (n - v)) / n);
    const term = (exp(logDensity) * n) / np;
    sum += term;
    // Past the peak, stop once even (remaining terms) × (this term) is below rounding.
    if (term < previous && 4 * (lastV - v) * term < Number.EPSILON * sum) break;
    previous = term;
  }
  return clip(d * sum);
}

/**
 * `P(D_n <= d)` by Durbin's matrix algorithm as organised by Marsaglia, Tsang and Wang: the
 * `(k, k)` entry of `H^n · n!/n^n`, where `H` is `(2k-1)×(2k-1)` and `k = ⌈nd⌉`. Powers are
 * kept in range with a separate binary exponent, as in scipy's `_kolmogn_DMTW`.
 */
function durbinMatrixCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  // v[j] = (1 - h^(j+1)) / (j+1)!, w[j] = 1/j!; the last entry of v is special.
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let factorial = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = factorial;
    factorial /= j;
    v[j - 1] = (1 - h ** j) * factorial;
  }
  const tt = max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * factorial;
  let H: Float64Array = new Float64Array(m * m);
  for (let i = 1; i < m; i++) {
    for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - i + 1] as number;
  }
  for (let r = 0; r < m; r++) H[r * m] = v[r] as number;
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c] as number;

  let power: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) power[i * m + i] = 1;
  let exponent = 0;
  let hExponent = 0;
  const centre = (k - 1) * m + (k - 1);
  for (let nn = n; nn > 0; nn = floor(nn / 2)) {
    if (nn % 2 === 1) {
      power = matmul(power, H, m);
      exponent += hExponent;
    }
    H = matmul(H, H, m);
    hExponent *= 2;
    if (abs(H[centre] as number) > TWO_128) {
      for (let i = 0; i < H.length; i++) H[i] = (H[i] as number) / TWO_128;
      hExponent += 128;
    }
  }
  let p = power[centre] as number;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (abs(p) < TWO_M128) {
      p *= TWO_128;
      exponent -= 128;
    }
  }
  if (exponent !== 0) p = ldexp(p, exponent);
  return clip(p);
}

/** Product of two row-major `m×m` matrices. */
function matmul(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let l = 0; l < m; l++) {
      const ail = a[i * m + l] as number;
      if (ail === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j] = (out[i * m + j] as number) + ail * (b[l * m + j] as number);
    }
  }
  return out;
}

/** Column range `[j1, j2]` of row `i` of Pomeranz's recursion (scipy `_pomeranz_compute_j1j2`). */
function pomeranzRange(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const half = floor((i + 1) / 2);
    if ((i + 1) % 2 === 0) {
      if (half === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = half - 1 - ll - roundf - 1;
        j2 = half + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = half - 1 - ll - 1;
      j2 = half + ll + roundf - 1;
    }
  }
  return [max(j1 + 2, 0), min(j2, n)];
}

/**
 * `P(D_n <= d)` by Pomeranz's recursion: `2n + 1` rows, each the convolution of the previous
 * row's few non-zero entries with (unnormalised) Poisson probabilities, then times `n!`.
 * A line-for-line port of scipy's `_kolmogn_Pomeranz`, including its rescaling by 2^128.
 */
function pomeranzCdf(n: number, d: number): number {
  const t = n * d;
  const ll = floor(t);
  const f = t - ll;
  const g = min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  // (g/n)^m/m!, (2g/n)^m/m!, ((1-2g)/n)^m/m!.
  const gPower = new Float64Array(npwrs);
  const twoGPower = new Float64Array(npwrs);
  const oneMinusTwoGPower = new Float64Array(npwrs);
  gPower[0] = 1;
  twoGPower[0] = 1;
  oneMinusTwoGPower[0] = 1;
  for (let m = 1; m < npwrs; m++) {
    gPower[m] = ((gPower[m - 1] as number) * (g / n)) / m;
    twoGPower[m] = ((twoGPower[m - 1] as number) * ((2 * g) / n)) / m;
    oneMinusTwoGPower[m] = ((oneMinusTwoGPower[m - 1] as number) * ((1 - 2 * g) / n)) / m;
  }
  let v0: Float64Array = new Float64Array(npwrs);
  let v1: Float64Array = new Float64Array(npwrs);
  v1[0] = 1;
  let v0Start = 0;
  let v1Start = 0;
  let exponent = 0;
  let [j1, j2] = pomeranzRange(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [v0, v1] = [v1, v0];
    [v0Start, v1Start] = [v1Start, v0Start];
    v1.fill(0);
    [j1, j2] = pomeranzRange(i, n, ll, ceilf, roundf);
    const powers = i === 1 || i === 2 * n + 1 ? gPower : i % 2 === 1 ? twoGPower : oneMinusTwoGPower;
    const len = j2 - k1 + 1;
    if (len > 0) {
      // conv = convolve(v0[k1 - v0Start : + len], powers[: len]); keep conv[j1 - k1 : j2 - k1 + 1].
      const offset = k1 - v0Start;
      const start = j1 - k1;
      const count = j2 - j1 + 1;
      let largest = 0;
      for (let c = 0; c < count; c++) {
        const idx = start + c;
        let s = 0;
        for (let a = max(0, idx - len + 1); a <= idx && a < len; a++) {
          s += (v0[offset + a] as number) * (powers[idx - a] as number);
        }
        v1[c] = s;
        if (s > largest) largest = s;
      }
      if (largest > 0 && largest < TWO_M128) {
        for (let c = 0; c < count; c++) v1[c] = (v1[c] as number) * TWO_128;
        exponent -= 128;
      }
      v1Start = v0Start + j1 - k1;
    }
  }
  let answer = v1[n - v1Start] as number;
  for (let m = 1; m <= n; m++) {
    if (abs(answer) > TWO_128) {
      answer *= TWO_M128;
      exponent += 128;
    }
    answer *= m;
  }
  if (exponent !== 0) answer = ldexp(answer, exponent);
  return clip(answer);
}

/**
 * Pelz and Good's approximation to `P(D_n <= d)`: the Li-Chien/Korolyuk expansion
 * `K0(z) + K1(z)/√n + K2(z)/n + K3(z)/n^1.5`, `z = d√n`, with each `K_i` rewritten through
 * Jacobi's theta-function identity into a series that converges fast for small `z`
 * (a port of scipy's `_kolmogn_PelzGood`; not clipped, as there).
 */
function pelzGoodCdf(n: number, d: number): number {
  if (d <= 0) return 0;
  if (d >= 1) return 1;
  const z = sqrt(n) * d;
  const z2 = z ** 2;
  const z3 = z ** 3;
  const z4 = z ** 4;
  const z6 = z ** 6;
  const qlog = -PI2 / 8 / z2;
  if (qlog < -708) return 0;
  let q = exp(qlog);

  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;

  // Horner in q^8 over the odd integers m = 2k - 1: K_i = Σ c_i(m) q^(m^2).
  const K = [0, 0, 0, 0];
  const maxk = ceil((16 * z) / PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const m2 = m ** 2;
    const m4 = m ** 4;
    const m6 = m ** 6;
    const qpower = q ** (8 * k);
    const coeffs = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) K[i] = (K[i] as number) * qpower + (coeffs[i] as number);
  }
  const denominators = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = ((K[i] as number) * q * SQRT_2PI) / (denominators[i] as number);

  // The terms of K2 and K3 summed over all integers k.
  q = exp(-PI2 / 2 / z2);
  let k2extra = 0;
  let k3extra = 0;
  for (let k = maxk; k > 0; k--) {
    const k2 = k * k;
    const qk = q ** k2;
    k2extra += k2 * qk;
    k3extra += (SQRT3 * z + PI * k) * (SQRT3 * z - PI * k) * k2 * qk;
  }
  K[2] = (K[2] as number) + (k2extra * PI2 * SQRT_2PI) / (-36 * z3);
  K[3] = (K[3] as number) + (k3extra * PI2 * SQRT_2PI) / (216 * z6);
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += (K[i] as number) / n ** (i / 2);
  return sum;
}
