import { stratifiedBootstrapF1 } from './bootstrap';
import type { Guardrails } from './guardrails';
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

/** One model's accuracy on a part of the evaluation rows. */
export interface PartScore {
  correct: number;
  accuracy: number;
  /** Wilson score interval of the accuracy. */
  accuracy_ci: Interval;
}

/**
 * Both models on one part of the evaluation rows (the trusted rows, or the growing ones),
 * kept apart in the decision so that a reader sees what each part said.
 */
export interface PartComparison {
  n: number;
  /** Null for a bootstrap, which has no champion. */
  champion: PartScore | null;
  challenger: PartScore;
  paired: PairedComparison | null;
}

/** The closed set of reasons a challenger is refused. */
export type ViolationCode =
  | 'trusted_significantly_worse'
  | 'trusted_below_minimum_accuracy'
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

/**
 * What the gate decided and why: stored in the job result and the history entry. `champion`,
 * `challenger` and `paired` cover every evaluation row (the policy's view); `trusted` and
 * `growing` give the two parts apart (the guardrails' view is `trusted`).
 */
export interface GateDecision {
  activated: boolean;
  policy: Policy | { name: 'bootstrap' };
  /** The model's guardrails this decision was held to. */
  guardrails: Guardrails;
  reason: string;
  violations: Violation[];
  champion: ModelScore | null;
  challenger: ModelScore;
  paired: PairedComparison | null;
  trusted: PartComparison;
  growing: PartComparison | null;
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

const partScore = (correct: number, n: number): PartScore => ({ correct, accuracy: n > 0 ? correct / n : 0, accuracy_ci: wilsonInterval(correct, n) });

/** Compares both models on rows `[from, to)` of the evaluation set. */
function comparePart(yTrue: ArrayLike<number>, champ: ArrayLike<number>, chall: ArrayLike<number>, from: number, to: number): PartComparison {
  const idx = Array.from({ length: to - from }, (_, i) => from + i);
  const pick = (a: ArrayLike<number>) => idx.map((i) => a[i] as number);
  const y = pick(yTrue);
  const po = pairedOutcomes(y, pick(champ), pick(chall));
  const n = to - from;
  return {
    n,
    champion: partScore(po.both_correct + po.only_champion_correct, n),
    challenger: partScore(po.both_correct + po.only_challenger_correct, n),
    paired: { ...po, mcnemar_p_value: mcnemarExact(po.only_champion_correct, po.only_challenger_correct).p_value },
  };
}

/**
 * The decision for a model's first version: activated without a comparison, and saying so.
 * Its evaluation rows are all trusted: they become the model's trusted set.
 */
export function bootstrapDecision(challenger: ModelScore, guardrails: Guardrails): GateDecision {
  return {
    activated: true,
    policy: { name: 'bootstrap' },
    guardrails,
    reason: 'bootstrap: first version of the model, activated without a comparison',
    violations: [],
    champion: null,
    challenger,
    paired: null,
    trusted: { n: challenger.n, champion: null, challenger: partScore(challenger.correct, challenger.n), paired: null },
    growing: null,
  };
}

/**
 * The guardrails, checked on the trusted rows only: rows that no batch wrote, so a batch
 * whose labels are wrong cannot make its own model look good there.
 */
function guardrailViolations(trusted: PartComparison, g: Guardrails): Violation[] {
  const out: Violation[] = [];
  const p = trusted.paired as PairedComparison;
  const b = p.only_champion_correct;
  const c = p.only_challenger_correct;
  if (b > c && p.mcnemar_p_value < g.alpha) {
    out.push({
      code: 'trusted_significantly_worse',
      message: `guardrail: on the ${trusted.n} trusted rows the challenger is worse with McNemar p = ${round(p.mcnemar_p_value)} < ${g.alpha} (${b} rows only the champion got right, ${c} only it)`,
      n: trusted.n,
      p_value: p.mcnemar_p_value,
      alpha: g.alpha,
      only_champion_correct: b,
      only_challenger_correct: c,
    });
  }
  if (trusted.challenger.accuracy < g.min_accuracy) {
    out.push({
      code: 'trusted_below_minimum_accuracy',
      message: `guardrail: challenger accuracy ${round(trusted.challenger.accuracy)} on the ${trusted.n} trusted rows is below the model's minimum ${g.min_accuracy}`,
      n: trusted.n,
      accuracy: trusted.challenger.accuracy,
      min_accuracy: g.min_accuracy,
    });
  }
  return out;
}

/** Resolves a policy's class (index or name) to an index, or undefined if the model has no such class. */
export function resolveClass(cls: number | string, classNames: readonly string[]): number | undefined {
  const k = typeof cls === 'number' ? cls : classNames.indexOf(cls);
  return k >= 0 && k < classNames.length ? k : undefined;
}

/**
 * The quality gate. Champion and challenger must have been run on the same evaluation rows
 * (`yTrue`): comparing scores from different sets is the flaw this gate exists to avoid.
 * The first `trustedRows` rows are the model's trusted set: the guardrails are checked there,
 * whatever the policy; the policy then judges every row. Accuracies are compared through
 * their integer counts of correct rows, so that equal performance is never split by
 * floating-point noise.
 */
export function decide(input: {
  policy: Policy;
  guardrails: Guardrails;
  classNames: readonly string[];
  yTrue: ArrayLike<number>;
  championPred: ArrayLike<number>;
  challengerPred: ArrayLike<number>;
  /** How many of the rows, from the first, are trusted; the rest are the growing set. */
  trustedRows: number;
  options: ScoreOptions;
}): GateDecision {
  const { policy, classNames, yTrue, options, trustedRows } = input;
  const n = yTrue.length;
  if (!(trustedRows >= 1 && trustedRows <= n)) throw new RangeError(`trustedRows must be within 1..${n}, got ${trustedRows}`);
  const champion = scoreModel(yTrue, input.championPred, classNames, options);
  const challenger = scoreModel(yTrue, input.challengerPred, classNames, options);
  const po = pairedOutcomes(yTrue, input.championPred, input.challengerPred);
  const test = mcnemarExact(po.only_champion_correct, po.only_challenger_correct);
  const paired: PairedComparison = { ...po, mcnemar_p_value: test.p_value };
  const trusted = comparePart(yTrue, input.championPred, input.challengerPred, 0, trustedRows);
  const growing = trustedRows < n ? comparePart(yTrue, input.championPred, input.challengerPred, trustedRows, n) : null;
  const violations: Violation[] = guardrailViolations(trusted, input.guardrails);
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
  const rows = `${champion.n} evaluation rows (${trusted.n} trusted, ${growing?.n ?? 0} growing)`;
  const reason = activated
    ? `${policy.name}: challenger ${round(challenger.accuracy)} vs champion ${round(champion.accuracy)} on the same ${rows}; guardrails met; activated`
    : `${policy.name}: rejected; ${violations.map((v) => v.message).join('; ')}`;
  return { activated, policy, guardrails: input.guardrails, reason, violations, champion, challenger, paired, trusted, growing };
}
