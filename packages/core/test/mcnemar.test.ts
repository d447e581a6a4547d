import { mcnemarExact, pairedOutcomes } from '../src/mcnemar';

/** Relative error against a non-zero reference. */
function relErr(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.abs(expected);
}

describe('mcnemarExact', () => {
  it('gives the textbook exact p-values', () => {
    // b = 1, c = 9: 2 * P(X <= 1), X ~ Bin(10, 1/2) = 2 * 11/1024 = 0.021484375.
    expect(mcnemarExact(1, 9).p_value).toBeCloseTo(0.02148, 5);
    expect(relErr(mcnemarExact(1, 9).p_value, 22 / 1024)).toBeLessThan(1e-14);
    // M. W. Fagerland, S. Lydersen, P. Laake, "The McNemar test for binary matched-pairs data:
    // mid-p and asymptotic are better than exact conditional", BMC Med. Res. Methodol. 13:91
    // (2013), airway hyper-responsiveness example (discordant 1 and 7): exact conditional p = 0.070.
    expect(mcnemarExact(1, 7).p_value).toBeCloseTo(0.07, 3);
    expect(mcnemarExact(3, 3).p_value).toBe(1);
    // All ten discordant pairs favour the challenger: 2 * 2^-10.
    expect(mcnemarExact(0, 10).p_value).toBeCloseTo(2 / 1024, 15);
  });

  it('matches scipy.stats.binomtest, two-sided and one-sided, up to a million discordant pairs', () => {
    // /usr/bin/python3 -c "from scipy.stats import binomtest; t = lambda a: binomtest(c, b + c, 0.5,
    //   alternative=a).pvalue; print(repr(t('two-sided')), repr(t('greater')), repr(t('less')))"
    // with scipy 1.10.1 ('greater' = challenger better, 'less' = challenger worse).
    const reference: [number, number, number, number, number][] = [
      [5, 15, 0.04138946533203125, 0.020694732666015625, 0.9940910339355469],
      [12, 25, 0.04703102743951604, 0.02351551371975802, 0.9899630740401335],
      [40, 60, 0.05688793364098088, 0.02844396682049044, 0.9823998998911476],
      [100, 130, 0.05561357778139239, 0.027806788890696196, 0.9796437354499516],
      [1000, 1100, 0.030720707864242486, 0.015360353932121243, 0.9862497202462123],
      [499000, 501000, 0.045608299865389515, 0.022804149932694757, 0.9773038320453266],
      [490000, 510000, 5.544363287698749e-89, 2.7721816438493744e-89, 1.0],
    ];
    for (const [b, c, two, better, worse] of reference) {
      const r = mcnemarExact(b, c);
      expect(r.b).toBe(b);
      expect(r.c).toBe(c);
      expect(relErr(r.p_value, two)).toBeLessThan(1e-11);
      expect(relErr(r.p_challenger_better, better)).toBeLessThan(1e-11);
      expect(relErr(r.p_challenger_worse, worse)).toBeLessThan(1e-11);
    }
  });

  it('is symmetric in the two models', () => {
    for (const [b, c] of [
      [1, 9],
      [12, 25],
      [499000, 501000],
    ] as const) {
      const r = mcnemarExact(b, c);
      const swapped = mcnemarExact(c, b);
      expect(swapped.p_value).toBe(r.p_value);
      expect(swapped.p_challenger_better).toBe(r.p_challenger_worse);
      expect(swapped.p_challenger_worse).toBe(r.p_challenger_better);
    }
  });

  it('returns p = 1 everywhere when there are no discordant pairs', () => {
    expect(mcnemarExact(0, 0)).toEqual({ b: 0, c: 0, p_value: 1, p_challenger_better: 1, p_challenger_worse: 1 });
  });

  it('stays finite and in [0, 1] for extreme counts', () => {
    for (const [b, c] of [
      [0, 1_000_000],
      [1_000_000, 0],
      [3, 999_997],
      [500_000, 500_000],
      [500_001, 499_999],
    ] as const) {
      const r = mcnemarExact(b, c);
      for (const p of [r.p_value, r.p_challenger_better, r.p_challenger_worse]) {
        expect(Number.isFinite(p)).toBe(true);
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(1);
      }
    }
    expect(mcnemarExact(500_000, 500_000).p_value).toBe(1);
    // Two-sided p doubles the smaller one-sided tail.
    const r = mcnemarExact(498_000, 502_000);
    expect(r.p_value).toBe(2 * r.p_challenger_better);
  });

  it('rejects negative or fractional counts', () => {
    expect(() => mcnemarExact(-1, 3)).toThrow(RangeError);
    expect(() => mcnemarExact(1, 2.5)).toThrow(RangeError);
    expect(() => mcnemarExact(Number.NaN, 2)).toThrow(RangeError);
  });
});

describe('pairedOutcomes', () => {
  it('cross-tabulates correctness of the two models', () => {
    const yTrue = [0, 1, 2, 0, 1, 2, 0];
    const champion = [0, 1, 0, 1, 1, 0, 0];
    const challenger = [0, 0, 2, 1, 1, 2, 2];
    expect(pairedOutcomes(yTrue, champion, challenger)).toEqual({
      both_correct: 2,
      only_champion_correct: 2,
      only_challenger_correct: 2,
      both_wrong: 1,
    });
  });

  it('accepts typed arrays and feeds mcnemarExact', () => {
    const o = pairedOutcomes(Int32Array.of(1, 1, 1, 1), Int32Array.of(0, 0, 0, 1), Int32Array.of(1, 1, 1, 1));
    expect(o).toEqual({ both_correct: 1, only_champion_correct: 0, only_challenger_correct: 3, both_wrong: 0 });
    expect(mcnemarExact(o.only_champion_correct, o.only_challenger_correct).p_challenger_better).toBeCloseTo(1 / 8, 15);
  });

  it('rejects misaligned inputs', () => {
    expect(() => pairedOutcomes([0, 1], [0], [0, 1])).toThrow(RangeError);
    expect(() => pairedOutcomes([0, 1], [0, 1], [0])).toThrow(RangeError);
  });
});
