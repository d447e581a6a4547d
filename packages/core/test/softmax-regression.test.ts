import { argmaxRows, type FeatureMatrix } from '../src/matrix';
import { createRng } from '../src/random';
import { softmaxObjective, softmaxRegression, type SoftmaxHyperparameters } from '../src/softmax-regression';
import { blobs } from './blobs';

const defaults = (overrides: Partial<SoftmaxHyperparameters> = {}): SoftmaxHyperparameters =>
  softmaxRegression.hyperparametersSchema.parse(overrides);

/**
 * 90 rows, 3 features, 3 classes that overlap: a deterministic formula so that the same
 * data can be rebuilt in Python (see {@link SKLEARN_WEIGHTS}). The third feature sits around
 * 10, so standardization matters.
 */
function overlapping(): { x: FeatureMatrix; y: Int32Array } {
  const n = 90;
  const data = new Float64Array(n * 3);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    y[i] = c;
    data[i * 3] = Math.sin(0.7 * i + 1) * 1.5 + (c === 1 ? 1 : 0);
    data[i * 3 + 1] = Math.cos(1.3 * i) * 1.2 + (c === 2 ? 1 : 0);
    data[i * 3 + 2] = Math.sin(2.1 * i) * Math.cos(0.4 * i) * 2 + 10;
  }
  return { x: { rows: n, cols: 3, data }, y };
}

/**
 * scikit-learn 1.2.1's solution on {@link overlapping}, rows `[w_1, w_2, w_3, intercept]`,
 * intercepts centred (softmax is unchanged by a shift common to all classes). Produced with
 * Debian's python3-sklearn by:
 *
 *   i = np.arange(90); y = i % 3
 *   X = np.column_stack([np.sin(0.7*i + 1)*1.5 + (y == 1), np.cos(1.3*i)*1.2 + (y == 2),
 *                        np.sin(2.1*i)*np.cos(0.4*i)*2 + 10])
 *   m = LogisticRegression(solver='newton-cg', tol=1e-12, max_iter=1000)
 *   m.fit(StandardScaler().fit_transform(X), y)
 *   np.column_stack([m.coef_, m.intercept_ - m.intercept_.mean()]), m.predict_proba(Xs[:3])
 *
 * newton-cg with a tight tolerance rather than the default lbfgs, whose default stopping rule
 * in 1.2 leaves ~1e-6 of slack; SciPy's L-BFGS-B run to a 1e-8 gradient agrees to 1e-9.
 */
const SKLEARN_WEIGHTS = [
  [-0.3760726766123944, -0.3291512643331471, -0.017985939642741495, 0.11338734122010874],
  [0.669443380103065, -0.4234145241997431, -0.03465635800765322, -0.06111447232823824],
  [-0.2933707034906708, 0.7525657885328901, 0.0526422976503948, -0.0522728688918705],
];
/** `predict_proba` of the same model on the first three rows. */
const SKLEARN_PROBA_FIRST_3 = [
  [0.1935759972110021, 0.3441069720978762, 0.4623170306911216],
  [0.12864785561415462, 0.7321221157737147, 0.13923002861213077],
  [0.3149970676912313, 0.5151348237216646, 0.16986810858710405],
];

function rows(x: FeatureMatrix, from: number, to: number): FeatureMatrix {
  return { rows: to - from, cols: x.cols, data: x.data.slice(from * x.cols, to * x.cols) };
}

/** The objective written the obvious way, one row and one class at a time. */
function naiveObjective(x: FeatureMatrix, y: Int32Array, k: number, l2: number, w: Float64Array, g: Float64Array): number {
  const d = x.cols;
  g.fill(0);
  let loss = 0;
  for (let i = 0; i < x.rows; i++) {
    const z = Array.from({ length: k }, (_, c) => {
      let s = w[c * (d + 1) + d] as number;
      for (let j = 0; j < d; j++) s += (w[c * (d + 1) + j] as number) * (x.data[i * d + j] as number);
      return s;
    });
    const max = Math.max(...z);
    const lse = max + Math.log(z.reduce((a, v) => a + Math.exp(v - max), 0));
    loss += lse - (z[y[i] as number] as number);
    z.forEach((v, c) => {
      const r = Math.exp(v - lse) - (c === y[i] ? 1 : 0);
      for (let j = 0; j < d; j++) g[c * (d + 1) + j] = (g[c * (d + 1) + j] as number) + r * (x.data[i * d + j] as number);
      g[c * (d + 1) + d] = (g[c * (d + 1) + d] as number) + r;
    });
  }
  let penalty = 0;
  for (let c = 0; c < k; c++) {
    for (let j = 0; j <= d; j++) {
      const idx = c * (d + 1) + j;
      g[idx] = (g[idx] as number) / x.rows + (j < d ? l2 * (w[idx] as number) : 0);
      if (j < d) penalty += (w[idx] as number) ** 2;
    }
  }
  return loss / x.rows + 0.5 * l2 * penalty;
}

