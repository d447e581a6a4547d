import { chiSquareSurvival, chiSquareTest } from '../src/chi-square-test';
import { relErr } from './drift-samples';

describe('chiSquareSurvival', () => {
  it('gives the tabulated 5% critical values', () => {
    // Upper 5% points of chi-square as printed in Abramowitz & Stegun, Table 26.8:
    // 3.84146 (1 dof), 11.0705 (5 dof), 18.3070 (10 dof), 43.7730 (30 dof).
    expect(chiSquareSurvival(3.84146, 1)).toBeCloseTo(0.05, 6);
    expect(chiSquareSurvival(11.0705, 5)).toBeCloseTo(0.05, 6);
    expect(chiSquareSurvival(18.307, 10)).toBeCloseTo(0.05, 5);
    expect(chiSquareSurvival(43.773, 30)).toBeCloseTo(0.05, 5);
  });

  it('matches scipy.stats.chi2.sf, deep into the tail and for a thousand dof', () => {
    // /usr/bin/python3 -c "from scipy.stats import chi2; print(repr(float(chi2.sf(x, k))))"
    // with scipy 1.10.1.
    const reference: [number, number, number][] = [
      [3.841458820694124, 1, 0.04999999999999989],
      [0.5, 1, 0.47950012218695337],
      [10.0, 2, 0.006737946999085468],
      [11.07, 5, 0.050009618622405425],
      [60.0, 30, 0.0009206823961486636],
      [500.0, 3, 4.771672031912771e-108],
      [1000.0, 999, 0.48513148927490146],
      [1100.0, 999, 0.013818467525532353],
      [0.0001, 4, 0.9999999987500416],
    ];
    for (const [x, k, p] of reference) expect(relErr(chiSquareSurvival(x, k), p)).toBeLessThan(1e-12);
  });

  it('is 1 at zero, 0 at infinity, and rejects invalid arguments', () => {
    expect(chiSquareSurvival(0, 3)).toBe(1);
    expect(chiSquareSurvival(Infinity, 3)).toBe(0);
    expect(() => chiSquareSurvival(-1, 3)).toThrow(RangeError);
    expect(() => chiSquareSurvival(1, 0)).toThrow(RangeError);
    expect(() => chiSquareSurvival(Number.NaN, 3)).toThrow(RangeError);
  });
});

describe('chiSquareTest', () => {
  it("reproduces the textbook test of Mendel's pea counts against 9:3:3:1", () => {
    // Mendel's 1866 F2 seeds (315 round yellow, 108 round green, 101 wrinkled yellow, 32
    // wrinkled green) against the 9:3:3:1 ratio, the classic worked example: chi-square 0.470
    // on 3 dof, p = 0.925. The ratio plays the reference sample.
    const r = chiSquareTest([9, 3, 3, 1], [315, 108, 101, 32]);
    expect(r.statistic).toBeCloseTo(0.47, 3);
    expect(r.pValue).toBeCloseTo(0.925, 3);
    expect(r.dof).toBe(3);
    expect(r.unseenCategories).toBe(0);
  });

  it("matches Evidently's recipe, scipy.stats.chisquare(cur, ref * len(cur) / len(ref))", () => {
    // /usr/bin/python3 -c "from scipy.stats import chisquare; k = sum(cur) / sum(ref);
    //   r = chisquare(cur, [x * k for x in ref]); print(repr(float(r.statistic)), repr(float(r.pvalue)))"
    // with scipy 1.10.1 (Evidently's _chi_stat_test computes k_norm and f_exp the same way).
    const reference: [number[], number[], number, number][] = [
      [[9, 3, 3, 1], [315, 108, 101, 32], 0.4700239808153477, 0.925425895103616],
      [[120, 340, 95, 445], [30, 95, 40, 85], 18.488711865585973, 0.00034869601356242707],
      [[50, 30, 20], [0, 70, 30], 108.33333333333334, 2.990305527194387e-24],
      [[400, 350, 250], [380, 362, 258], 1.6674285714285715, 0.43443267881625647],
      [
        [3, 17, 25, 41, 60, 72, 80, 66, 55, 43, 30, 22, 14, 9, 5, 2, 1, 1, 1, 1],
        [1, 9, 20, 33, 50, 70, 91, 88, 70, 52, 41, 27, 18, 11, 6, 3, 2, 1, 0, 1],
        27.489843484188043,
        0.09375045156806464,
      ],
    ];
    for (const [ref, cur, statistic, p] of reference) {
      const r = chiSquareTest(ref, cur);
      expect(relErr(r.statistic, statistic)).toBeLessThan(1e-14);
      expect(relErr(r.pValue, p)).toBeLessThan(1e-12);
      expect(r.dof).toBe(ref.length - 1);
    }
  });

  it('reports a category unseen in the reference as certain drift', () => {
    // Expected count 0 but observed 5: impossible under the reference proportions. scipy
    // (and so Evidently) gives an infinite statistic and p = 0.
    const r = chiSquareTest([50, 30, 20, 0], [40, 30, 25, 5]);
    expect(r).toEqual({ statistic: Infinity, pValue: 0, dof: 3, unseenCategories: 1 });
  });

  it('ignores categories absent from both samples', () => {
    const withEmpty = chiSquareTest([120, 0, 340, 95, 445], [30, 0, 95, 40, 85]);
    const without = chiSquareTest([120, 340, 95, 445], [30, 95, 40, 85]);
    expect(withEmpty).toEqual(without);
  });

  it('gives p = 1 for a single category and for identical proportions', () => {
    expect(chiSquareTest([10], [7])).toEqual({ statistic: 0, pValue: 1, dof: 0, unseenCategories: 0 });
    const same = chiSquareTest([100, 200, 300], [10, 20, 30]);
    expect(same.statistic).toBeCloseTo(0, 12);
    expect(same.pValue).toBeCloseTo(1, 12);
  });

  it('rejects misaligned, negative, non-finite or empty counts', () => {
    expect(() => chiSquareTest([1, 2], [1])).toThrow(RangeError);
    expect(() => chiSquareTest([1, -2], [1, 2])).toThrow(RangeError);
    expect(() => chiSquareTest([1, 2], [1, Number.NaN])).toThrow(RangeError);
    expect(() => chiSquareTest([1, Infinity], [1, 2])).toThrow(RangeError);
    expect(() => chiSquareTest([0, 0], [1, 2])).toThrow(RangeError);
    expect(() => chiSquareTest([1, 2], [0, 0])).toThrow(RangeError);
  });
});
