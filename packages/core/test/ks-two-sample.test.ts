import { ksTwoSample } from '../src/ks-two-sample';
import { relErr, uniformSample } from './drift-samples';

describe('ksTwoSample', () => {
  it('gives the exact closed form for completely separated samples', () => {
    // Every value of b above every value of a: D = 1, and only the two extreme orderings of
    // the pooled sample reach it, so p = 2 / C(m + n, m) = 2/35 for m = 3, n = 4.
    const r = ksTwoSample([1, 2, 3], [4, 5, 6, 7]);
    expect(r.statistic).toBe(1);
    expect(relErr(r.pValue, 2 / 35)).toBeLessThan(1e-15);
    expect(r.method).toBe('exact');
  });

  it('matches scipy.stats.ks_2samp on small samples, ties included', () => {
    // /usr/bin/python3 -c "from scipy.stats import ks_2samp; r = ks_2samp(a, b);
    //   print(repr(float(r.statistic)), repr(float(r.pvalue)))" with scipy 1.10.1.
    const ties = ksTwoSample([1.2, 3.4, 3.4, 5.0, 2.2, 0.7, 4.1], [3.4, 6.1, 5.0, 7.3, 4.4, 5.0, 8.8, 6.6]);
    expect(ties.statistic).toBe(0.7321428571428571);
    expect(relErr(ties.pValue, 0.024242424242424242)).toBeLessThan(1e-13);
    const equalSizes = ksTwoSample([1, 2, 3, 4, 5], [3, 4, 5, 6, 7]);
    expect(equalSizes.statistic).toBe(0.4);
    expect(relErr(equalSizes.pValue, 0.873015873015873)).toBeLessThan(1e-13);
  });

  it("matches scipy's exact and asymptotic p-values on generated samples", () => {
    // a = sample(s1, n1, grid=g), b = sample(s2, n2, 1.0, shift, grid=g) (see drift-samples.ts);
    // /usr/bin/python3 -c "from scipy.stats import ks_2samp; r = ks_2samp(a, b, method=m);
    //   print(repr(float(r.statistic)), repr(float(r.pvalue)))" with scipy 1.10.1, m = 'auto'
    // unless given. Sizes above 10,000 switch 'auto' to 'asymp'.
    const cases: [number, number, number, number, number, number, string, number, number, string][] = [
      // s1, n1, s2, n2, shift, grid, method, statistic, p-value, what it exercises
      [101, 1000, 201, 800, 0.02, 0, 'auto', 0.0585, 0.09188298125503834, 'exact, unequal sizes'],
      [102, 500, 202, 500, 0.1, 0, 'auto', 0.176, 3.5183715394480326e-7, 'exact, equal sizes'],
      [103, 800, 203, 900, 0.05, 40, 'auto', 0.12583333333333332, 2.639925184175304e-6, 'exact, many ties'],
      [104, 10000, 204, 37, 0.2, 0, 'auto', 0.3651837837837838, 6.497501198176994e-5, 'exact at the 10,000 limit'],
      [105, 12000, 205, 300, 0.1, 0, 'auto', 0.16399999999999998, 2.354971086124789e-7, 'asymp, en = 293'],
      [105, 12000, 205, 300, 0.1, 0, 'exact', 0.164, 2.4146259858087295e-7, 'forced exact; D = h/lcm'],
      [106, 20000, 206, 15000, 0.02, 0, 'auto', 0.025616666666666663, 2.5569844174819676e-5, 'asymp, en = 8571'],
      [108, 60, 208, 45, 0.3, 0, 'asymp', 0.5, 1.5529854493849736e-6, 'forced asymp, en = 26'],
      [101, 1000, 201, 800, 0.02, 0, 'asymp', 0.058499999999999996, 0.09202189198712662, 'forced asymp'],
    ];
    for (const [s1, n1, s2, n2, shift, grid, method, statistic, p, what] of cases) {
      const a = uniformSample(s1, n1, { grid });
      const b = uniformSample(s2, n2, { shift, grid });
      const r = ksTwoSample(a, b, method as 'auto' | 'exact' | 'asymp');
      expect([what, r.statistic]).toEqual([what, statistic]);
      expect([what, relErr(r.pValue, p) < 1e-11]).toEqual([what, true]);
    }
  });

  it("rounds the effective sample size half to even, as numpy's round does", () => {
    // m = n = 10001: en = 5000.5, which scipy rounds to 5000 (kstwo.sf(D, 5000) =
    // 1.3948883786458528e-08; at 5001 it would be 1.3896665179368993e-08).
    const r = ksTwoSample(uniformSample(107, 10001), uniformSample(207, 10001, { shift: 0.03 }));
    expect(r.method).toBe('asymp');
    expect(r.statistic).toBe(0.04329567043295668);
    expect(relErr(r.pValue, 1.3948883786458528e-8)).toBeLessThan(1e-11);
  });

  it('is symmetric in the two samples and gives p = 1 for identical ones', () => {
    const a = uniformSample(11, 300);
    const b = uniformSample(12, 450, { shift: 0.05 });
    const ab = ksTwoSample(a, b);
    const ba = ksTwoSample(b, a);
    expect(ba.statistic).toBe(ab.statistic);
    expect(ba.pValue).toBeCloseTo(ab.pValue, 14);
    expect(ksTwoSample(a, Float64Array.from(a).reverse())).toEqual({ statistic: 0, pValue: 1, method: 'exact' });
  });

  it('treats infinities as extreme values and rejects NaN or empty samples', () => {
    expect(ksTwoSample([-Infinity, 1, 2], [3, 4, Infinity]).statistic).toBe(1);
    expect(() => ksTwoSample([], [1])).toThrow(RangeError);
    expect(() => ksTwoSample([1], [])).toThrow(RangeError);
    expect(() => ksTwoSample([1, Number.NaN], [1, 2])).toThrow(RangeError);
  });
});
