import { chiSquareTest } from '../src/chi-square-test';
import { driftOfFeature } from '../src/feature-drift';
import { relErr, uniformSample } from './drift-samples';

function rep<T>(value: T, times: number): T[] {
  return Array.from({ length: times }, () => value);
}

describe('driftOfFeature', () => {
  it('uses the two-sample KS test for numeric features with up to 1000 reference rows', () => {
    // ks_2samp(sample(401, 600), sample(402, 700, 1.0, 0.05)) and
    // ks_2samp(sample(405, 600), sample(406, 700, 1.0, 0.15)) with scipy 1.10.1
    // (see ks-two-sample.test.ts for the command).
    const calm = driftOfFeature('age', 'numeric', uniformSample(401, 600), uniformSample(402, 700, { shift: 0.05 }));
    expect(calm).toEqual({
      feature: 'age',
      kind: 'numeric',
      test: 'ks',
      statistic: 0.054047619047619046,
      pValue: expect.closeTo(0.2903943391460381, 12),
      threshold: 0.05,
      drifted: false,
      referenceRows: 600,
      currentRows: 700,
      referenceMissing: 0,
      currentMissing: 0,
    });
    const shifted = driftOfFeature('age', 'numeric', uniformSample(405, 600), uniformSample(406, 700, { shift: 0.15 }));
    expect(shifted.test).toBe('ks');
    expect(relErr(shifted.pValue as number, 5.550518846786969e-11)).toBeLessThan(1e-11);
    expect(shifted.drifted).toBe(true);
  });

  it('drops and counts missing values before testing', () => {
    const ref: (number | null)[] = [...uniformSample(401, 600)];
    const cur: (number | null | undefined)[] = [...uniformSample(402, 700, { shift: 0.05 })];
    ref.splice(10, 0, null, Number.NaN);
    ref.push(Infinity);
    cur.unshift(undefined, -Infinity);
    const r = driftOfFeature('age', 'numeric', ref, cur);
    expect(r.statistic).toBe(0.054047619047619046);
    expect([r.referenceRows, r.referenceMissing, r.currentRows, r.currentMissing]).toEqual([600, 3, 700, 2]);
    const cat = driftOfFeature('colour', 'categorical', ['red', null, 'blue', 'red', Number.NaN], ['blue', undefined]);
    expect([cat.referenceRows, cat.referenceMissing, cat.currentRows, cat.currentMissing]).toEqual([3, 2, 1, 1]);
  });

  it('uses chi-square for categorical features with more than two values', () => {
    // scipy.stats.chisquare([30, 95, 40, 85], [120, 340, 95, 445] scaled) as in chi-square-test.test.ts.
    const ref = [...rep('a', 120), ...rep('b', 340), ...rep('c', 95), ...rep('d', 445)];
    const cur = [...rep('a', 30), ...rep('b', 95), ...rep('c', 40), ...rep('d', 85)];
    const r = driftOfFeature('plan', 'categorical', ref, cur);
    expect(r.test).toBe('chi-square');
    expect(relErr(r.statistic, 18.488711865585973)).toBeLessThan(1e-14);
    expect(relErr(r.pValue as number, 0.00034869601356242707)).toBeLessThan(1e-12);
    expect(r.drifted).toBe(true);
    // A category never seen in training is certain drift.
    const unseen = driftOfFeature('plan', 'categorical', ['a', 'b', 'c'], ['a', 'b', 'c', 'z']);
    expect([unseen.statistic, unseen.pValue, unseen.drifted]).toEqual([Infinity, 0, true]);
  });

  it('treats numeric features with at most 5 distinct values as categorical', () => {
    const ref = [...rep(1, 400), ...rep(2, 350), ...rep(3, 250)];
    const cur = [...rep(1, 380), ...rep(2, 362), ...rep(3, 258)];
    const r = driftOfFeature('rooms', 'numeric', ref, cur);
    expect(r.test).toBe('chi-square');
    expect(r.kind).toBe('numeric');
    expect(r.pValue).toBe(chiSquareTest([400, 350, 250], [380, 362, 258]).pValue);
    expect(r.drifted).toBe(false);
    // Five distinct values over both samples: still chi-square; six: KS.
    expect(driftOfFeature('x', 'numeric', [1, 2, 3, 4, 5, 1], [1, 2, 3]).test).toBe('chi-square');
    expect(driftOfFeature('x', 'numeric', [1, 2, 3, 4, 5, 1], [1, 2, 6]).test).toBe('ks');
  });

  it("uses Evidently's two-proportion z-test for features with at most two distinct values", () => {
    // k1 of n1 reference rows and k2 of n2 current rows are 'yes' (the second sorted value).
    // Evidently's proportions_diff_z_stat_ind, then scipy's two-sided tail:
    // /usr/bin/python3 -c "import numpy as np; from scipy.stats import norm; p1 = k1 / n1;
    //   p2 = k2 / n2; P = (p1 * n1 + p2 * n2) / (n1 + n2);
    //   z = (p1 - p2) / np.sqrt(P * (1 - P) * (1.0 / n1 + 1.0 / n2));
    //   print(repr(float(z)), repr(float(2 * norm.sf(abs(z)))))" with scipy 1.10.1.
    // Evidently itself evaluates 2 * (1 - norm.cdf(|z|)): the same to ~4e-17 absolute
    // (4e-10 relative at p = 8.8e-8), and 0.0 for the fourth case.
    const reference: [number, number, number, number, number, number][] = [
      [30, 100, 45, 100, -2.1908902300206647, 0.02845973691631055],
      [412, 1000, 3020, 6000, -5.348942025978543, 8.846987324350097e-8],
      [5, 800, 40, 700, -5.76446122849191, 8.191910662258665e-9],
      [0, 500, 250, 500, -18.257418583505537, 1.806316233094055e-74],
      [300, 1000, 1, 2, -0.6163630527376168, 0.5376549327212286],
    ];
    for (const [k1, n1, k2, n2, z, p] of reference) {
      const ref = [...rep('no', n1 - k1), ...rep('yes', k1)];
      const cur = [...rep('yes', k2), ...rep('no', n2 - k2)];
      const r = driftOfFeature('churned', 'categorical', ref, cur);
      expect(r.test).toBe('z');
      expect(relErr(r.statistic, z)).toBeLessThan(1e-13);
      expect(relErr(r.pValue as number, p)).toBeLessThan(1e-12);
      expect(r.drifted).toBe(p < 0.05);
    }
    const binary = driftOfFeature('flag', 'numeric', [0, 1, 1, 0], [1, 1, 1, 1]);
    expect(binary.test).toBe('z');
    expect(driftOfFeature('flag', 'categorical', [true, true], [true]).pValue).toBe(1);
  });

  it('switches to the Jensen-Shannon distance above 1000 reference rows', () => {
    // js(sample(403, 3000), sample(404, 2000, 1.0, 0.03)) and js(sample(407, 3000),
    // sample(408, 2000, 1.2, 0.0)), the numpy recipe in jensen-shannon.test.ts.
    const calmCurrent = uniformSample(404, 2000, { shift: 0.03 });
    const calm = driftOfFeature('income', 'numeric', uniformSample(403, 3000), calmCurrent);
    expect(calm.test).toBe('jensen-shannon');
    expect(calm.pValue).toBeNull();
    expect(calm.threshold).toBe(0.1);
    expect(relErr(calm.statistic, 0.08667015412884638)).toBeLessThan(1e-13);
    expect(calm.drifted).toBe(false);
    const widerCurrent = uniformSample(408, 2000, { scale: 1.2 });
    const wider = driftOfFeature('income', 'numeric', uniformSample(407, 3000), widerCurrent);
    expect(relErr(wider.statistic, 0.23736166423848598)).toBeLessThan(1e-13);
    expect(wider.drifted).toBe(true);
    // Categorical features too; 1000 rows is still "small", 1001 is not.
    const ref = [...rep('a', 501), ...rep('b', 300), ...rep('c', 200)];
    expect(driftOfFeature('plan', 'categorical', ref, ['a', 'b']).test).toBe('jensen-shannon');
    expect(driftOfFeature('plan', 'categorical', ref.slice(1), ['a', 'b']).test).toBe('chi-square');
    // The switch counts present rows only.
    expect(driftOfFeature('plan', 'categorical', [...ref.slice(1), null], ['a', 'b']).test).toBe('chi-square');
  });

  it('rejects a sample with no present values and numeric features holding non-numbers', () => {
    expect(() => driftOfFeature('x', 'numeric', [null, Number.NaN], [1])).toThrow(RangeError);
    expect(() => driftOfFeature('x', 'categorical', ['a'], [])).toThrow(RangeError);
    expect(() => driftOfFeature('x', 'numeric', [1, '2'], [1])).toThrow(RangeError);
  });
});
