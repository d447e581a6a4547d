import { z } from 'zod';
import type { ClassifierAlgorithm, FitReport, TrainedClassifier } from './classifier';
import type { FeatureMatrix } from './matrix';
import { minimizeLbfgs } from './lbfgs';
import { fitStandardizer, standardize, standardizerSchema, type Standardizer } from './standardizer';

/** Hyperparameters of {@link softmaxRegression}; defaults are scikit-learn's `LogisticRegression()`. */
export const softmaxHyperparametersSchema = z.strictObject({
  /** Inverse L2 strength: the objective is mean log-loss + ||W||² / (2 C n). */
  C: z.number().positive().default(1),
  /** L-BFGS iteration cap (scikit-learn's `max_iter`). */
  max_iterations: z.number().int().positive().max(100_000).default(100),
  /** Stop when the largest gradient component of the objective is at most this (scikit-learn's `tol`). */
  tolerance: z.number().positive().default(1e-4),
});

/** Validated hyperparameters of {@link softmaxRegression}. */
export type SoftmaxHyperparameters = z.infer<typeof softmaxHyperparametersSchema>;

/** Stored parameters of a fitted {@link softmaxRegression} model. */
export const softmaxParamsSchema = z
  .strictObject({
    standardizer: standardizerSchema,
    n_classes: z.number().int().min(2),
    n_features: z.number().int().min(1),
    /** One row per class: the feature weights on standardized features, then the intercept. */
    weights: z.array(z.array(z.number())),
  })
  .superRefine((p, ctx) => {
    const issue = (message: string): void => {
      ctx.addIssue({ code: 'custom', message });
    };
    if (p.standardizer.mean.length !== p.n_features || p.standardizer.scale.length !== p.n_features) {
      issue(`standardizer must have ${p.n_features} features`);
    }
    if (p.weights.length !== p.n_classes) issue(`weights must have ${p.n_classes} rows, got ${p.weights.length}`);
    p.weights.forEach((row, k) => {
      if (row.length !== p.n_features + 1) issue(`weights row ${k} must have ${p.n_features + 1} values, got ${row.length}`);
    });
  });

/** Validated parameters of a fitted {@link softmaxRegression} model. */
export type SoftmaxParams = z.infer<typeof softmaxParamsSchema>;

/**
 * Objective of multinomial logistic regression over standardized features, in the form
 * {@link minimizeLbfgs} takes: `w` holds `nClasses` rows of `nFeatures` weights followed by
 * the intercept, and the value is the mean log-loss plus `l2 / 2 * ||weights||²` (intercepts
 * unpenalised).
 *
 * Nothing is allocated per call. Rows are processed in blocks small enough to stay in L1
 * cache: logits and residuals for the block first, then the block's gradient contribution.
 */
export function softmaxObjective(
  x: FeatureMatrix,
  y: Int32Array,
  nClasses: number,
  l2: number,
): (w: Float64Array, gradient: Float64Array) => number {
  if (y.length !== x.rows) throw new RangeError(`${x.rows} rows but ${y.length} labels`);
  if (nClasses < 2) throw new RangeError(`need at least 2 classes, got ${nClasses}`);
  const block = blockRows(x.cols);
  const residuals = new Float64Array(block * nClasses);
  return (w, gradient) => {
    if (w.length !== nClasses * (x.cols + 1) || gradient.length !== w.length) {
      throw new RangeError(`expected ${nClasses * (x.cols + 1)} parameters, got ${w.length}`);
    }
    return lossAndGradient(x.data, y, x.rows, x.cols, nClasses, l2, block, residuals, w, gradient);
  };
}

/** Rows per block: 4096 values (32 KiB, an L1 data cache) of features, 16 to 256 rows. */
function blockRows(d: number): number {
  return Math.max(16, Math.min(256, Math.floor(4096 / Math.max(1, d))));
}

/**
 * The hot loop, kept at module level with everything passed in so V8 sees plain locals
 * rather than closure slots. The softmax residuals of a row sum to zero over classes, so the
 * last class's data gradient is minus the others' and is not accumulated.
 */
