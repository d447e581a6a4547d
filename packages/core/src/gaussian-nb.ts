import { z } from 'zod';
import type { ClassifierAlgorithm, FitReport, TrainedClassifier } from './classifier';
import type { FeatureMatrix } from './matrix';

/**
 * How far from 1 the priors may sum: numpy's `isclose(sum, 1)` defaults (1e-8 + 1e-5), so
 * that exactly the priors scikit-learn accepts are accepted.
 */
const PRIOR_SUM_TOLERANCE = 1e-8 + 1e-5;

/** Hyperparameters of {@link gaussianNb}; defaults are scikit-learn's `GaussianNB()`. */
export const gaussianNbHyperparametersSchema = z.strictObject({
  /**
   * Added to every variance, as a fraction of the largest feature variance (scikit-learn's
   * `var_smoothing`). Must be positive: with 0 a feature constant within a class divides by zero.
   */
  var_smoothing: z.number().positive().default(1e-9),
  /**
   * Class priors in class order, summing to 1; null: the class frequencies of the training rows.
   * Their count must equal the number of classes, which only `fit` knows.
   */
  priors: z
    .array(z.number().min(0).max(1))
    .min(2)
    .refine((p) => Math.abs(p.reduce((a, b) => a + b, 0) - 1) <= PRIOR_SUM_TOLERANCE, { message: 'priors must sum to 1' })
    .nullable()
    .default(null),
});

/** Validated hyperparameters of {@link gaussianNb}. */
export type GaussianNbHyperparameters = z.infer<typeof gaussianNbHyperparametersSchema>;

/** Stored parameters of a fitted {@link gaussianNb} model (scikit-learn's fitted attributes). */
export const gaussianNbParamsSchema = z
  .strictObject({
    n_classes: z.number().int().min(2),
    n_features: z.number().int().min(1),
    /** Training rows per class (scikit-learn's `class_count_`). */
    class_count: z.array(z.number().int().min(0)),
    /** Prior probability per class (`class_prior_`). */
    class_prior: z.array(z.number().min(0).max(1)),
    /** Per-class feature means, one row per class (`theta_`). */
    theta: z.array(z.array(z.number())),
    /** Per-class feature variances including `epsilon` (`var_`); positive, so nothing divides by zero. */
    var: z.array(z.array(z.number().positive())),
    /** What was added to every variance: `var_smoothing` times the largest feature variance (`epsilon_`). */
    epsilon: z.number().positive(),
  })
  .superRefine((p, ctx) => {
    const issue = (message: string, path: (string | number)[]): void => {
      ctx.addIssue({ code: 'custom', message, path });
    };
    for (const key of ['class_count', 'class_prior', 'theta', 'var'] as const) {
      if (p[key].length !== p.n_classes) issue(`${key} must have ${p.n_classes} entries, got ${p[key].length}`, [key]);
    }
    for (const key of ['theta', 'var'] as const) {
      p[key].forEach((row, k) => {
        if (row.length !== p.n_features) issue(`${key} row ${k} must have ${p.n_features} values, got ${row.length}`, [key, k]);
      });
    }
    if (Math.abs(p.class_prior.reduce((a, b) => a + b, 0) - 1) > PRIOR_SUM_TOLERANCE) issue('class_prior must sum to 1', ['class_prior']);
    p.class_prior.forEach((prior, k) => {
      if (prior > 0 && p.class_count[k] === 0) issue(`class ${k} has a prior but no training rows`, ['class_prior', k]);
    });
    // The likelihoods multiply by 1 / var: a subnormal variance would make that Infinity.
    p.var.forEach((row, k) => {
      if (row.some((v) => !Number.isFinite(1 / v))) issue(`var row ${k} has a variance too small to invert`, ['var', k]);
    });
  });

/** Validated parameters of a fitted {@link gaussianNb} model. */
export type GaussianNbParams = z.infer<typeof gaussianNbParamsSchema>;

/**
 * Probabilities of rows `0 .. rows` into `out`, from the joint log-likelihoods
 *
 *   jll_k = shift_k - 0.5 Σ_j (x_j - θ_kj)² / var_kj,   shift_k = log prior_k - 0.5 Σ_j log(2π var_kj)
 *
 * over the `m` features listed in `features` only, normalised by log-sum-exp (subtract the
 * largest, exponentiate, divide by the sum, so rows sum to 1). `theta`, `invVariance` and
 * `shift` are compacted to those features and to the `nActive` classes listed in `classes`
 * (those of positive prior; the others keep probability 0).
 */
