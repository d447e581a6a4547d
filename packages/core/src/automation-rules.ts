import { twoProportionTest, type TwoProportionTest } from './two-proportion';
import { wilsonInterval, type ConfidenceInterval } from './wilson';

/** Labeled feedback on one version's predictions: how many were labeled and how many right. */
export interface FeedbackTally {
  n: number;
  correct: number;
}

/** A rule's verdict, as data: whether it fires, a code, a sentence with the numbers, and the numbers. */
export interface RuleVerdict<T> {
  fire: boolean;
  code: 'enough_new_rows' | 'accuracy_below_bound' | 'worse_than_predecessor' | 'too_few_samples' | 'within_bounds';
  reason: string;
  details: T;
}

const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

/** Retrain once `pending` new labeled rows have arrived (threshold N). */
export function enoughNewRows(pending: number, threshold: number): RuleVerdict<{ pending: number; threshold: number }> {
  const fire = pending >= threshold;
  return {
    fire,
    code: fire ? 'enough_new_rows' : 'within_bounds',
    reason: `${pending} new labeled row(s) ${fire ? '>=' : '<'} ${threshold}`,
    details: { pending, threshold },
  };
}

/**
 * Retrain when live accuracy is below `bound` with confidence: the Wilson interval's upper end
 * is below it, and at least `minSamples` predictions were labeled. A low point estimate on a
 * handful of labels does not fire.
 */
export function accuracyBelowBound(
  tally: FeedbackTally,
  opts: { bound: number; minSamples: number; confidence?: number },
): RuleVerdict<{ n: number; accuracy: number | null; interval: ConfidenceInterval | null; bound: number; min_samples: number }> {
  const { bound, minSamples } = opts;
  if (tally.n < minSamples || tally.n === 0) {
    return {
      fire: false,
      code: 'too_few_samples',
      reason: `${tally.n} labeled prediction(s), fewer than the ${minSamples} needed`,
      details: { n: tally.n, accuracy: tally.n > 0 ? tally.correct / tally.n : null, interval: null, bound, min_samples: minSamples },
    };
  }
  const interval = wilsonInterval(tally.correct, tally.n, opts.confidence ?? 0.95);
  const fire = interval.high < bound;
  const accuracy = tally.correct / tally.n;
  return {
    fire,
    code: fire ? 'accuracy_below_bound' : 'within_bounds',
    reason: `live accuracy ${pct(accuracy)} on ${tally.n} labels, ${Math.round((opts.confidence ?? 0.95) * 100)}% interval [${pct(interval.low)}, ${pct(interval.high)}] ${fire ? 'entirely below' : 'not entirely below'} ${pct(bound)}`,
    details: { n: tally.n, accuracy, interval, bound, min_samples: minSamples },
  };
}

/**
 * Roll back when the active version is significantly worse on feedback than its predecessor
 * was: a one-sided pooled two-proportion test at level `alpha`, each side with at least
 * `minSamples` labels. Two versions never label the same rows (each served its own period),
 * so the test compares proportions, not pairs.
 */
export function worseThanPredecessor(
  active: FeedbackTally,
  predecessor: FeedbackTally,
  opts: { alpha: number; minSamples: number },
): RuleVerdict<{ active: FeedbackTally; predecessor: FeedbackTally; alpha: number; min_samples: number; test: TwoProportionTest | null }> {
  const details = { active, predecessor, alpha: opts.alpha, min_samples: opts.minSamples };
  if (active.n < opts.minSamples || predecessor.n < opts.minSamples) {
    return {
      fire: false,
      code: 'too_few_samples',
      reason: `${active.n} label(s) on the active version and ${predecessor.n} on its predecessor; each needs ${opts.minSamples}`,
      details: { ...details, test: null },
    };
  }
  const test = twoProportionTest(active.correct, active.n, predecessor.correct, predecessor.n);
  const fire = test.pValueLower < opts.alpha;
  return {
    fire,
    code: fire ? 'worse_than_predecessor' : 'within_bounds',
    reason: `live accuracy ${pct(test.p1)} (${active.correct}/${active.n}) against the predecessor's ${pct(test.p2)} (${predecessor.correct}/${predecessor.n}): z = ${test.z.toFixed(2)}, one-sided p = ${test.pValueLower.toPrecision(3)} ${fire ? '<' : '>='} ${opts.alpha}`,
    details: { ...details, test },
  };
}
