import { stratifiedBootstrapF1 } from './bootstrap';
import { mcnemarExact, pairedOutcomes } from './mcnemar';
import { evaluate, type ClassMetrics } from './metrics';
import type { Policy } from './policy';
import { wilsonInterval, type ConfidenceInterval as Interval } from './wilson';

/** One model's scores on the evaluation set, each with its 95 % interval. */
export interface ModelScore {
  accuracy: number;
  /** Wilson score interval of the accuracy. */
  accuracy_ci: Interval;
  correct: number;
  n: number;
  /** Per-class metrics; `f1_ci` is a stratified bootstrap percentile interval (fixed seed). */
  per_class: (ClassMetrics & { precision_ci: Interval; recall_ci: Interval; f1_ci: Interval })[];
  /** `confusion_matrix[true][predicted]`. */
  confusion_matrix: number[][];
}

/** Champion and challenger compared row by row on the same evaluation set. */
export interface PairedComparison {
  both_correct: number;
  only_champion_correct: number;
  only_challenger_correct: number;
  both_wrong: number;
  /** Exact McNemar test, two-sided, on the discordant rows. */
  mcnemar_p_value: number;
}

/** The closed set of reasons a challenger is refused. */
export type ViolationCode =
  | 'accuracy_decreased'
  | 'delta_below_minimum'
  | 'class_f1_not_improved'
  | 'insufficient_class_support'
  | 'not_significantly_better'
  | 'significantly_worse'
  | 'below_accuracy_floor';

/** One reason for a rejection, with the numbers behind it. */
export interface Violation {
  code: ViolationCode;
  message: string;
  [detail: string]: number | string;
}

/** What the gate decided and why: stored in the job result and the history entry. */
export interface GateDecision {
  activated: boolean;
  policy: Policy | { name: 'bootstrap' };
  reason: string;
  violations: Violation[];
  champion: ModelScore | null;
  challenger: ModelScore;
  paired: PairedComparison | null;
}

/** Options of {@link scoreModel} and {@link decide}. */
export interface ScoreOptions {
  /** Seed of the bootstrap resampling: fixed so that a re-run stores the same intervals. */
  seed: number;
  /** Bootstrap resamples for the F1 intervals. */
  resamples?: number;
}

const round = (v: number): number => Math.round(v * 1e6) / 1e6;

/** Scores predictions against labels with Wilson intervals for proportions and bootstrap F1 intervals. */
export function scoreModel(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  classNames: readonly string[],
  options: ScoreOptions,
): ModelScore {
  const m = evaluate(yTrue, yPred, classNames);
  const f1ci = stratifiedBootstrapF1(yTrue, yPred, classNames.length, {
    seed: options.seed,
    resamples: options.resamples ?? 1000,
  });
  const cm = m.confusion_matrix;
  return {
    accuracy: m.accuracy,
    accuracy_ci: wilsonInterval(m.correct, m.n),
    correct: m.correct,
    n: m.n,
    per_class: m.per_class.map((c, k) => {
      const predicted = cm.reduce((a, row) => a + (row[k] as number), 0);
      const tp = (cm[k] as number[])[k] as number;
      return {
        ...c,
        precision_ci: wilsonInterval(tp, predicted),
        recall_ci: wilsonInterval(tp, c.support),
        f1_ci: f1ci[k] ?? { low: 0, high: 1 },
      };
    }),
    confusion_matrix: cm,
  };
}

/** The decision for a model's first version: activated without a comparison, and saying so. */
export function bootstrapDecision(challenger: ModelScore): GateDecision {
  return {
    activated: true,
    policy: { name: 'bootstrap' },
    reason: 'bootstrap: first version of the model, activated without a comparison',
    violations: [],
    champion: null,
    challenger,
    paired: null,
  };
}

/** Resolves a policy's class (index or name) to an index, or undefined if the model has no such class. */
export function resolveClass(cls: number | string, classNames: readonly string[]): number | undefined {
  const k = typeof cls === 'number' ? cls : classNames.indexOf(cls);
  return k >= 0 && k < classNames.length ? k : undefined;
}

/**
 * The quality gate. Champion and challenger must have been run on the same evaluation rows
 * (`yTrue`): comparing scores from different sets is the flaw this gate exists to avoid.
 * Accuracies are compared through their integer counts of correct rows, so that equal
 * performance is never split by floating-point noise.
 */
