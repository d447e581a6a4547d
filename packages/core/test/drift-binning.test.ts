import { binnedProportions } from '../src/drift-binning';
import { uniformSample } from './drift-samples';

describe('binnedProportions', () => {
  it("cuts numeric features into numpy's Sturges bins over the pooled range", () => {
    // a = sample(301, 40), b = sample(302, 30, 1.0, 0.2) (see drift-samples.ts);
    // /usr/bin/python3 -c "import numpy as np; e = np.histogram_bin_edges(np.concatenate([a, b]),
    //   bins='sturges'); print(list(e), np.histogram(a, e)[0], np.histogram(b, e)[0])"
    // with numpy 1.24.2: 70 values, so ceil(log2(70) + 1) = 8 bins.
    const a = uniformSample(301, 40);
    const b = uniformSample(302, 30, { shift: 0.2 });
    const r = binnedProportions(a, b);
    expect(Array.from(r.edges ?? [])).toEqual([
      0.005422796355560422, 0.15268068042350932, 0.2999385644914582, 0.4471964485594071, 0.594454332627356,
      0.741712216695305, 0.8889701007632538, 1.0362279848312028, 1.1834858688991516,
    ]);
    expect(Array.from(r.reference, (p) => p * 40)).toEqual([7, 7, 5, 4, 6, 8, 3, 0]);
    expect(Array.from(r.current, (p) => Math.round(p * 30))).toEqual([0, 3, 6, 3, 4, 1, 6, 7]);
    expect(r.values).toBeNull();
  });

  it('takes a fixed number of equal-width bins when asked', () => {
    // Same samples; np.histogram_bin_edges(np.concatenate([a, b]), bins=10).
    const r = binnedProportions(uniformSample(301, 40), uniformSample(302, 30, { shift: 0.2 }), { bins: 10 });
    expect(r.edges?.[1]).toBe(0.12322910360991954);
    expect(r.edges?.[9]).toBe(1.0656795616447925);
    expect(Array.from(r.reference, (p) => Math.round(p * 40))).toEqual([6, 5, 5, 5, 2, 6, 6, 4, 1, 0]);
    expect(Array.from(r.current, (p) => Math.round(p * 30))).toEqual([0, 1, 4, 5, 2, 3, 2, 3, 3, 7]);
  });

  it("closes bins on the left and the last one on both sides, as numpy's histogram does", () => {
    // 33 + 95 = 128 values on [0, 1], so 8 bins of width 1/8; b sits exactly on the edges
    // 0, 3/8 and 6/8, and a's 1.0 falls into the last bin. numpy gives the same counts.
    const a = Array.from({ length: 33 }, (_, i) => i / 32);
    const b = Array.from({ length: 95 }, (_, i) => ((i * 3) % 9) / 8);
    const r = binnedProportions(a, b);
    expect(Array.from(r.edges ?? [])).toEqual([0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1]);
    expect(Array.from(r.reference, (p) => Math.round(p * 33))).toEqual([4, 4, 4, 4, 4, 4, 4, 5]);
    expect(Array.from(r.current, (p) => Math.round(p * 95))).toEqual([32, 0, 0, 32, 0, 0, 31, 0]);
  });

  it('uses one bin per value for categorical features and numeric ones with few reference values', () => {
    const categorical = binnedProportions(['a', 'b', 'a', 'c'], ['b', 'd'], { kind: 'categorical' });
    expect(categorical.values).toEqual(['a', 'b', 'c', 'd']);
    expect(Array.from(categorical.reference)).toEqual([0.5, 0.25, 0.25, 0]);
    expect(Array.from(categorical.current)).toEqual([0, 0.5, 0, 0.5]);
    // 20 distinct reference values is still "few"; the current sample may add more.
    const ref = Array.from({ length: 40 }, (_, i) => i % 20);
    const cur = Array.from({ length: 30 }, (_, i) => i);
    const numeric = binnedProportions(ref, cur);
    expect(numeric.edges).toBeNull();
    expect(numeric.values).toHaveLength(30);
    expect(binnedProportions([...ref, 20], cur).edges).not.toBeNull();
  });

  it("fills empty bins Evidently's way", () => {
    // Smallest non-zero proportion above 1e-4: empty bins get 1e-4.
    const r = binnedProportions(['a', 'b', 'a', 'c'], ['b', 'd'], { kind: 'categorical', fillZeroes: true });
    expect(Array.from(r.reference)).toEqual([0.5, 0.25, 0.25, 1e-4]);
    expect(Array.from(r.current)).toEqual([1e-4, 0.5, 1e-4, 0.5]);
    // At most 1e-4 (one row in 20,000): empty bins get a millionth of it.
    const many = [...Array.from({ length: 19999 }, () => 'x'), 'y'];
    const s = binnedProportions(many, ['x', 'z'], { kind: 'categorical', fillZeroes: true });
    expect(Array.from(s.reference)).toEqual([19999 / 20000, 1 / 20000, 1 / 20000 / 1e6]);
  });

  it('rejects empty samples, missing or non-finite values and invalid bin counts', () => {
    expect(() => binnedProportions([], [1])).toThrow(RangeError);
    expect(() => binnedProportions([1, Number.NaN], [1])).toThrow(RangeError);
    expect(() => binnedProportions([1, Infinity], [1])).toThrow(RangeError);
    expect(() => binnedProportions([1, 2], ['a'])).toThrow(RangeError);
    const withNull = ['a', null as unknown as string];
    expect(() => binnedProportions(withNull, ['a'], { kind: 'categorical' })).toThrow(RangeError);
    expect(() => binnedProportions([1, 2], [1], { bins: 0 })).toThrow(RangeError);
    expect(() => binnedProportions([1, 2], [1], { bins: 2.5 })).toThrow(RangeError);
  });
});