function probabilities(
  data: Float64Array,
  rows: number,
  d: number,
  nClasses: number,
  features: Int32Array,
  classes: Int32Array,
  theta: Float64Array,
  invVariance: Float64Array,
  shift: Float64Array,
  prior: Float64Array,
  out: Float64Array,
): void {
  const m = features.length;
  const nActive = classes.length;
  const xs = new Float64Array(m);
  const jll = new Float64Array(nActive);
  for (let i = 0; i < rows; i++) {
    const xo = i * d;
    const o = i * nClasses;
    for (let f = 0; f < m; f++) xs[f] = data[xo + (features[f] as number)] as number;
    let max = -Infinity;
    for (let c = 0; c < nActive; c++) {
      const a = c * m;
      let s = 0;
      for (let f = 0; f < m; f++) {
        const e = (xs[f] as number) - (theta[a + f] as number);
        s += e * e * (invVariance[a + f] as number);
      }
      const v = (shift[c] as number) - 0.5 * s;
      jll[c] = v;
      if (v > max) max = v;
    }
    if (max === -Infinity) {
      // (x - θ)² overflowed in every class (a feature some 1e154 from the means): nothing is
      // left to compare the classes by. Answer with the priors rather than NaN.
      for (let k = 0; k < nClasses; k++) out[o + k] = prior[k] as number;
      continue;
    }
    let sum = 0;
    for (let c = 0; c < nActive; c++) {
      const e = Math.exp((jll[c] as number) - max);
      jll[c] = e;
      sum += e;
    }
    for (let c = 0; c < nActive; c++) out[o + (classes[c] as number)] = (jll[c] as number) / sum;
  }
}

/** A fitted Gaussian naive Bayes model. */
class GaussianNbClassifier implements TrainedClassifier {
  readonly algorithm = 'gaussian_nb';
  readonly nClasses: number;
  readonly nFeatures: number;
  private readonly classCount: Int32Array;
  private readonly prior: Float64Array;
  /** `nClasses x nFeatures` row-major. */
  private readonly theta: Float64Array;
  /** `nClasses x nFeatures` row-major, epsilon included. */
  private readonly variance: Float64Array;
  private readonly epsilon: number;
  /** Classes of positive prior: the only ones that can have a positive probability. */
  private readonly activeClasses: Int32Array;
  /**
   * Features whose mean or variance differs between those classes. A feature with the same
   * mean and variance in every class (one constant in the training data) adds the same term
   * to every class's log-likelihood, so it cancels and is skipped. It must be: such a feature
   * has variance epsilon, and 0.1 off its value its term is 1e6 to 1e10, which would drown the
   * O(1) differences between classes in rounding (scikit-learn, which adds it, loses 1e-10 to
   * 1e-6 of its probabilities there).
   */
  private readonly activeFeatures: Int32Array;
  /** `theta` of the active classes and features. */
  private readonly activeTheta: Float64Array;
  /** `1 / variance` of the active classes and features: a multiplication in the loop, not a division. */
  private readonly activeInvVariance: Float64Array;
  /** `log prior - 0.5 Σ log(2π var)` per active class, over the active features. */
  private readonly shift: Float64Array;

  constructor(nClasses: number, nFeatures: number, classCount: Int32Array, prior: Float64Array, theta: Float64Array, variance: Float64Array, epsilon: number) {
    this.nClasses = nClasses;
    this.nFeatures = nFeatures;
    this.classCount = classCount;
    this.prior = prior;
    this.theta = theta;
    this.variance = variance;
    this.epsilon = epsilon;
    const d = nFeatures;
    const classes = Array.from(prior.keys()).filter((k) => (prior[k] as number) > 0);
    // Stored priors sum to 1, so at least one class is active.
    const first = (classes[0] as number) * d;
    const features = Array.from({ length: d }, (_, j) => j).filter((j) =>
      classes.some((k) => theta[k * d + j] !== theta[first + j] || variance[k * d + j] !== variance[first + j]),
    );
    this.activeClasses = Int32Array.from(classes);
    this.activeFeatures = Int32Array.from(features);
    const m = features.length;
    this.activeTheta = new Float64Array(classes.length * m);
    this.activeInvVariance = new Float64Array(classes.length * m);
    this.shift = new Float64Array(classes.length);
    classes.forEach((k, c) => {
      let s = 0;
      features.forEach((j, f) => {
        const v = variance[k * d + j] as number;
        this.activeTheta[c * m + f] = theta[k * d + j] as number;
        this.activeInvVariance[c * m + f] = 1 / v;
        s += Math.log(2 * Math.PI * v);
      });
      this.shift[c] = Math.log(prior[k] as number) - 0.5 * s;
    });
  }

