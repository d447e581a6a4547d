// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- an ambient module declaration must travel with this file to every consumer
/// <reference path="./types/ml-logistic-regression.d.ts" />
import LogisticRegression from 'ml-logistic-regression';
import { Matrix } from 'ml-matrix';
import { z } from 'zod';
import type { ClassifierAlgorithm, TrainedClassifier } from './classifier';
import type { FeatureMatrix } from './matrix';
import { fitStandardizer, standardize, standardizerSchema, type Standardizer } from './standardizer';

/** Hyperparameters of the ml-logistic-regression wrapper. */
export const mlLogisticHyperparametersSchema = z.strictObject({
  num_steps: z.number().int().min(1).max(100_000).default(1000),
  /** Step on the mean gradient; the library steps on the sum, so it receives `learning_rate / n`. */
  learning_rate: z.number().positive().max(10).default(0.5),
});

/** Hyperparameters of the ml-logistic-regression wrapper. */
export type MlLogisticHyperparameters = z.infer<typeof mlLogisticHyperparametersSchema>;

/** Stored parameters: one-vs-rest weights, intercept first, on standardized features. */
export const mlLogisticParamsSchema = z.strictObject({
  standardizer: standardizerSchema,
  n_classes: z.number().int().min(2),
  n_features: z.number().int().min(1),
  /** `weights[k]` = [intercept, w_1..w_d] of class k against the rest; null for a class absent from training. */
  weights: z.array(z.array(z.number()).nullable()),
});

/** Stored parameters: one-vs-rest weights, intercept first, on standardized features. */
export type MlLogisticParams = z.infer<typeof mlLogisticParamsSchema>;

class MlLogisticModel implements TrainedClassifier {
  readonly algorithm = 'ml_logistic_regression';
  readonly nClasses: number;
  readonly nFeatures: number;

  constructor(private readonly params: MlLogisticParams) {
    this.nClasses = params.n_classes;
    this.nFeatures = params.n_features;
    if (params.weights.length !== params.n_classes) throw new RangeError('one weight vector per class expected');
    for (const w of params.weights) {
      if (w && w.length !== params.n_features + 1) throw new RangeError('weights must have n_features + 1 values');
    }
  }

  predictProba(x: FeatureMatrix): Float64Array {
    const z = standardize(x, this.params.standardizer);
    const k = this.nClasses;
    const out = new Float64Array(x.rows * k);
    for (let i = 0; i < x.rows; i++) {
      let sum = 0;
      for (let c = 0; c < k; c++) {
        const w = this.params.weights[c];
        let p = 0;
        if (w) {
          let s = w[0] as number;
          for (let j = 0; j < x.cols; j++) s += (w[j + 1] as number) * (z.data[i * x.cols + j] as number);
          p = 1 / (1 + Math.exp(-s));
        }
        out[i * k + c] = p;
        sum += p;
      }
      // One-vs-rest scores do not sum to one; normalise them as scikit-learn's OvR does.
      for (let c = 0; c < k; c++) out[i * k + c] = sum > 0 ? (out[i * k + c] as number) / sum : 1 / k;
    }
    return out;
  }

  toParams(): MlLogisticParams {
    return this.params;
  }
}

/**
 * Logistic regression by the `ml-logistic-regression` package: one-vs-rest, plain batch
 * gradient descent. Kept as a selectable baseline for comparisons: it is slow (about
 * 1,000x scikit-learn on 80,000 rows) and reaches worse optima. Features are standardized
 * and an intercept column is added before the library sees them.
 */
export const mlLogisticRegression: ClassifierAlgorithm<MlLogisticHyperparameters, MlLogisticParams> = {
  name: 'ml_logistic_regression',
  description: 'one-vs-rest logistic regression by plain gradient descent (ml-logistic-regression; slow, for comparison)',
  hyperparametersSchema: mlLogisticHyperparametersSchema,
  paramsSchema: mlLogisticParamsSchema,
  fit({ x, y, nClasses, hyperparameters, onProgress }) {
    const standardizer: Standardizer = fitStandardizer(x);
    const z = standardize(x, standardizer);
    const rows: number[][] = [];
    for (let i = 0; i < z.rows; i++) rows.push([1, ...z.data.subarray(i * z.cols, (i + 1) * z.cols)]);
    // The library numbers classes by the distinct labels it sees; map present classes to
    // 0..m-1 so a batch without some class still yields weights for the right ones.
    const present = [...new Set(y)].sort((a, b) => a - b);
    const compact = new Map(present.map((c, i) => [c, i]));
    const weights: (number[] | null)[] = new Array<number[] | null>(nClasses).fill(null);
    if (present.length >= 2) {
      const lr = new LogisticRegression({
        numSteps: hyperparameters.num_steps,
        learningRate: hyperparameters.learning_rate / Math.max(1, z.rows),
      });
      lr.train(new Matrix(rows), Matrix.columnVector(Array.from(y, (c) => compact.get(c) as number)));
      present.forEach((c, i) => {
        // The library labels "this class" 0 and "the rest" 1, so its weights score the rest:
        // negate them to score the class itself.
        const w = (lr.classifiers[i] as { weights: Matrix }).weights.to1DArray();
        weights[c] = w.map((v) => -v);
      });
    } else if (present.length === 1) {
      weights[present[0] as number] = [0, ...new Array<number>(x.cols).fill(0)];
    }
    onProgress?.(1);
    const model = new MlLogisticModel({ standardizer, n_classes: nClasses, n_features: x.cols, weights });
    return { model, report: { iterations: hyperparameters.num_steps, converged: false, final_loss: null } };
  },
  load: (params) => new MlLogisticModel(params),
};