function lossAndGradient(
  data: Float64Array,
  y: Int32Array,
  n: number,
  d: number,
  nClasses: number,
  l2: number,
  block: number,
  res: Float64Array,
  w: Float64Array,
  grad: Float64Array,
): number {
  const width = d + 1;
  grad.fill(0);
  let loss = 0;
  for (let start = 0; start < n; start += block) {
    const m = Math.min(n, start + block) - start;
    blockLogits(data, w, start, m, d, nClasses, block, res);
    loss += blockResiduals(y, start, m, nClasses, block, res);
    blockGradient(data, res, start, m, d, nClasses, block, grad);
  }

  const last = (nClasses - 1) * width;
  for (let j = 0; j < d; j++) {
    let s = 0;
    for (let k = 0; k < nClasses - 1; k++) s += grad[k * width + j] as number;
    grad[last + j] = -s;
  }
  const invN = 1 / Math.max(1, n);
  let penalty = 0;
  for (let k = 0; k < nClasses; k++) {
    const wo = k * width;
    for (let j = 0; j < d; j++) {
      const v = w[wo + j] as number;
      penalty += v * v;
      grad[wo + j] = (grad[wo + j] as number) * invN + l2 * v;
    }
    grad[wo + d] = (grad[wo + d] as number) * invN;
  }
  return loss * invN + 0.5 * l2 * penalty;
}

/**
 * Logits of rows `start .. start + m` into `res` (class-major, `res[k * block + r]`). Four
 * rows at a time share each weight load and give four independent sums, so additions do not
 * wait on each other; about 30 % faster than one row at a time in V8.
 */
function blockLogits(
  data: Float64Array,
  w: Float64Array,
  start: number,
  m: number,
  d: number,
  nClasses: number,
  block: number,
  res: Float64Array,
): void {
  const width = d + 1;
  const m4 = m - (m & 3);
  for (let k = 0; k < nClasses; k++) {
    const a = k * width;
    const bias = w[a + d] as number;
    const ro = k * block;
    let r = 0;
    for (; r < m4; r += 4) {
      const o0 = (start + r) * d;
      const o1 = o0 + d;
      const o2 = o1 + d;
      const o3 = o2 + d;
      let s0 = bias;
      let s1 = bias;
      let s2 = bias;
      let s3 = bias;
      for (let j = 0; j < d; j++) {
        const wj = w[a + j] as number;
        s0 += wj * (data[o0 + j] as number);
        s1 += wj * (data[o1 + j] as number);
        s2 += wj * (data[o2 + j] as number);
        s3 += wj * (data[o3 + j] as number);
      }
      res[ro + r] = s0;
      res[ro + r + 1] = s1;
      res[ro + r + 2] = s2;
      res[ro + r + 3] = s3;
    }
    for (; r < m; r++) {
      const o0 = (start + r) * d;
      let s0 = bias;
      for (let j = 0; j < d; j++) s0 += (w[a + j] as number) * (data[o0 + j] as number);
      res[ro + r] = s0;
    }
  }
}

/**
 * Turns the block's logits in `res` into softmax residuals `p - onehot(label)` in place and
 * returns the block's summed log-loss. The class with the largest logit has exp(0) = 1, so
 * its exp is skipped; each row's loss is `log(sum) + zMax - zLabel`, and as `sum` lies in
 * [1, nClasses] the logs are taken of a running product instead, flushed before overflow.
 */
function blockResiduals(y: Int32Array, start: number, m: number, nClasses: number, block: number, res: Float64Array): number {
  let loss = 0;
  let product = 1;
  for (let r = 0; r < m; r++) {
    let kMax = 0;
    let zMax = res[r] as number;
    for (let k = 1; k < nClasses; k++) {
      const v = res[k * block + r] as number;
      if (v > zMax) {
        zMax = v;
        kMax = k;
      }
    }
    const label = y[start + r] as number;
    loss += zMax - (res[label * block + r] as number);
    let sum = 1;
    for (let k = 0; k < nClasses; k++) {
      if (k === kMax) continue;
      const e = Math.exp((res[k * block + r] as number) - zMax);
      res[k * block + r] = e;
      sum += e;
    }
    res[kMax * block + r] = 1;
    product *= sum;
    if (product > 1e200) {
      loss += Math.log(product);
      product = 1;
    }
    const inv = 1 / sum;
    for (let k = 0; k < nClasses; k++) res[k * block + r] = (res[k * block + r] as number) * inv;
    res[label * block + r] = (res[label * block + r] as number) - 1;
  }
  return loss + Math.log(product);
}