  predictProba(x: FeatureMatrix): Float64Array {
    const d = this.nFeatures;
    if (x.cols !== d) throw new RangeError(`model expects ${d} features, got ${x.cols}`);
    const { data, rows } = x;
    for (let i = 0; i < rows * d; i++) {
      if (!Number.isFinite(data[i])) throw new RangeError(`row ${Math.floor(i / d)} feature ${i % d} is not finite`);
    }
    const out = new Float64Array(rows * this.nClasses);
    probabilities(data, rows, d, this.nClasses, this.activeFeatures, this.activeClasses, this.activeTheta, this.activeInvVariance, this.shift, this.prior, out);
    return out;
  }

  toParams(): GaussianNbParams {
    const d = this.nFeatures;
    const rowsOf = (a: Float64Array): number[][] => Array.from({ length: this.nClasses }, (_, k) => Array.from(a.subarray(k * d, (k + 1) * d)));
    return {
      n_classes: this.nClasses,
      n_features: d,
      class_count: Array.from(this.classCount),
      class_prior: Array.from(this.prior),
      theta: rowsOf(this.theta),
      var: rowsOf(this.variance),
      epsilon: this.epsilon,
    };
  }
}

/**
 * Per-class means and (biased) variances of `data`, accumulated row by row in row order like
 * numpy's `mean` and `var` along axis 0, so the results are scikit-learn's to the last bit.
 * Returns the variance of every column over all rows too (for epsilon).
 *
 * One exception: a column with a single value in every row gets exactly that mean and
 * variance 0 in every class, where summing and dividing may leave an ulp of difference between
 * classes (3 x 0.1 / 3 is not 0.1). Identical in every class, the feature is then recognised
 * and left out of the likelihoods ({@link GaussianNbClassifier}'s `activeFeatures`).
 */
function moments(
  data: Float64Array,
  y: Int32Array,
  n: number,
  d: number,
  nClasses: number,
  count: Int32Array,
): { theta: Float64Array; variance: Float64Array; columnVariance: Float64Array } {
  const theta = new Float64Array(nClasses * d);
  const variance = new Float64Array(nClasses * d);
  const columnMean = new Float64Array(d);
  const columnVariance = new Float64Array(d);
  const constant = new Uint8Array(d).fill(1);
  for (let i = 0; i < n; i++) {
    const a = (y[i] as number) * d;
    count[y[i] as number] = (count[y[i] as number] as number) + 1;
    for (let j = 0; j < d; j++) {
      const v = data[i * d + j] as number;
      theta[a + j] = (theta[a + j] as number) + v;
      columnMean[j] = (columnMean[j] as number) + v;
      if (v !== data[j]) constant[j] = 0;
    }
  }
  for (let j = 0; j < d; j++) columnMean[j] = (columnMean[j] as number) / n;
  for (let k = 0; k < nClasses; k++) {
    const c = count[k] as number;
    for (let j = 0; j < d; j++) theta[k * d + j] = c > 0 ? (theta[k * d + j] as number) / c : 0;
  }
  for (let i = 0; i < n; i++) {
    const a = (y[i] as number) * d;
    for (let j = 0; j < d; j++) {
      const v = data[i * d + j] as number;
      const e = v - (theta[a + j] as number);
      variance[a + j] = (variance[a + j] as number) + e * e;
      const g = v - (columnMean[j] as number);
      columnVariance[j] = (columnVariance[j] as number) + g * g;
    }
  }
  for (let j = 0; j < d; j++) columnVariance[j] = (columnVariance[j] as number) / n;
  for (let k = 0; k < nClasses; k++) {
    const c = count[k] as number;
    for (let j = 0; j < d; j++) variance[k * d + j] = c > 0 ? (variance[k * d + j] as number) / c : 0;
  }
  for (let j = 0; j < d; j++) {
    if (constant[j] === 0) continue;
    columnVariance[j] = 0;
    for (let k = 0; k < nClasses; k++) {
      if ((count[k] as number) === 0) continue;
      theta[k * d + j] = data[j] as number;
      variance[k * d + j] = 0;
    }
  }
  return { theta, variance, columnVariance };
}

