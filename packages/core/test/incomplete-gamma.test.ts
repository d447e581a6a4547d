import { incompleteGamma, regularizedGammaP, regularizedGammaQ } from '../src/incomplete-gamma';
import { relErr } from './drift-samples';

describe('incompleteGamma', () => {
  it('reproduces the closed forms for integer and half-integer shapes', () => {
    // Q(1, x) = e^-x; Q(3, x) = e^-x (1 + x + x^2/2); Q(1/2, x) = erfc(sqrt(x)), and
    // erfc(1) = 0.15729920705028513 (Abramowitz & Stegun, Table 7.1: 0.1572992070).
    // At x = 300 the tail is e^-300, and rounding the exponent alone costs 300·eps = 3e-14.
    for (const x of [1e-8, 0.3, 1, 4, 25, 300]) {
      expect(relErr(regularizedGammaQ(1, x), Math.exp(-x))).toBeLessThan(1e-13);
      expect(relErr(regularizedGammaQ(3, x), Math.exp(-x) * (1 + x + (x * x) / 2))).toBeLessThan(1e-13);
    }
    expect(relErr(regularizedGammaQ(0.5, 1), 0.15729920705028513)).toBeLessThan(1e-14);
    expect(relErr(regularizedGammaP(1, 1e-8), -Math.expm1(-1e-8))).toBeLessThan(1e-14);
  });

  it('matches scipy.special.gammainc / gammaincc from tiny to huge shapes', () => {
    // /usr/bin/python3 -c "from scipy.special import gammainc, gammaincc;
    //   print(repr(float(gammainc(a, x))), repr(float(gammaincc(a, x))))" with scipy 1.10.1.
    const reference: [number, number, number, number][] = [
      [0.05, 0.3, 0.9543811218743451, 0.04561887812565424],
      [0.5, 0.1, 0.34527915398142317, 0.6547208460185768],
      [0.5, 2.0, 0.9544997361036415, 0.04550026389635857],
      [1.0, 3.0, 0.950212931632136, 0.04978706836786395],
      [2.5, 1.0, 0.15085496391539038, 0.8491450360846096],
      [3.7, 9.0, 0.9848140883443061, 0.015185911655693945],
      [7.0, 7.0, 0.5502889441513008, 0.44971105584869875],
      [15.5, 40.0, 0.9999966874714471, 3.3125285528482517e-6],
      [50.0, 35.0, 0.00984550247640857, 0.9901544975235914],
      [100.5, 100.0, 0.49334340249694264, 0.5066565975030574],
      [1000.0, 1100.0, 0.9989406767460701, 0.0010593232539299773],
      [1000.0, 500.0, 3.298272797068251e-86, 1.0],
      [12345.5, 12000.0, 0.0008563284211568681, 0.9991436715788431],
      [100000.0, 100500.0, 0.9428967300239712, 0.05710326997602869],
      [3.0, 700.0, 1.0, 2.4225323864784486e-299],
    ];
    for (const [a, x, p, q] of reference) {
      const r = incompleteGamma(a, x);
      // The complement of a value near 1 carries ~1e-16 absolute error, hence the max(, 1e-3).
      expect(Math.abs(r.lower - p) / Math.max(p, 1e-3)).toBeLessThan(1e-12);
      expect(Math.abs(r.upper - q) / Math.max(q, 1e-3)).toBeLessThan(1e-12);
      // The smaller tail keeps its relative precision however small it is.
      if (p < 0.5) expect(relErr(r.lower, p)).toBeLessThan(1e-12);
      if (q < 0.5) expect(relErr(r.upper, q)).toBeLessThan(1e-12);
    }
  });

  it('sums to one and moves monotonically in x', () => {
    let previous = 0;
    for (let x = 0.25; x < 40; x *= 1.5) {
      const r = incompleteGamma(7.5, x);
      expect(r.lower + r.upper).toBeCloseTo(1, 15);
      expect(r.lower).toBeGreaterThan(previous);
      previous = r.lower;
    }
  });

  it('handles the ends of the support and rejects invalid arguments', () => {
    expect(incompleteGamma(2, 0)).toEqual({ lower: 0, upper: 1 });
    expect(incompleteGamma(2, Infinity)).toEqual({ lower: 1, upper: 0 });
    expect(regularizedGammaQ(2, 1e6)).toBe(0);
    for (const [a, x] of [
      [0, 1],
      [-1, 1],
      [Number.NaN, 1],
      [Infinity, 1],
      [1, -1],
      [1, Number.NaN],
    ] as const) {
      expect(() => incompleteGamma(a, x)).toThrow(RangeError);
    }
  });
});
