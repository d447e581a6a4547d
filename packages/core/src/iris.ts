import type { ModelSpec } from './model-spec';
import { DEFAULT_POLICY } from './policy';

const cm = (name: string, description: string) => ({
  name,
  unit: 'cm',
  description,
  // Iris measurements are lengths in centimetres: anything at or below 0, or beyond 50 cm
  // (ten times the largest flower in the data), is a unit mistake, not a flower.
  exclusive_minimum: 0,
  maximum: 50,
});

/** The default model: Fisher's Iris, three species from four measurements in centimetres. */
export const irisSpec: ModelSpec = Object.freeze({
  name: 'iris',
  description: "Fisher's Iris: species from sepal and petal measurements (cm)",
  features: Object.freeze([
    cm('sepal_length', 'sepal length in cm'),
    cm('sepal_width', 'sepal width in cm'),
    cm('petal_length', 'petal length in cm'),
    cm('petal_width', 'petal width in cm'),
  ]),
  classes: Object.freeze(['setosa', 'versicolor', 'virginica']),
  dataset: Object.freeze({ file: 'iris.csv', labelColumn: 'species' }),
  algorithm: 'logistic_regression',
  seed: 42,
  evalFraction: 0.2,
  minBatchForEvalSlice: 10,
  policy: DEFAULT_POLICY,
  // The bootstrap version scores 29 of the 30 frozen rows. A challenger below 80 % there, or
  // worse than the champion with McNemar p < 0.05, is refused whatever the request asks.
  guardrails: Object.freeze({ alpha: 0.05, min_accuracy: 0.8 }),
});
