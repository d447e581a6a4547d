import { jensenShannon, jensenShannonDistance } from '../src/jensen-shannon';
import { relErr, uniformSample } from './drift-samples';

/*
 * Reference values: Evidently's `jensenshannon` stattest recipe, i.e. the `binned` function
 * written out in psi.test.ts with fill=False, then
 *
 *     from scipy.spatial import distance
 *     def js(ref, cur, numeric=True):
 *         r, c = binned(ref, cur, numeric, False)
 *         return float(distance.jensenshannon(r, c))
 *
 * run with /usr/bin/python3 (numpy 1.24.2, scipy 1.10.1) on samples from drift-samples.ts.
 */

describe('jensenShannonDistance', () => {
  it("reproduces scipy's documented examples", () => {
    // scipy.spatial.distance.jensenshannon docstring (scipy 1.10): [1, 0] vs [0.5, 0.5] gives
    // 0.46450140402245893; identical vectors give 0.0; disjoint ones sqrt(ln 2) (1.0 in base 2).
    expect(jensenShannonDistance([1, 0], [0.5, 0.5])).toBeCloseTo(0.46450140402245893, 15);
    expect(jensenShannonDistance([1, 0, 0], [1, 0, 0])).toBe(0);
    expect(jensenShannonDistance([1, 0, 0], [0, 1, 0])).toBeCloseTo(Math.sqrt(Math.LN2), 15);
    // Counts are normalised first: the docstring's axis-0 example, first column.
    expect(jensenShannonDistance([1, 5, 9], [13, 17, 21])).toBeCloseTo(0.1954288, 7);
  });

  it('is symmetric and rejects invalid weights', () => {
    expect(jensenShannonDistance([0.2, 0.8], [0.6, 0.4])).toBe(jensenShannonDistance([0.6, 0.4], [0.2, 0.8]));
    expect(() => jensenShannonDistance([1], [0.5, 0.5])).toThrow(RangeError);
    expect(() => jensenShannonDistance([1, -1], [0.5, 0.5])).toThrow(RangeError);
    expect(() => jensenShannonDistance([0, 0], [0.5, 0.5])).toThrow(RangeError);
    expect(() => jensenShannonDistance([1, Number.NaN], [0.5, 0.5])).toThrow(RangeError);
  });
});

describe('jensenShannon', () => {
  it("matches Evidently's recipe on numeric features", () => {
    const cases: [number, number, number, number, number, number, number, number][] = [
      // s1, n1, s2, n2, scale, shift, grid, js(sample(s1, n1, grid=g), sample(s2, n2, scale, shift, grid=g))
      [1, 2000, 2, 1500, 1.0, 0.0, 0, 0.040884702252902666],
      [3, 2000, 4, 1500, 1.1, 0.05, 0, 0.21166019222450527],
      [5, 5000, 6, 800, 1.0, 0.3, 0, 0.4510444644841451],
      [7, 1200, 8, 1200, 1.0, 0.0, 100, 0.05670542858524574],
      [9, 1200, 10, 900, 1.0, 0.1, 100, 0.2392192304575267],
      [11, 30000, 12, 3000, 1.0, 0.5, 0, 0.5591590161288218],
      [13, 1001, 14, 50, 2.0, -0.5, 0, 0.43234899223028994],
      [15, 1100, 16, 1100, 1.0, 0.0, 10, 0.04401325656744139],
      [17, 3000, 18, 3000, 1.0, 0.2, 7, 0.8325546111576977],
    ];
    for (const [s1, n1, s2, n2, scale, shift, grid, expected] of cases) {
      const value = jensenShannon(uniformSample(s1, n1, { grid }), uniformSample(s2, n2, { scale, shift, grid }));
      expect(relErr(value, expected)).toBeLessThan(1e-13);
    }
  });

  it('leaves empty bins empty, and bins categories by value', () => {
    // a = np.arange(33) / 32; b = [((i * 3) % 9) / 8 for i in range(95)]: five of eight bins
    // of b are empty.
    const a = Array.from({ length: 33 }, (_, i) => i / 32);
    const b = Array.from({ length: 95 }, (_, i) => ((i * 3) % 9) / 8);
    expect(relErr(jensenShannon(a, b), 0.5456787867288606)).toBeLessThan(1e-13);
    const ref = [...rep('a', 50), ...rep('b', 30), ...rep('c', 20)];
    const cur = [...rep('a', 20), ...rep('b', 30), ...rep('c', 45), ...rep('d', 5)];
    expect(relErr(jensenShannon(ref, cur, { kind: 'categorical' }), 0.27423547404513643)).toBeLessThan(1e-13);
    const few = jensenShannon(rep([1, 2, 3, 4, 5], 40).flat(), rep([1, 2, 2, 3, 6], 30).flat());
    expect(relErr(few, 0.47427213479976166)).toBeLessThan(1e-13);
  });
});

function rep<T>(value: T, times: number): T[] {
  return Array.from({ length: times }, () => value);
}
