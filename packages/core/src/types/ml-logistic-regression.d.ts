// ml-logistic-regression ships no type declarations; this covers what the wrapper uses.
declare module 'ml-logistic-regression' {
  import type { Matrix } from 'ml-matrix';
  interface TwoClassClassifier {
    weights: Matrix;
  }
  export default class LogisticRegression {
    constructor(options?: { numSteps?: number; learningRate?: number });
    classifiers: TwoClassClassifier[];
    train(x: Matrix, y: Matrix): void;
    predict(x: Matrix): number[];
  }
}
