import type { ClassifierAlgorithm } from './classifier';
import { gaussianNb } from './gaussian-nb';
import { knn } from './knn';
import { mlLogisticRegression } from './ml-logistic-regression';
import { randomForest } from './random-forest';
import { softmaxRegression } from './softmax-regression';

/** Every selectable algorithm, by the name stored in artifacts. */
export const algorithms: Readonly<Record<string, ClassifierAlgorithm<unknown, unknown>>> = Object.freeze({
  [softmaxRegression.name]: softmaxRegression,
  [mlLogisticRegression.name]: mlLogisticRegression,
  [randomForest.name]: randomForest,
  [knn.name]: knn,
  [gaussianNb.name]: gaussianNb,
});

/** Names accepted wherever an algorithm is chosen. */
export const algorithmNames = Object.freeze(Object.keys(algorithms));

/** The algorithm called `name`, or undefined. */
export function getAlgorithm(name: string): ClassifierAlgorithm<unknown, unknown> | undefined {
  return Object.prototype.hasOwnProperty.call(algorithms, name) ? algorithms[name] : undefined;
}