/**
 * Adds the block's data gradient `Σ_r res[k, r] * x_r` for every class but the last (which
 * the caller derives) and the intercept gradient of every class. Four features at a time
 * share each residual load and give four independent sums; the block's rows are still in
 * cache from computing the logits.
 */
function blockGradient(
  data: Float64Array,
  res: Float64Array,
  start: number,
  m: number,
  d: number,
  nClasses: number,
  block: number,
  grad: Float64Array,
): void {
  const width = d + 1;
  const base = start * d;
  const d4 = d - (d & 3);
  for (let k = 0; k < nClasses - 1; k++) {
    const a = k * width;
    const ro = k * block;
    let j = 0;
    for (; j < d4; j += 4) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let r = 0, p = base + j; r < m; r++, p += d) {
        const c = res[ro + r] as number;
        s0 += c * (data[p] as number);
        s1 += c * (data[p + 1] as number);
        s2 += c * (data[p + 2] as number);
        s3 += c * (data[p + 3] as number);
      }
      grad[a + j] = (grad[a + j] as number) + s0;
      grad[a + j + 1] = (grad[a + j + 1] as number) + s1;
      grad[a + j + 2] = (grad[a + j + 2] as number) + s2;
      grad[a + j + 3] = (grad[a + j + 3] as number) + s3;
    }
    for (; j < d; j++) {
      let s0 = 0;
      for (let r = 0, p = base + j; r < m; r++, p += d) s0 += (res[ro + r] as number) * (data[p] as number);
      grad[a + j] = (grad[a + j] as number) + s0;
    }
  }
  for (let k = 0; k < nClasses; k++) {
    let s = 0;
    for (let r = 0; r < m; r++) s += res[k * block + r] as number;
    grad[k * width + d] = (grad[k * width + d] as number) + s;
  }
}

/**
 * Class probabilities of raw rows, `rows x nClasses`. Rows are standardized a block at a time
 * into a scratch buffer and go through {@link blockLogits}, like the fit. Standardizing the
 * features, rather than folding mean and scale into the weights, keeps predictions exact for
 * features with large offsets.
 */
function probabilities(
  data: Float64Array,
  rows: number,
  d: number,
  nClasses: number,
  w: Float64Array,
  mean: Float64Array,
  invScale: Float64Array,
): Float64Array {
  const out = new Float64Array(rows * nClasses);
  // No bigger than needed: single-row requests are the API's common case.
  const block = Math.max(1, Math.min(rows, blockRows(d)));
  const xs = new Float64Array(block * d);
  const z = new Float64Array(block * nClasses);
  for (let start = 0; start < rows; start += block) {
    const m = Math.min(rows, start + block) - start;
    for (let r = 0; r < m; r++) {
      const src = (start + r) * d;
      const dst = r * d;
      for (let j = 0; j < d; j++) xs[dst + j] = ((data[src + j] as number) - (mean[j] as number)) * (invScale[j] as number);
    }
    blockLogits(xs, w, 0, m, d, nClasses, block, z);
    for (let r = 0; r < m; r++) {
      const oo = (start + r) * nClasses;
      let zMax = -Infinity;
      for (let k = 0; k < nClasses; k++) zMax = Math.max(zMax, z[k * block + r] as number);
      let sum = 0;
      for (let k = 0; k < nClasses; k++) {
        const e = Math.exp((z[k * block + r] as number) - zMax);
        out[oo + k] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let k = 0; k < nClasses; k++) out[oo + k] = (out[oo + k] as number) * inv;
    }
  }
  return out;
}

/** A fitted softmax model; reads raw features and standardizes them on the fly. */
class SoftmaxClassifier implements TrainedClassifier {
  readonly algorithm = 'logistic_regression';
  readonly nClasses: number;
  readonly nFeatures: number;
  private readonly standardizer: Standardizer;
  /** `nClasses x (nFeatures + 1)` row-major, intercept last. */
  private readonly w: Float64Array;
  private readonly mean: Float64Array;
  private readonly invScale: Float64Array;

