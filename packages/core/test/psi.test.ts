import { psi, psiOfProportions } from '../src/psi';
import { relErr, uniformSample } from './drift-samples';

/*
 * Reference values: Evidently's `psi` stattest recipe (get_binned_data with feel_zeroes, then
 * the PSI sum) written out in numpy, run with /usr/bin/python3 (numpy 1.24.2, scipy 1.10.1):
 *
 *     import numpy as np
 *     from collections import Counter
 *     def binned(ref, cur, numeric=True, fill=True):
 *         ref, cur = np.asarray(ref), np.asarray(cur)
 *         if numeric and len(set(ref.tolist())) > 20:
 *             bins = np.histogram_bin_edges(np.concatenate([ref, cur]), bins='sturges')
 *             r = np.histogram(ref, bins)[0] / len(ref)
 *             c = np.histogram(cur, bins)[0] / len(cur)
 *         else:
 *             keys = list(set(ref.tolist()) | set(cur.tolist()))
 *             rc, cc = Counter(ref.tolist()), Counter(cur.tolist())
 *             r = np.array([rc[k] / len(ref) for k in keys])
 *             c = np.array([cc[k] / len(cur) for k in keys])
 *         if fill:
 *             for a in (r, c):
 *                 m = min(a[a != 0])
 *                 np.place(a, a == 0, m / 10**6 if m <= 0.0001 else 0.0001)
 *         return r, c
 *     def psi(ref, cur, numeric=True):
 *         r, c = binned(ref, cur, numeric, True)
 *         return float(np.sum((r - c) * np.log(r / c)))
 *
 * with samples from drift-samples.ts.
 */

describe('psi', () => {
  it("matches Evidently's recipe on numeric features", () => {
    const cases: [number, number, number, number, number, number, number, number][] = [
      // s1, n1, s2, n2, scale, shift, grid, psi(sample(s1, n1, grid=g), sample(s2, n2, scale, shift, grid=g))
      [1, 2000, 2, 1500, 1.0, 0.0, 0, 0.013392179979631791],
      [3, 2000, 4, 1500, 1.1, 0.05, 0, 0.7047497570733576],
      [5, 5000, 6, 800, 1.0, 0.3, 0, 4.00000148666366],
      [7, 1200, 8, 1200, 1.0, 0.0, 100, 0.02578330558254426],
      [9, 1200, 10, 900, 1.0, 0.1, 100, 1.0749690145350659],
      [13, 1001, 14, 50, 2.0, -0.5, 0, 3.1941504810183154],
      [15, 1100, 16, 1100, 1.0, 0.0, 10, 0.015522417627435848],
      [17, 3000, 18, 3000, 1.0, 0.2, 7, 14.520432499526436],
    ];
    for (const [s1, n1, s2, n2, scale, shift, grid, expected] of cases) {
      const value = psi(uniformSample(s1, n1, { grid }), uniformSample(s2, n2, { scale, shift, grid }));
      expect(relErr(value, expected)).toBeLessThan(1e-13);
    }
  });

  it('fills empty bins with a millionth of a proportion below 1e-4', () => {
    // a = sample(19, 20000); a[0] = 3.0 (one far outlier: a bin holding 1/20000 of a);
    // b = sample(20, 2000); psi(a, b).
    const a = uniformSample(19, 20000);
    a[0] = 3;
    expect(relErr(psi(a, uniformSample(20, 2000)), 0.01617042822549329)).toBeLessThan(1e-13);
  });

  it('bins on exact edges, with a fixed bin count, and on categories as numpy does', () => {
    // a = np.arange(33) / 32; b = [((i * 3) % 9) / 8 for i in range(95)]; psi(a, b).
    const a = Array.from({ length: 33 }, (_, i) => i / 32);
    const b = Array.from({ length: 95 }, (_, i) => ((i * 3) % 9) / 8);
    expect(relErr(psi(a, b), 5.192397811307167)).toBeLessThan(1e-13);
    // Ten equal-width bins, np.histogram_bin_edges(np.concatenate([a, b]), bins=10), same fill.
    const c = uniformSample(301, 40);
    const d = uniformSample(302, 30, { shift: 0.2 });
    expect(relErr(psi(c, d, { bins: 10 }), 3.2352917076387193)).toBeLessThan(1e-13);
    // psi(np.array(ref), np.array(cur), numeric=False) for the categories below.
    const ref = [...rep('a', 50), ...rep('b', 30), ...rep('c', 20)];
    const cur = [...rep('a', 20), ...rep('b', 30), ...rep('c', 45), ...rep('d', 5)];
    expect(relErr(psi(ref, cur, { kind: 'categorical' }), 0.787728717727596)).toBeLessThan(1e-13);
    // A numeric feature with at most 20 distinct reference values is binned by value:
    // psi([1, 2, 3, 4, 5] * 40, [1, 2, 2, 3, 6] * 30).
    const few = psi(rep([1, 2, 3, 4, 5], 40).flat(), rep([1, 2, 2, 3, 6], 30).flat());
    expect(relErr(few, 4.696890641099376)).toBeLessThan(1e-13);
  });

  it('is 0 for samples with equal proportions', () => {
    expect(psi([1, 2, 3], [3, 2, 1, 1, 2, 3])).toBe(0);
  });
});

describe('psiOfProportions', () => {
  it('sums (r - c)·ln(r/c) and needs positive proportions', () => {
    expect(psiOfProportions([0.5, 0.5], [0.25, 0.75])).toBeCloseTo(0.25 * Math.log(2) + -0.25 * Math.log(2 / 3), 15);
    expect(() => psiOfProportions([0.5, 0.5], [1, 0])).toThrow(RangeError);
    expect(() => psiOfProportions([1], [0.5, 0.5])).toThrow(RangeError);
  });
});

function rep<T>(value: T, times: number): T[] {
  return Array.from({ length: times }, () => value);
}