describe('softmaxObjective', () => {
  // Shapes chosen to hit every remainder path: rows not a multiple of 4 or of the block size,
  // features not a multiple of 4, two classes (only one accumulated), odd and even class counts.
  const cases = [
    { n: 601, d: 5, k: 3 },
    { n: 37, d: 1, k: 2 },
    { n: 1000, d: 7, k: 4 },
    { n: 300, d: 300, k: 5 },
  ];

  it.each(cases)('matches a naive implementation ($n x $d, $k classes)', ({ n, d, k }) => {
    const rng = createRng(n + d + k);
    const x: FeatureMatrix = { rows: n, cols: d, data: Float64Array.from({ length: n * d }, () => rng.normal()) };
    const y = Int32Array.from({ length: n }, () => rng.int(k));
    const w = Float64Array.from({ length: k * (d + 1) }, () => rng.normal());
    const g = new Float64Array(w.length);
    const gNaive = new Float64Array(w.length);
    const f = softmaxObjective(x, y, k, 0.01)(w, g);
    const fNaive = naiveObjective(x, y, k, 0.01, w, gNaive);
    expect(f).toBeCloseTo(fNaive, 10);
    g.forEach((v, i) => expect(v).toBeCloseTo(gNaive[i] as number, 10));
  });

  it('has the gradient of its value (central finite differences)', () => {
    const rng = createRng(5);
    const n = 203;
    const d = 6;
    const k = 3;
    const x: FeatureMatrix = { rows: n, cols: d, data: Float64Array.from({ length: n * d }, () => rng.normal()) };
    const y = Int32Array.from({ length: n }, () => rng.int(k));
    const objective = softmaxObjective(x, y, k, 0.3);
    const w = Float64Array.from({ length: k * (d + 1) }, () => rng.normal());
    const g = new Float64Array(w.length);
    objective(w, g);
    const scratch = new Float64Array(w.length);
    const h = 1e-6;
    for (let i = 0; i < w.length; i++) {
      const wp = Float64Array.from(w);
      const wm = Float64Array.from(w);
      wp[i] = (wp[i] as number) + h;
      wm[i] = (wm[i] as number) - h;
      const numeric = (objective(wp, scratch) - objective(wm, scratch)) / (2 * h);
      expect(Math.abs(numeric - (g[i] as number))).toBeLessThan(1e-7);
    }
  });

  it('stays finite for huge logits', () => {
    const x: FeatureMatrix = { rows: 2, cols: 1, data: Float64Array.from([1, -1]) };
    const y = Int32Array.from([0, 0]);
    const g = new Float64Array(4);
    const f = softmaxObjective(x, y, 2, 0)(Float64Array.from([1e4, 0, -1e4, 0]), g);
    // Row 1 is right by a margin of 2e4 (loss ~0), row 2 wrong by 2e4 (loss 2e4).
    expect(f).toBeCloseTo(1e4, 6);
    g.forEach((v) => expect(Number.isFinite(v)).toBe(true));
  });
});

