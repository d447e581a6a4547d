import type { z } from 'zod';
import type { FeatureMatrix } from './matrix';

/** How a fit ended: recorded with every version so a bad fit is visible in its audit trail. */
export interface FitReport {
  /** Optimizer iterations (or gradient steps) taken. */
  iterations: number;
  /** Whether the stopping tolerance was reached before the iteration cap. */
  converged: boolean;
  /** Training objective at the end (regularised mean log-loss), or null when the algorithm has none. */
  final_loss: number | null;
  /**
   * The objective after each iteration, in order (iterative algorithms only): the run's loss
   * as a metric history. Kept in the job's result, never in the artifact (whose hash it
   * would change).
   */
  loss_history?: number[];
}

/** A fitted classifier: pure numbers, no code, reconstructible from its JSON parameters. */
export interface TrainedClassifier {
  readonly algorithm: string;
  readonly nClasses: number;
  readonly nFeatures: number;
  /** Class probabilities, `x.rows * nClasses` values row after row; each row sums to 1. */
  predictProba(x: FeatureMatrix): Float64Array;
  /** JSON-safe parameters; `algorithm.load(params)` rebuilds an identical classifier. */
  toParams(): unknown;
}

/** Input to {@link ClassifierAlgorithm.fit}. */
export interface FitInput<H> {
  /** Raw (unstandardized) features; standardization is the algorithm's business and lives in its params. */
  x: FeatureMatrix;
  /** Class index per row, in `[0, nClasses)`. */
  y: Int32Array;
  nClasses: number;
  /** Validated hyperparameters (defaults applied). */
  hyperparameters: H;
  /** Seed for anything random in the fit; fits are deterministic given the seed. */
  seed: number;
  /** Called now and then with a fraction in [0, 1]; must be cheap. */
  onProgress?: (fraction: number) => void;
}

/** A learning algorithm: how to fit, and how to rebuild a fitted model from validated JSON. */
export interface ClassifierAlgorithm<H = unknown, P = unknown> {
  /** Stable identifier stored in artifacts (`logistic_regression`, ...). */
  readonly name: string;
  /** One line for docs and `/model/info`. */
  readonly description: string;
  /** Validates hyperparameters and fills defaults. */
  readonly hyperparametersSchema: z.ZodType<H>;
  /**
   * Whether the preprocessing should standardize its input (distance-based algorithms).
   * `logistic_regression` standardizes inside its own parameters and says no.
   */
  readonly needsScaling?: boolean;
  /** Validates a stored model's parameters before {@link ClassifierAlgorithm.load}. */
  readonly paramsSchema: z.ZodType<P>;
  fit(input: FitInput<H>): { model: TrainedClassifier; report: FitReport };
  load(params: P): TrainedClassifier;
}