  constructor(standardizer: Standardizer, nClasses: number, nFeatures: number, w: Float64Array) {
    this.standardizer = standardizer;
    this.nClasses = nClasses;
    this.nFeatures = nFeatures;
    this.w = w;
    this.mean = Float64Array.from(standardizer.mean);
    this.invScale = Float64Array.from(standardizer.scale, (v) => 1 / v);
  }

  predictProba(x: FeatureMatrix): Float64Array {
    if (x.cols !== this.nFeatures) throw new RangeError(`model expects ${this.nFeatures} features, got ${x.cols}`);
    return probabilities(x.data, x.rows, this.nFeatures, this.nClasses, this.w, this.mean, this.invScale);
  }

  toParams(): SoftmaxParams {
    const width = this.nFeatures + 1;
    return {
      standardizer: { mean: [...this.standardizer.mean], scale: [...this.standardizer.scale] },
      n_classes: this.nClasses,
      n_features: this.nFeatures,
      weights: Array.from({ length: this.nClasses }, (_, k) => Array.from(this.w.subarray(k * width, (k + 1) * width))),
    };
  }
}

/**
 * Multinomial (softmax) logistic regression with an unpenalised intercept and an L2 penalty,
 * fitted by L-BFGS on standardized features. Same objective as scikit-learn's
 * `LogisticRegression(C)` with StandardScaler, scaled by 1/n as scikit-learn ≥ 1.4 does so
 * that `tolerance` means the same at any row count.
 */
export const softmaxRegression: ClassifierAlgorithm<SoftmaxHyperparameters, SoftmaxParams> = {
  name: 'logistic_regression',
  description: 'Multinomial logistic regression (softmax, L2 penalty 1/C, L-BFGS) on standardized features',
  hyperparametersSchema: softmaxHyperparametersSchema,
  paramsSchema: softmaxParamsSchema,

  fit({ x, y, nClasses, hyperparameters, onProgress }) {
    if (x.rows === 0) throw new RangeError('cannot fit on zero rows');
    if (y.length !== x.rows) throw new RangeError(`${x.rows} rows but ${y.length} labels`);
    if (!Number.isInteger(nClasses) || nClasses < 2) throw new RangeError(`need at least 2 classes, got ${nClasses}`);
    for (let i = 0; i < y.length; i++) {
      const label = y[i] as number;
      if (label < 0 || label >= nClasses) throw new RangeError(`label ${label} at row ${i} outside [0, ${nClasses})`);
    }
    const { C, max_iterations: maxIterations, tolerance } = hyperparameters;
    const standardizer = fitStandardizer(x);
    // A NaN or infinite feature poisons its column's mean or scale: one check per column.
    standardizer.mean.forEach((m, j) => {
      if (!Number.isFinite(m) || !Number.isFinite(standardizer.scale[j])) throw new RangeError(`feature ${j} has non-finite values`);
    });
    const xs = standardize(x, standardizer);
    const objective = softmaxObjective(xs, y, nClasses, 1 / (C * x.rows));
    // Starting from zero keeps the intercepts summing to zero: every gradient does, since the
    // softmax is unchanged by adding a constant to all logits. The fit needs no randomness.
    const start = new Float64Array(nClasses * (x.cols + 1));
    const losses: number[] = [];
    const result = minimizeLbfgs(objective, start, {
      maxIterations,
      gradientTolerance: tolerance,
      onIteration: (iteration, loss) => {
        losses.push(loss);
        onProgress?.(iteration / maxIterations);
      },
    });
    const report: FitReport = { iterations: result.iterations, converged: result.converged, final_loss: result.loss, loss_history: losses };
    return { model: new SoftmaxClassifier(standardizer, nClasses, x.cols, result.x), report };
  },

  load(params) {
    const p = softmaxParamsSchema.parse(params);
    const w = new Float64Array(p.n_classes * (p.n_features + 1));
    p.weights.forEach((row, k) => w.set(row, k * (p.n_features + 1)));
    return new SoftmaxClassifier(p.standardizer, p.n_classes, p.n_features, w);
  },
};
