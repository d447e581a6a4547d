import type { Rng } from './random';

// Module-level copies: under jest's vm sandbox every lookup of the global `Math` is slow.
const { abs, exp, floor, log, min, sqrt } = Math;

/**
 * Below this mean (of the smaller of p and 1 - p) a draw is made by inversion, whose cost
 * grows with the mean; above it by BTPE, whose expected cost does not. 30 is where
 * Kachitvichyanukul and Schmeiser put the switch, and numpy too.
 */
const INVERSION_MAX_MEAN = 30;

/**
 * One draw from Binomial(n, p): how many of `n` independent trials of probability `p` succeed.
 *
 * Exact in distribution (up to the generator's 2^-32 resolution) and costs O(1) expected
 * uniforms whatever `n`: inversion (a sequential search of the CDF) when `n · min(p, 1 - p)`
 * is at most 30, else the BTPE acceptance-rejection algorithm of Kachitvichyanukul and
 * Schmeiser ("Binomial random variate generation", CACM 31(2), 1988), with the Stirling
 * correction of its last test taken with the signs and constants of the series
 * (13860 / 166320 = 1/12, ...), as GSL does. `p > 0.5` draws the failures instead.
 *
 * Deterministic for a given generator state.
 *
 * @param rng - The generator; it advances by a variable number of uniforms.
 * @param n - Trials, a non-negative integer.
 * @param p - Success probability in [0, 1].
 * @throws RangeError on an invalid `n` or `p`.
 */
export function binomialDraw(rng: Rng, n: number, p: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n = ${n} is not a non-negative integer`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`p = ${p} outside [0, 1]`);
  if (n === 0 || p === 0) return 0;
  if (p === 1) return n;
  const flip = p > 0.5;
  const r = flip ? 1 - p : p;
  const x = n * r <= INVERSION_MAX_MEAN ? inversion(rng, n, r) : btpe(rng, n, r);
  return flip ? n - x : x;
}

/** Sequential search of the CDF from 0; `p <= 0.5` and `n · p <= 30`. */
function inversion(rng: Rng, n: number, p: number): number {
  const q = 1 - p;
  // q^n >= 2^-60 here (n · p <= 30, p <= 1/2): no underflow.
  const q0 = exp(n * log(q));
  // Beyond mean + 10 sd the CDF is 1 to far below the generator's resolution: restart there
  // rather than walk on through floating-point leftovers.
  const bound = min(n, n * p + 10 * sqrt(n * p * q + 1));
  for (;;) {
    let x = 0;
    let px = q0;
    let u = rng.next();
    while (u > px) {
      x++;
      if (x > bound) break;
      u -= px;
      px = ((n - x + 1) * p * px) / (x * q);
    }
    if (x <= bound) return x;
  }
}

/** The tail of Stirling's series of log Γ at `x`: 1/(12x) - 1/(360x³) + 1/(1260x⁵) - 1/(1680x⁷) + 1/(1188x⁹). */
function stirlingTail(x: number): number {
  const x2 = x * x;
  return (13860 - (462 - (132 - (99 - 140 / x2) / x2) / x2) / x2) / x / 166320;
}

/** BTPE: triangle, parallelograms and exponential tails over the mode; `p <= 0.5` and `n · p > 30`. */
function btpe(rng: Rng, n: number, p: number): number {
  const q = 1 - p;
  const nrq = n * p * q;
  const fm = n * p + p;
  const m = floor(fm);
  // The regions: a triangle of half-width p1 around the mode, two parallelograms, two exponential tails.
  const p1 = floor(2.195 * sqrt(nrq) - 4.6 * q) + 0.5;
  const xm = m + 0.5;
  const xl = xm - p1;
  const xr = xm + p1;
  const c = 0.134 + 20.5 / (15.3 + m);
  const al = (fm - xl) / (fm - xl * p);
  const laml = al * (1 + al / 2);
  const ar = (xr - fm) / (xr * q);
  const lamr = ar * (1 + ar / 2);
  const p2 = p1 * (1 + 2 * c);
  const p3 = p2 + c / laml;
  const p4 = p3 + c / lamr;
  for (;;) {
    const u = rng.next() * p4;
    let v = rng.next();
    // Inside the triangle: accepted at once (most draws).
    if (u <= p1) return floor(xm - p1 * v + u);
    let y: number;
    if (u <= p2) {
      const x = xl + (u - p1) / c;
      v = v * c + 1 - abs(m - x + 0.5) / p1;
      if (v > 1) continue;
      y = floor(x);
    } else if (u <= p3) {
      if (v === 0) continue;
      y = floor(xl + log(v) / laml);
      if (y < 0) continue;
      v = v * (u - p2) * laml;
    } else {
      if (v === 0) continue;
      y = floor(xr - log(v) / lamr);
      if (y > n) continue;
      v = v * (u - p3) * lamr;
    }
    const k = abs(y - m);
    if (k <= 20 || k >= nrq / 2 - 1) {
      // Near the mode (or a narrow distribution): f(y) / f(m) by its recurrence.
      const s = p / q;
      const a = s * (n + 1);
      let f = 1;
      if (m < y) for (let i = m + 1; i <= y; i++) f *= a / i - s;
      else if (m > y) for (let i = y + 1; i <= m; i++) f /= a / i - s;
      if (v <= f) return y;
      continue;
    }
    // Far from the mode: squeeze log(v) between bounds of log(f(y) / f(m)), then Stirling.
    const logV = log(v);
    const rho = (k / nrq) * ((k * (k / 3 + 0.625) + 1 / 6) / nrq + 0.5);
    const t = (-k * k) / (2 * nrq);
    if (logV < t - rho) return y;
    if (logV > t + rho) continue;
    const x1 = y + 1;
    const f1 = m + 1;
    const z = n + 1 - m;
    const w = n - y + 1;
    // log(m! (n-m)! / (y! (n-y)!)) + (y - m) log(p/q), by Stirling's series.
    const logRatio =
      xm * log(f1 / x1) + (n - m + 0.5) * log(z / w) + (y - m) * log((w * p) / (x1 * q)) + stirlingTail(f1) + stirlingTail(z) - stirlingTail(x1) - stirlingTail(w);
    if (logV <= logRatio) return y;
  }
}
