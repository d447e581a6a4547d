import { binomialDraw } from '../src/binomial';
import { createRng } from '../src/random';

/** log P(X = k) for k = 0..n, X ~ Bin(n, p), by the ratio of successive terms (no underflow). */
function logPmf(n: number, p: number): number[] {
  const out = [n * Math.log1p(-p)];
  for (let k = 0; k < n; k++) out.push((out[k] as number) + Math.log(n - k) - Math.log(k + 1) + Math.log(p / (1 - p)));
  return out;
}

/**
 * Pearson's chi-square of `draws` against Bin(n, p), over cells of consecutive values that
 * each expect at least 20 draws, turned into a standard normal score by Wilson and Hilferty's
 * cube root: about N(0, 1) when the draws follow the distribution.
 */
function chiSquareZ(draws: Int32Array, n: number, p: number): number {
  const lp = logPmf(n, p);
  const cellOf = new Int32Array(n + 1);
  const expected: number[] = [0];
  for (let k = 0; k <= n; k++) {
    if ((expected.at(-1) as number) >= 20) expected.push(0);
    cellOf[k] = expected.length - 1;
    expected[expected.length - 1] = (expected.at(-1) as number) + draws.length * Math.exp(lp[k] as number);
  }
  // The last cell may expect fewer than 20: it joins the one before.
  if (expected.length > 1 && (expected.at(-1) as number) < 20) {
    const last = expected.length - 1;
    expected[last - 1] = (expected[last - 1] as number) + (expected.pop() as number);
    for (let k = 0; k <= n; k++) if (cellOf[k] === last) cellOf[k] = last - 1;
  }
  const observed = expected.map(() => 0);
  for (const x of draws) observed[cellOf[x] as number] = (observed[cellOf[x] as number] as number) + 1;
  const chi2 = expected.reduce((a, ex, c) => a + ((observed[c] as number) - ex) ** 2 / ex, 0);
  const df = expected.length - 1;
  return (Math.cbrt(chi2 / df) - (1 - 2 / (9 * df))) / Math.sqrt(2 / (9 * df));
}

describe('binomialDraw', () => {
  // Inversion (n · min(p, 1 - p) <= 30) and BTPE, p on both sides of 1/2, and a wide one where
  // BTPE's far-from-the-mode Stirling test decides.
  const cases: [number, number][] = [
    [20, 0.3],
    [1000, 0.02],
    [60, 0.9],
    [100, 0.5],
    [700, 0.05],
    [1000, 0.3],
    [5000, 0.8],
    [100_000, 0.4],
  ];

  it.each(cases)('follows Bin(%d, %d): mean, variance and a chi-square test', (n, p) => {
    const rng = createRng(n ^ Math.round(p * 1000));
    const draws = new Int32Array(100_000);
    for (let i = 0; i < draws.length; i++) draws[i] = binomialDraw(rng, n, p);
    const mean = draws.reduce((a, x) => a + x, 0) / draws.length;
    const variance = draws.reduce((a, x) => a + (x - mean) ** 2, 0) / draws.length;
    const sd = Math.sqrt(n * p * (1 - p));
    // Standard error of the mean sd / sqrt(N); 5 of them.
    expect(Math.abs(mean - n * p)).toBeLessThan((5 * sd) / Math.sqrt(draws.length));
    expect(Math.abs(variance / (sd * sd) - 1)).toBeLessThan(0.03);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThanOrEqual(n);
    // z > 4 would happen about once in 30,000 runs of a correct generator; the seeds are fixed.
    expect(chiSquareZ(draws, n, p)).toBeLessThan(4);
  });

  it('is deterministic for a generator state', () => {
    const a = createRng(9);
    const b = createRng(9);
    for (let i = 0; i < 100; i++) expect(binomialDraw(a, 500, 0.37)).toBe(binomialDraw(b, 500, 0.37));
  });

  it('handles the degenerate cases and rejects invalid arguments', () => {
    const rng = createRng(1);
    expect(binomialDraw(rng, 0, 0.5)).toBe(0);
    expect(binomialDraw(rng, 10, 0)).toBe(0);
    expect(binomialDraw(rng, 10, 1)).toBe(10);
    expect(() => binomialDraw(rng, -1, 0.5)).toThrow(RangeError);
    expect(() => binomialDraw(rng, 2.5, 0.5)).toThrow(RangeError);
    expect(() => binomialDraw(rng, 10, 1.5)).toThrow(RangeError);
    expect(() => binomialDraw(rng, 10, Number.NaN)).toThrow(RangeError);
  });
});