/**
 * Gaussian naive Bayes, as scikit-learn's `GaussianNB`: per class, each feature a normal
 * distribution with the class's mean and variance; every variance is widened by
 * `var_smoothing` times the largest feature variance (scikit-learn's `epsilon_`), so a feature
 * constant in a class gives a narrow but finite density instead of a division by zero.
 *
 * Same fitted parameters (to the last bit on iris) and the same probabilities to rounding;
 * near a constant feature this rounding is smaller than scikit-learn's (see
 * `GaussianNbClassifier`'s `activeFeatures`). One departure, where scikit-learn returns NaN:
 * when every feature is constant the largest variance is 0, and epsilon is then
 * `var_smoothing` itself (as if that variance were 1); all classes then look alike and the
 * probabilities are the priors.
 */
export const gaussianNb: ClassifierAlgorithm<GaussianNbHyperparameters, GaussianNbParams> = {
  name: 'gaussian_nb',
  description: 'Gaussian naive Bayes (per-class normal features, variance smoothing as scikit-learn)',
  hyperparametersSchema: gaussianNbHyperparametersSchema,
  // Each feature has its own mean and variance per class: rescaling a feature changes nothing
  // (but epsilon, which scales with the largest variance). scikit-learn's results are unscaled.
  needsScaling: false,
  paramsSchema: gaussianNbParamsSchema,

  fit({ x, y, nClasses, hyperparameters, onProgress }) {
    const { rows: n, cols: d, data } = x;
    if (n === 0) throw new RangeError('cannot fit on zero rows');
    if (y.length !== n) throw new RangeError(`${n} rows but ${y.length} labels`);
    if (d < 1) throw new RangeError('need at least one feature');
    if (!Number.isInteger(nClasses) || nClasses < 2) throw new RangeError(`need at least 2 classes, got ${nClasses}`);
    for (let i = 0; i < n; i++) {
      const label = y[i] as number;
      if (label < 0 || label >= nClasses) throw new RangeError(`label ${label} at row ${i} outside [0, ${nClasses})`);
    }
    for (let i = 0; i < n * d; i++) {
      if (!Number.isFinite(data[i])) throw new RangeError(`feature ${i % d} has non-finite values`);
    }
    const { var_smoothing: varSmoothing, priors } = hyperparameters;
    if (priors !== null && priors.length !== nClasses) throw new RangeError(`priors has ${priors.length} values for ${nClasses} classes`);

    const count = new Int32Array(nClasses);
    const { theta, variance, columnVariance } = moments(data, y, n, d, nClasses, count);
    let maxVariance = 0;
    for (let j = 0; j < d; j++) maxVariance = Math.max(maxVariance, columnVariance[j] as number);
    const epsilon = varSmoothing * (maxVariance > 0 ? maxVariance : 1);
    // Only reachable with variances near the ends of the float64 range (1e-300, 1e300).
    if (!(Number.isFinite(epsilon) && Number.isFinite(1 / epsilon))) {
      throw new RangeError(`var_smoothing ${varSmoothing} x largest variance ${maxVariance} = ${epsilon} is out of range; rescale the features`);
    }
    for (let i = 0; i < variance.length; i++) variance[i] = (variance[i] as number) + epsilon;

    const prior = priors === null ? Float64Array.from(count, (c) => c / n) : Float64Array.from(priors);
    prior.forEach((p, k) => {
      if (p > 0 && count[k] === 0) throw new RangeError(`class ${k} has prior ${p} but no training rows`);
    });
    // A class with no rows (and prior 0) keeps mean 0 and variance epsilon: finite, never chosen.
    onProgress?.(1);
    const report: FitReport = { iterations: 1, converged: true, final_loss: null };
    return { model: new GaussianNbClassifier(nClasses, d, count, prior, theta, variance, epsilon), report };
  },

  load(params) {
    const p = gaussianNbParamsSchema.parse(params);
    const d = p.n_features;
    const flat = (rows: number[][]): Float64Array => {
      const out = new Float64Array(p.n_classes * d);
      rows.forEach((row, k) => out.set(row, k * d));
      return out;
    };
    return new GaussianNbClassifier(
      p.n_classes,
      d,
      Int32Array.from(p.class_count),
      Float64Array.from(p.class_prior),
      flat(p.theta),
      flat(p.var),
      p.epsilon,
    );
  },
};