describe('softmaxRegression', () => {
  it('fits separable classes perfectly and converges', () => {
    const { x, y } = blobs(300, [[0, 0, 0], [6, 0, 0], [0, 6, 6]], 0.5, 1);
    const { model, report } = softmaxRegression.fit({ x, y, nClasses: 3, hyperparameters: defaults(), seed: 42 });
    expect(report.converged).toBe(true);
    expect(report.iterations).toBeGreaterThan(0);
    expect(report.final_loss).toBeGreaterThan(0);
    const predicted = argmaxRows(model.predictProba(x), 3);
    expect(Array.from(predicted)).toEqual(Array.from(y));
  });

  it("reaches scikit-learn's solution on overlapping classes", () => {
    const { x, y } = overlapping();
    const tight = softmaxRegression.fit({ x, y, nClasses: 3, hyperparameters: defaults({ tolerance: 1e-10, max_iterations: 1000 }), seed: 42 });
    expect(tight.report.converged).toBe(true);
    const params = softmaxRegression.paramsSchema.parse(tight.model.toParams());
    // Starting from zero keeps the intercepts centred, so they compare without adjustment.
    params.weights.forEach((row, k) => row.forEach((v, j) => expect(v).toBeCloseTo(SKLEARN_WEIGHTS[k]?.[j] as number, 6)));
    const proba = tight.model.predictProba(rows(x, 0, 3));
    SKLEARN_PROBA_FIRST_3.flat().forEach((p, i) => expect(proba[i]).toBeCloseTo(p, 7));

    // The default tolerance (1e-4 on the mean-loss gradient, as scikit-learn ≥ 1.4) is close.
    const loose = softmaxRegression.fit({ x, y, nClasses: 3, hyperparameters: defaults(), seed: 42 });
    expect(loose.report.converged).toBe(true);
    expect(loose.report.final_loss).toBeCloseTo(tight.report.final_loss as number, 6);
    const looseProba = loose.model.predictProba(rows(x, 0, 3));
    SKLEARN_PROBA_FIRST_3.flat().forEach((p, i) => expect(looseProba[i]).toBeCloseTo(p, 3));
  });

  it('is deterministic', () => {
    const { x, y } = blobs(500, [[0, 0], [1, 0], [0, 1]], 1, 3);
    const fit = () => softmaxRegression.fit({ x, y, nClasses: 3, hyperparameters: defaults(), seed: 42 });
    const a = fit();
    const b = fit();
    expect(b.model.toParams()).toEqual(a.model.toParams());
    expect(b.report).toEqual(a.report);
  });

  it('rebuilds an identical model from its JSON parameters', () => {
    const { x, y } = overlapping();
    const { model } = softmaxRegression.fit({ x, y, nClasses: 3, hyperparameters: defaults(), seed: 42 });
    const json = JSON.parse(JSON.stringify(model.toParams())) as unknown;
    const loaded = softmaxRegression.load(softmaxRegression.paramsSchema.parse(json));
    expect(loaded).toMatchObject({ algorithm: 'logistic_regression', nClasses: 3, nFeatures: 3 });
    expect(Array.from(loaded.predictProba(x))).toEqual(Array.from(model.predictProba(x)));
  });

  it('gives rows of probabilities summing to 1, also far from the training data', () => {
    const { x, y } = overlapping();
    const { model } = softmaxRegression.fit({ x, y, nClasses: 3, hyperparameters: defaults(), seed: 42 });
    const far: FeatureMatrix = { rows: 3, cols: 3, data: Float64Array.from([1e6, -1e6, 1e7, 0, 0, 0, -1e8, 5, 10]) };
    const proba = model.predictProba(far);
    for (let i = 0; i < 3; i++) {
      const row = Array.from(proba.subarray(i * 3, i * 3 + 3));
      row.forEach((p) => expect(p).toBeGreaterThanOrEqual(0));
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
    expect(() => model.predictProba({ rows: 1, cols: 2, data: new Float64Array(2) })).toThrow(RangeError);
  });

  it('reports progress as a fraction', () => {
    const { x, y } = overlapping();
    const seen: number[] = [];
    softmaxRegression.fit({ x, y, nClasses: 3, hyperparameters: defaults(), seed: 42, onProgress: (f) => seen.push(f) });
    expect(seen.length).toBeGreaterThan(0);
    seen.forEach((f) => {
      expect(f).toBeGreaterThan(0);
      expect(f).toBeLessThanOrEqual(1);
    });
  });

  it('validates hyperparameters and parameters', () => {
    expect(defaults()).toEqual({ C: 1, max_iterations: 100, tolerance: 1e-4 });
    expect(softmaxRegression.hyperparametersSchema.safeParse({ C: 0 }).success).toBe(false);
    expect(softmaxRegression.hyperparametersSchema.safeParse({ c: 1 }).success).toBe(false);

    const { x, y } = overlapping();
    const schema = softmaxRegression.paramsSchema;
    const params = schema.parse(softmaxRegression.fit({ x, y, nClasses: 3, hyperparameters: defaults(), seed: 42 }).model.toParams());
    expect(schema.safeParse(params).success).toBe(true);
    expect(schema.safeParse({ ...params, extra: 1 }).success).toBe(false);
    expect(schema.safeParse({ ...params, weights: params.weights.slice(1) }).success).toBe(false);
    expect(schema.safeParse({ ...params, weights: params.weights.map((r) => r.slice(1)) }).success).toBe(false);
    expect(schema.safeParse({ ...params, n_features: 4 }).success).toBe(false);
  });

  it('refuses labels outside [0, nClasses) and non-finite features', () => {
    const { x, y } = overlapping();
    const bad = new Int32Array(x.rows).fill(3);
    expect(() => softmaxRegression.fit({ x, y: bad, nClasses: 3, hyperparameters: defaults(), seed: 42 })).toThrow(RangeError);
    const data = Float64Array.from(x.data);
    data[4] = Number.NaN;
    expect(() => softmaxRegression.fit({ x: { ...x, data }, y, nClasses: 3, hyperparameters: defaults(), seed: 42 })).toThrow(
      'feature 1 has non-finite values',
    );
  });
});
