/** Precision, recall and F1 of one class, with the counts behind them. */
export interface ClassMetrics {
  class_index: number;
  class_name: string;
  precision: number;
  recall: number;
  f1: number;
  /** Evaluation rows whose true label is this class. */
  support: number;
}

/** Scores of one model on one evaluation set. */
export interface EvaluationMetrics {
  accuracy: number;
  n: number;
  correct: number;
  per_class: ClassMetrics[];
  /** `confusion_matrix[true][predicted]` counts. */
  confusion_matrix: number[][];
}

/** `counts[true][predicted]` for labels in `[0, nClasses)`. */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, nClasses: number): number[][] {
  if (yTrue.length !== yPred.length) throw new RangeError(`${yTrue.length} labels but ${yPred.length} predictions`);
  const m = Array.from({ length: nClasses }, () => new Array<number>(nClasses).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const row = m[yTrue[i] as number];
    if (row === undefined) throw new RangeError(`label ${yTrue[i]} outside [0, ${nClasses})`);
    const p = yPred[i] as number;
    if (p < 0 || p >= nClasses) throw new RangeError(`prediction ${p} outside [0, ${nClasses})`);
    row[p] = (row[p] as number) + 1;
  }
  return m;
}

/**
 * Per-class precision, recall and F1 from a confusion matrix. An undefined ratio (no
 * predictions or no support for the class) counts as 0, as scikit-learn's `zero_division=0`.
 */
export function perClassMetrics(cm: readonly (readonly number[])[], classNames: readonly string[]): ClassMetrics[] {
  return cm.map((row, k) => {
    const tp = row[k] as number;
    const support = row.reduce((a, b) => a + b, 0);
    const predicted = cm.reduce((a, r) => a + (r[k] as number), 0);
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { class_index: k, class_name: classNames[k] ?? String(k), precision, recall, f1, support };
  });
}

/** Accuracy, per-class metrics and the confusion matrix of predictions against labels. */
export function evaluate(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  classNames: readonly string[],
): EvaluationMetrics {
  const cm = confusionMatrix(yTrue, yPred, classNames.length);
  const correct = cm.reduce((a, row, k) => a + (row[k] as number), 0);
  const n = yTrue.length;
  return {
    accuracy: n === 0 ? 0 : correct / n,
    n,
    correct,
    per_class: perClassMetrics(cm, classNames),
    confusion_matrix: cm,
  };
}
