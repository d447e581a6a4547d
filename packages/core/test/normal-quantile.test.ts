import { normalQuantile } from '../src/normal-quantile';

/** Relative error, falling back to absolute near zero. */
function relErr(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.max(Math.abs(expected), 1);
}

describe('normalQuantile', () => {
  it('gives the published critical values', () => {
    // Standard normal percentage points as tabulated to 9 decimals in Abramowitz & Stegun,
    // Handbook of Mathematical Functions (1964), ch. 26.
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 9);
    expect(normalQuantile(0.95)).toBeCloseTo(1.644853627, 9);
    expect(normalQuantile(0.995)).toBeCloseTo(2.575829304, 9);
    expect(normalQuantile(0.999)).toBeCloseTo(3.090232306, 9);
    // The full double-precision value of z_0.975, from
    // /usr/bin/python3 -c "from scipy.special import ndtri; print(repr(float(ndtri(0.975))))".
    expect(relErr(normalQuantile(0.975), 1.959963984540054)).toBeLessThan(1e-15);
  });

  it('matches scipy.special.ndtri to double precision in every branch of AS 241', () => {
    // /usr/bin/python3 -c "from scipy.special import ndtri; print(repr(float(ndtri(p))))"
    // with scipy 1.10.1. The two values around exp(-25) straddle the switch between AS 241's
    // intermediate and far-tail rational functions; 0.0749 / 0.0751 straddle |p - 0.5| = 0.425.
    const reference: [number, number][] = [
      [1e-300, -37.0470962993612],
      [1e-20, -9.262340089798409],
      [1.3874055921099057e-11, -6.658051731427321],
      [1.3901831808828983e-11, -6.6577576994767975],
      [1e-6, -4.753424308822899],
      [0.001, -3.090232306167813],
      [0.025, -1.9599639845400545],
      [0.0749, -1.4402382675279635],
      [0.0751, -1.4388253927525403],
      [0.25, -0.6744897501960817],
      [0.6, 0.2533471031357997],
      [0.9, 1.2815515655446004],
      [0.99, 2.3263478740408408],
      [0.9999999999, 6.361340889697422],
    ];
    for (const [p, z] of reference) {
      expect(relErr(normalQuantile(p), z)).toBeLessThan(1e-14);
    }
  });

  it('is antisymmetric about 1/2 and zero there', () => {
    expect(normalQuantile(0.5)).toBe(0);
    // Dyadic probabilities, so 1 - p is exact and only the algorithm is under test.
    for (const p of [0.25, 0.125, 1 / 1024, 2 ** -40]) {
      expect(relErr(normalQuantile(1 - p), -normalQuantile(p))).toBeLessThan(1e-15);
    }
  });

  it('is strictly increasing across the branch boundaries', () => {
    const ps = [1e-12, 1.38e-11, 1.39e-11, 1e-10, 0.07, 0.074, 0.076, 0.2, 0.5, 0.8, 0.924, 0.926, 0.99];
    const zs = ps.map(normalQuantile);
    for (let i = 1; i < zs.length; i++) expect(zs[i] as number).toBeGreaterThan(zs[i - 1] as number);
  });

  it('returns infinities at 0 and 1 and rejects probabilities outside [0, 1]', () => {
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    for (const bad of [-0.1, 1.1, Number.NaN]) expect(() => normalQuantile(bad)).toThrow(RangeError);
  });
});
