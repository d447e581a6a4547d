import { wilsonInterval } from '../src/wilson';

describe('wilsonInterval', () => {
  it("reproduces Newcombe's published score intervals", () => {
    // R. G. Newcombe, "Two-sided confidence intervals for the single proportion: comparison of
    // seven methods", Statistics in Medicine 17 (1998) 857-872, Table I, method 3 (score
    // interval without continuity correction), to the 4 decimals printed there.
    const published: [number, number, number, number][] = [
      [81, 263, 0.2553, 0.3662],
      [15, 148, 0.0624, 0.1605],
      [0, 20, 0, 0.1611],
      [1, 29, 0.0061, 0.1718],
    ];
    for (const [k, n, low, high] of published) {
      const ci = wilsonInterval(k, n);
      expect(ci.low).toBeCloseTo(low, 4);
      expect(ci.high).toBeCloseTo(high, 4);
    }
  });

  it('matches scipy to double precision, including other confidence levels', () => {
    // /usr/bin/python3 -c "from scipy.stats import binomtest;
    //   ci = binomtest(k, n).proportion_ci(cl, method='wilson'); print(repr(ci.low), repr(ci.high))"
    // with scipy 1.10.1.
    const reference: [number, number, number, number, number][] = [
      [81, 263, 0.95, 0.2552885198782742, 0.36620957698280004],
      [0, 10, 0.95, 0, 0.27753279986288926],
      [10, 10, 0.95, 0.7224672001371109, 1],
      [81, 263, 0.99, 0.24013690268760768, 0.3852825023182298],
      [81, 263, 0.9, 0.26331361718848145, 0.3565663496084882],
      [5, 7, 0.999, 0.20879021153454835, 0.9594885075727633],
    ];
    for (const [k, n, cl, low, high] of reference) {
      const ci = wilsonInterval(k, n, cl);
      expect(ci.low).toBeCloseTo(low, 13);
      expect(ci.high).toBeCloseTo(high, 13);
    }
  });

  it('pins the bounds at 0 and 1 for all-failure and all-success samples', () => {
    // Closed forms: upper(0/n) = z^2 / (n + z^2), lower(n/n) = n / (n + z^2).
    const z2 = 1.959963984540054 ** 2;
    expect(wilsonInterval(0, 10)).toEqual({ low: 0, high: expect.closeTo(z2 / (10 + z2), 14) });
    expect(wilsonInterval(10, 10)).toEqual({ low: expect.closeTo(10 / (10 + z2), 14), high: 1 });
  });

  it('covers [0, 1] with no trials', () => {
    expect(wilsonInterval(0, 0)).toEqual({ low: 0, high: 1 });
    expect(wilsonInterval(0, 0, 0.5)).toEqual({ low: 0, high: 1 });
  });

  it('widens with confidence, narrows with n and mirrors under k -> n - k', () => {
    const a = wilsonInterval(30, 100, 0.9);
    const b = wilsonInterval(30, 100, 0.99);
    expect(b.low).toBeLessThan(a.low);
    expect(b.high).toBeGreaterThan(a.high);
    const big = wilsonInterval(3000, 10000);
    expect(big.high - big.low).toBeLessThan(wilsonInterval(30, 100).high - wilsonInterval(30, 100).low);
    const lo = wilsonInterval(7, 50);
    const hi = wilsonInterval(43, 50);
    expect(hi.low).toBeCloseTo(1 - lo.high, 14);
    expect(hi.high).toBeCloseTo(1 - lo.low, 14);
  });

  it('rejects invalid counts and confidence levels', () => {
    expect(() => wilsonInterval(-1, 10)).toThrow(RangeError);
    expect(() => wilsonInterval(11, 10)).toThrow(RangeError);
    expect(() => wilsonInterval(1.5, 10)).toThrow(RangeError);
    expect(() => wilsonInterval(0, -1)).toThrow(RangeError);
    expect(() => wilsonInterval(1, 10, 1)).toThrow(RangeError);
    expect(() => wilsonInterval(1, 10, 0)).toThrow(RangeError);
    expect(() => wilsonInterval(1, 10, Number.NaN)).toThrow(RangeError);
  });
});
