import { kolmogorovSmirnovSurvival } from '../src/kolmogorov-distribution';
import { relErr } from './drift-samples';

describe('kolmogorovSmirnovSurvival', () => {
  it('reproduces the closed forms at the ends of the support', () => {
    // n = 1: D_1 = max(U, 1 - U), so P(D_1 >= d) = 2(1 - d) for d in [1/2, 1].
    for (const d of [0.5, 0.6, 0.75, 0.9]) expect(kolmogorovSmirnovSurvival(d, 1)).toBeCloseTo(2 * (1 - d), 15);
    // Ruben & Gambino: P(D_n <= d) = n!/n^n (2nd - 1)^n for 1/(2n) <= d <= 1/n, and
    // P(D_n >= d) = 2(1 - d)^n for d >= 1 - 1/n.
    const n = 6;
    const d = 0.15;
    let cdf = 1;
    for (let i = 1; i <= n; i++) cdf *= (i / n) * (2 * n * d - 1);
    expect(kolmogorovSmirnovSurvival(d, n)).toBeCloseTo(1 - cdf, 15);
    expect(relErr(kolmogorovSmirnovSurvival(0.9, 6), 2 * 0.1 ** 6)).toBeLessThan(1e-13);
    expect(kolmogorovSmirnovSurvival(1 / 12, 6)).toBe(1);
    expect(kolmogorovSmirnovSurvival(-1, 6)).toBe(1);
    expect(kolmogorovSmirnovSurvival(1, 6)).toBe(0);
  });

  it('matches scipy.stats.kstwo.sf in every branch of its algorithm', () => {
    // /usr/bin/python3 -c "from scipy.stats import kstwo; print(repr(float(kstwo.sf(d, n))))"
    // with scipy 1.10.1. The branch scipy's _kolmogn takes (n·d² and n·d^1.5 decide):
    const reference: [number, number, number, string][] = [
      [1, 0.75, 0.5, 'd >= 1/2: twice Smirnov'],
      [10, 0.08, 0.9999978058034054, 'n·d <= 1: Ruben-Gambino'],
      [200, 0.004, 1.0, 'n·d <= 1, n > 140: Ruben-Gambino via Stirling'],
      [10, 0.95, 1.9531250000000172e-13, 'n·d >= n - 1: Ruben-Gambino'],
      [20, 0.6, 2.0483011649719853e-7, 'd >= 1/2: twice Smirnov'],
      [50, 0.1, 0.6623112704658186, 'n <= 140, n·d² <= 0.75: Durbin matrix'],
      [50, 0.2, 0.03143877776953241, 'n <= 140, n·d² <= 4: Pomeranz'],
      [100, 0.25, 5.408871776434847e-6, 'n <= 140, n·d² > 4: twice Smirnov'],
      [1000, 0.06, 0.001428597887952891, 'n·d² >= 2.2: twice Smirnov'],
      [1000, 0.03, 0.3226902143914636, 'n·d^1.5 > 1.4: Pelz-Good'],
      [1000, 0.012, 0.9984464668620097, 'n·d^1.5 <= 1.4: Durbin matrix (k = 12)'],
      [200000, 0.002, 0.39995085369038097, 'n > 1e5: Pelz-Good'],
      [200000, 0.004, 0.003314212822560255, 'n·d² >= 2.2: twice Smirnov, 1e5 terms'],
      [2000000, 0.0015, 0.00024657290508461606, 'n > 1e6: Smirnov approximated'],
    ];
    for (const [n, d, p] of reference) {
      expect(relErr(kolmogorovSmirnovSurvival(d, n), p)).toBeLessThan(1e-12);
    }
    // n·d² >= 370: scipy returns exactly 0.
    expect(kolmogorovSmirnovSurvival(0.7, 1000)).toBe(0);
  });

  it('decreases in d across the branch boundaries', () => {
    const n = 1000;
    // n·d² = 0.1 ... 6, crossing the Durbin / Pelz-Good / Smirnov switches.
    const ds = [0.01, 0.012, 0.0125, 0.02, 0.03, 0.046, 0.047, 0.06, 0.08];
    const ps = ds.map((d) => kolmogorovSmirnovSurvival(d, n));
    for (let i = 1; i < ps.length; i++) expect(ps[i] as number).toBeLessThan(ps[i - 1] as number);
  });

  it('rejects a non-integer sample size or a NaN statistic', () => {
    expect(() => kolmogorovSmirnovSurvival(0.1, 0)).toThrow(RangeError);
    expect(() => kolmogorovSmirnovSurvival(0.1, 2.5)).toThrow(RangeError);
    expect(() => kolmogorovSmirnovSurvival(Number.NaN, 10)).toThrow(RangeError);
  });
});
