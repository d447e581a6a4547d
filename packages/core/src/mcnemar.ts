import { deviance, stirlingError } from './saddle-point';
/**
 * How two models fared row by row on the same labelled rows: the 2x2 table behind a paired
 * comparison. Only the two discordant cells carry evidence about which model is better.
 */
export interface PairedOutcomes {
  both_correct: number;
  only_champion_correct: number;
  only_challenger_correct: number;
  both_wrong: number;
}

/** Result of the exact McNemar test for a champion/challenger pair. */
export interface McNemarResult {
  /** Discordant rows the champion got right and the challenger got wrong. */
  b: number;
  /** Discordant rows the challenger got right and the champion got wrong. */
  c: number;
  /**
   * Two-sided exact p-value `min(1, 2·P(X <= min(b, c)))`, `X ~ Binomial(b + c, 1/2)`:
   * evidence that the two models differ in accuracy, in either direction.
   */
  p_value: number;
  /**
   * One-sided p-value `P(X >= c)`, `X ~ Binomial(b + c, 1/2)`: evidence that the challenger is
   * more accurate than the champion. This is the one a promotion gate should test, because a
   * two-sided test spends half its error budget on "challenger worse", which never promotes.
   */
  p_challenger_better: number;
  /** One-sided p-value `P(X <= c)`: evidence that the challenger is less accurate (a regression). */
  p_challenger_worse: number;
}

/**
 * Cross-tabulates correctness of two models' predictions on the same rows.
 *
 * @param yTrue - True labels.
 * @param predChampion - The current model's predictions, aligned with `yTrue`.
 * @param predChallenger - The candidate model's predictions, aligned with `yTrue`.
 * @throws RangeError when the three arrays differ in length.
 */
export function pairedOutcomes(
  yTrue: ArrayLike<number>,
  predChampion: ArrayLike<number>,
  predChallenger: ArrayLike<number>,
): PairedOutcomes {
  if (predChampion.length !== yTrue.length || predChallenger.length !== yTrue.length) {
    throw new RangeError(
      `${yTrue.length} labels but ${predChampion.length} champion and ${predChallenger.length} challenger predictions`,
    );
  }
  const out: PairedOutcomes = { both_correct: 0, only_champion_correct: 0, only_challenger_correct: 0, both_wrong: 0 };
  for (let i = 0; i < yTrue.length; i++) {
    const y = yTrue[i];
    const champion = predChampion[i] === y;
    const challenger = predChallenger[i] === y;
    if (champion && challenger) out.both_correct++;
    else if (champion) out.only_champion_correct++;
    else if (challenger) out.only_challenger_correct++;
    else out.both_wrong++;
  }
  return out;
}

/**
 * Exact (binomial) McNemar test of a challenger against a champion evaluated on the same rows.
 *
 * Under the null hypothesis of equal accuracy each discordant row is equally likely to favour
 * either model, so `c ~ Binomial(b + c, 1/2)`. The exact test is used instead of the chi-square
 * approximation because gates often see only a handful of discordant rows, where the
 * approximation is poor. With no discordant rows there is no evidence either way: every p is 1.
 *
 * Use {@link pairedOutcomes} to get the counts:
 * `mcnemarExact(o.only_champion_correct, o.only_challenger_correct)`.
 *
 * Cost is O(sqrt(b + c)) at worst; counts of 1e6 and beyond are fine (no factorials are formed).
 *
 * @param onlyChampionCorrect - `b`, a non-negative integer.
 * @param onlyChallengerCorrect - `c`, a non-negative integer.
 * @throws RangeError on negative or non-integer counts.
 */
export function mcnemarExact(onlyChampionCorrect: number, onlyChallengerCorrect: number): McNemarResult {
  const b = onlyChampionCorrect;
  const c = onlyChallengerCorrect;
  for (const [name, v] of [
    ['onlyChampionCorrect', b],
    ['onlyChallengerCorrect', c],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} = ${v} is not a non-negative integer`);
  }
  const n = b + c;
  // P(X >= c) = P(X <= b) by the symmetry of Binomial(n, 1/2).
  const pBetter = binomialHalfCdf(b, n);
  const pWorse = binomialHalfCdf(c, n);
  return {
    b,
    c,
    p_value: Math.min(1, 2 * Math.min(pBetter, pWorse)),
    p_challenger_better: pBetter,
    p_challenger_worse: pWorse,
  };
}

const LN2 = Math.LN2;
const LN_2PI = Math.log(2 * Math.PI);

/** `P(X <= k)` for `X ~ Binomial(n, 1/2)`, integers `0 <= k`, `0 <= n`. */
function binomialHalfCdf(k: number, n: number): number {
  if (k >= n) return 1;
  // Summing down from k only shrinks the terms when k is below the mode; above it, take the
  // complement of the (small) upper tail, which by symmetry is the lower tail at n - k - 1.
  if (2 * k > n) return 1 - binomialHalfCdf(n - k - 1, n);
  // Terms relative to the largest one (at k): pmf(i - 1) / pmf(i) = i / (n - i + 1) < 1, so
  // the sum never overflows and can stop once further terms cannot change it.
  let sum = 1;
  let term = 1;
  for (let i = k; i > 0; i--) {
    term *= i / (n - i + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return Math.min(1, Math.exp(logBinomialHalfPmf(k, n)) * sum);
}

/**
 * `log P(X = x)` for `X ~ Binomial(n, 1/2)` by Loader's saddle-point expansion
 * (C. Loader, "Fast and accurate computation of binomial probabilities", 2000; R's dbinom).
 * The naive `lgamma(n+1) - lgamma(x+1) - lgamma(n-x+1)` cancels three numbers of size
 * n·log(n) and loses ~8 digits at n = 1e6; this form keeps nearly full precision.
 */
function logBinomialHalfPmf(x: number, n: number): number {
  if (x === 0 || x === n) return -n * LN2;
  const half = n / 2;
  const lc = stirlingError(n) - stirlingError(x) - stirlingError(n - x) - deviance(x, half) - deviance(n - x, half);
  return lc - 0.5 * (LN_2PI + Math.log(x) + Math.log1p(-x / n));
}