export function decide(input: {
  policy: Policy;
  classNames: readonly string[];
  yTrue: ArrayLike<number>;
  championPred: ArrayLike<number>;
  challengerPred: ArrayLike<number>;
  options: ScoreOptions;
}): GateDecision {
  const { policy, classNames, yTrue, options } = input;
  const champion = scoreModel(yTrue, input.championPred, classNames, options);
  const challenger = scoreModel(yTrue, input.challengerPred, classNames, options);
  const po = pairedOutcomes(yTrue, input.championPred, input.challengerPred);
  const test = mcnemarExact(po.only_champion_correct, po.only_challenger_correct);
  const paired: PairedComparison = { ...po, mcnemar_p_value: test.p_value };
  const violations: Violation[] = [];
  const b = po.only_champion_correct;
  const c = po.only_challenger_correct;

  switch (policy.name) {
    case 'any_improvement':
      if (challenger.correct < champion.correct) {
        violations.push({
          code: 'accuracy_decreased',
          message: `challenger accuracy ${round(challenger.accuracy)} is below the champion's ${round(champion.accuracy)}`,
          champion_accuracy: champion.accuracy,
          challenger_accuracy: challenger.accuracy,
        });
      }
      break;
    case 'min_delta': {
      const delta = challenger.accuracy - champion.accuracy;
      // Counts, not floats: the challenger needs ceil(min_delta * n) more correct rows.
      const needed = Math.ceil(policy.min_delta * champion.n - 1e-9);
      if (challenger.correct - champion.correct < needed) {
        violations.push({
          code: 'delta_below_minimum',
          message: `accuracy gain ${round(delta)} is below the required ${policy.min_delta}`,
          delta,
          min_delta: policy.min_delta,
          champion_accuracy: champion.accuracy,
          challenger_accuracy: challenger.accuracy,
        });
      }
      break;
    }
    case 'per_class_f1': {
      const k = resolveClass(policy.class, classNames);
      if (k === undefined) throw new RangeError(`unknown class ${String(policy.class)}`);
      const name = classNames[k] as string;
      const ch = champion.per_class[k] as ModelScore['per_class'][number];
      const cl = challenger.per_class[k] as ModelScore['per_class'][number];
      if (cl.support < policy.min_support) {
        violations.push({
          code: 'insufficient_class_support',
          message: `only ${cl.support} evaluation rows of class ${name}; at least ${policy.min_support} are needed to compare its F1`,
          class: name,
          support: cl.support,
          min_support: policy.min_support,
        });
      } else if (!(cl.f1 > ch.f1)) {
        violations.push({
          code: 'class_f1_not_improved',
          message: `F1 of class ${name} is ${round(cl.f1)}, not above the champion's ${round(ch.f1)}`,
          class: name,
          champion_f1: ch.f1,
          challenger_f1: cl.f1,
        });
      }
      break;
    }
    case 'significant':
      if (!(c > b && test.p_value < policy.alpha)) {
        violations.push({
          code: 'not_significantly_better',
          message: `challenger is not better with p < ${policy.alpha} (McNemar exact p = ${round(test.p_value)}, ${c} rows only it got right, ${b} only the champion)`,
          p_value: test.p_value,
          alpha: policy.alpha,
          only_champion_correct: b,
          only_challenger_correct: c,
        });
      }
      break;
    case 'non_inferior':
      if (b > c && test.p_value < policy.alpha) {
        violations.push({
          code: 'significantly_worse',
          message: `challenger is worse with p = ${round(test.p_value)} < ${policy.alpha} (${b} rows only the champion got right, ${c} only it)`,
          p_value: test.p_value,
          alpha: policy.alpha,
          only_champion_correct: b,
          only_challenger_correct: c,
        });
      }
      break;
  }
  if (policy.min_accuracy !== undefined && challenger.accuracy < policy.min_accuracy) {
    violations.push({
      code: 'below_accuracy_floor',
      message: `challenger accuracy ${round(challenger.accuracy)} is below the floor ${policy.min_accuracy}`,
      accuracy: challenger.accuracy,
      min_accuracy: policy.min_accuracy,
    });
  }
  const activated = violations.length === 0;
  const reason = activated
    ? `${policy.name}: challenger ${round(challenger.accuracy)} vs champion ${round(champion.accuracy)} on the same ${champion.n} evaluation rows; activated`
    : `${policy.name}: rejected; ${violations.map((v) => v.message).join('; ')}`;
  return { activated, policy, reason, violations, champion, challenger, paired };
}
