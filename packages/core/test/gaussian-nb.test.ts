import { gaussianNb, type GaussianNbHyperparameters } from '../src/gaussian-nb';
import { toMatrix, type FeatureMatrix } from '../src/matrix';
import { createRng } from '../src/random';
import { loadIrisMatrix as loadIris } from './iris-fixture';

const defaults = (overrides: Partial<GaussianNbHyperparameters> = {}): GaussianNbHyperparameters =>
  gaussianNb.hyperparametersSchema.parse(overrides);


/**
 * scikit-learn 1.2.1's `GaussianNB` (Debian's python3-sklearn), produced from the repository
 * root by:
 *
 *   /usr/bin/python3 - <<'EOF'
 *   import csv, json, numpy as np
 *   from sklearn.naive_bayes import GaussianNB
 *   rows = list(csv.reader(open('datasets/iris.csv')))[1:]
 *   X = np.array([[float(v) for v in r[:4]] for r in rows])
 *   y = np.array([['setosa', 'versicolor', 'virginica'].index(r[4]) for r in rows])
 *   Q = np.array([X[0], X[50], X[100], [5.93, 3.01, 4.22, 1.48], [6.31, 2.77, 4.96, 1.62], [4.0, 4.5, 1.0, 0.1]])
 *   i = np.arange(12.0)
 *   C = np.column_stack([np.sin(i) * 2 + i % 3, np.full(12, 2.5), np.cos(1.7 * i) + (i % 3 == 1)])
 *   c = (np.arange(12) % 3)
 *   R = np.array([[0.5, 2.5, 0.2], [1.5, 2.5, 1.0], [0.5, 2.6, 0.2], [2.0, 2.5 + 1e-3, -0.5]])
 *   def show(name, m, Xq):
 *       print(name, 'epsilon', repr(m.epsilon_))
 *       print(name, 'theta', json.dumps(m.theta_.tolist()))
 *       print(name, 'var', json.dumps(m.var_.tolist()))
 *       print(name, 'proba', json.dumps(m.predict_proba(Xq).tolist()))
 *       print(name, 'log_proba', json.dumps(m.predict_log_proba(Xq).tolist()))
 *   show('iris', GaussianNB().fit(X, y), Q)
 *   show('iris-priors', GaussianNB(priors=[0.2, 0.3, 0.5], var_smoothing=1e-3).fit(X, y), Q)
 *   show('constant', GaussianNB().fit(C, c), R)
 *   EOF
 *
 * `C` is {@link constantFeature}: its second feature is 2.5 in every row, so its variance is
 * epsilon alone (2.55e-9), and queries 3 and 4 sit 0.1 and 0.001 off it.
 */
const IRIS_QUERIES = [
  [5.1, 3.5, 1.4, 0.2], // iris row 0
  [7.0, 3.2, 4.7, 1.4], // iris row 50
  [6.3, 3.3, 6.0, 2.5], // iris row 100
  [5.93, 3.01, 4.22, 1.48],
  [6.31, 2.77, 4.96, 1.62],
  [4.0, 4.5, 1.0, 0.1],
];
const SKLEARN = {
  iris: {
    epsilon: 3.0955026666666677e-9,
    theta: [
      [5.005999999999999, 3.428000000000001, 1.4620000000000002, 0.2459999999999999],
      [5.936, 2.7700000000000005, 4.26, 1.3259999999999998],
      [6.587999999999998, 2.9739999999999998, 5.552, 2.026],
    ],
    var: [
      [0.12176400309550259, 0.14081600309550263, 0.029556003095502676, 0.010884003095502673],
      [0.2611040030955028, 0.09650000309550268, 0.21640000309550278, 0.03832400309550265],
      [0.39625600309550263, 0.10192400309550273, 0.2984960030955029, 0.07392400309550265],
    ],
    proba: [
      [1.0, 1.3578426545097532e-18, 7.112835116303153e-26],
      [3.2138093542663014e-109, 0.8040376655396823, 0.19596233446031797],
      [3.2324518072371566e-254, 6.353810311595855e-11, 0.9999999999364619],
      [9.897158044508982e-88, 0.9965107231206952, 0.0034892768793048762],
      [2.3154857322683323e-130, 0.5501089265952848, 0.4498910734047153],
      [1.0, 5.603454591222043e-25, 7.3208435366469895e-31],
    ],
    logProba: [
      [0.0, -41.140634517073266, -57.905311502975],
      [-249.81431818807368, -0.21810916321431728, -1.6298328093396823],
      [-583.6833726977555, -23.479381340917147, -6.353806369929771e-11],
      [-200.33524053375808, -0.003495378603747268, -5.658060762143165],
      [-298.49644260414243, -0.5976389720095439, -0.7987497846194369],
      [0.0, -55.8412440260196, -69.38941232423464],
    ],
  },
  irisPriors: {
    epsilon: 0.0030955026666666676,
    proba: [
      [1.0, 1.1216679304632877e-17, 7.134326851110269e-25],
      [3.5031143783194697e-96, 0.6935074778334386, 0.30649252216656137],
      [7.460399921883414e-218, 1.5258999057761923e-10, 0.9999999998474101],
      [6.54869602601138e-76, 0.9935495043455065, 0.006450495654493717],
      [8.531878918115983e-114, 0.4287289781964914, 0.5712710218035084],
      [1.0, 4.879315682115318e-24, 5.901396186600061e-30],
    ],
    logProba: [
      [0.0, -39.029129779757646, -55.599709422996725],
      [-219.79451653221327, -0.3659932565406998, -1.182561921402479],
      [-499.95394125109163, -22.603266591774567, -1.5258994068290122e-10],
      [-173.11720111771763, -0.006471390002655619, -5.043598305468992],
      [-260.3508909923135, -0.84693031214952, -0.5598915377947811],
      [0.0, -53.67703725089979, -67.30236382510833],
    ],
  },
  constant: {
    epsilon: 2.5510796387544057e-9,
    var: [
      [0.2490847675758575, 2.5510796387544057e-9, 0.6198706844841829],
      [1.9986490004695865, 2.5510796387544057e-9, 0.2686340697544391],
      [3.7242599499018136, 2.5510796387544057e-9, 0.6338980491625917],
    ],
    queries: [
      [0.5, 2.5, 0.2],
      [1.5, 2.5, 1.0],
      [0.5, 2.6, 0.2],
      [2.0, 2.5 + 1e-3, -0.5],
    ],
    proba: [
      [0.7567432574408612, 0.05099481126291537, 0.1922619312962239],
      [0.017563379375398425, 0.7823542984179058, 0.20008232220669583],
      [0.7567432573546642, 0.05099481127278755, 0.1922619313155517],
      [0.0037651525896470845, 0.004498830250695223, 0.991736017159644],
    ],
  },
};

/**
 * Probabilities agree with scikit-learn's to this (absolute; 1.3e-14 measured on iris), except
 * next to a constant feature, where scikit-learn's own rounding is about 1e-10 (see that test).
 */
const PROBA_TOLERANCE = 1e-12;
const CONSTANT_FEATURE_TOLERANCE = 1e-9;

/** 12 rows, 3 classes, the second feature constant (2.5): the `C` of the script above. */
function constantFeature(): { x: FeatureMatrix; y: Int32Array } {
  const rows = Array.from({ length: 12 }, (_, i) => [Math.sin(i) * 2 + (i % 3), 2.5, Math.cos(1.7 * i) + (i % 3 === 1 ? 1 : 0)]);
  return { x: toMatrix(rows), y: Int32Array.from({ length: 12 }, (_, i) => i % 3) };
}

function fitIris(hyperparameters: GaussianNbHyperparameters = defaults()) {
  const { x, y } = loadIris();
  return gaussianNb.fit({ x, y, nClasses: 3, hyperparameters, seed: 42 });
}

function expectClose(actual: ArrayLike<number>, expected: number[], tolerance: (v: number) => number, what: string): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((v, i) => {
    const a = actual[i] as number;
    if (!(Math.abs(a - v) <= tolerance(v))) throw new Error(`${what} ${i}: ${a} vs scikit-learn ${v}`);
  });
}

/**
 * Log-probabilities compared relative to their size, which checks the tiny probabilities
 * (1e-254) an absolute comparison cannot see.
 */
function expectLogClose(proba: Float64Array, expected: number[][]): void {
  expectClose(Array.from(proba, Math.log), expected.flat(), (v) => 1e-9 * Math.max(1, Math.abs(v)), 'log-probability');
}

describe('gaussianNb', () => {
  it("matches scikit-learn's fitted parameters and predict_proba on iris", () => {
    const { model, report } = fitIris();
    expect(report).toEqual({ iterations: 1, converged: true, final_loss: null });
    expect(model).toMatchObject({ algorithm: 'gaussian_nb', nClasses: 3, nFeatures: 4 });
    const params = gaussianNb.paramsSchema.parse(model.toParams());
    expect(params.class_count).toEqual([50, 50, 50]);
    expect(params.class_prior).toEqual([1 / 3, 1 / 3, 1 / 3]);
    // Means and variances are summed in numpy's order (row by row): equal to the last bit.
    expect(params.epsilon).toBe(SKLEARN.iris.epsilon);
    expect(params.theta).toEqual(SKLEARN.iris.theta);
    expect(params.var).toEqual(SKLEARN.iris.var);
    const proba = model.predictProba(toMatrix(IRIS_QUERIES));
    expectClose(proba, SKLEARN.iris.proba.flat(), () => PROBA_TOLERANCE, 'probability');
    expectLogClose(proba, SKLEARN.iris.logProba);
  });

  it('matches scikit-learn with given priors and a larger var_smoothing', () => {
    const { model } = fitIris(defaults({ priors: [0.2, 0.3, 0.5], var_smoothing: 1e-3 }));
    const params = gaussianNb.paramsSchema.parse(model.toParams());
    expect(params.class_prior).toEqual([0.2, 0.3, 0.5]);
    expect(params.epsilon).toBe(SKLEARN.irisPriors.epsilon);
    const proba = model.predictProba(toMatrix(IRIS_QUERIES));
    expectClose(proba, SKLEARN.irisPriors.proba.flat(), () => PROBA_TOLERANCE, 'probability');
    expectLogClose(proba, SKLEARN.irisPriors.logProba);
  });

  it('smooths a constant feature as scikit-learn does: finite, and the same probabilities', () => {
    const { x, y } = constantFeature();
    const { model } = gaussianNb.fit({ x, y, nClasses: 3, hyperparameters: defaults(), seed: 1 });
    const params = gaussianNb.paramsSchema.parse(model.toParams());
    // The data come from sin and cos, whose last bits V8 and glibc may round differently.
    expectClose([params.epsilon], [SKLEARN.constant.epsilon], (v) => 1e-14 * v, 'epsilon');
    expectClose(params.var.flat(), SKLEARN.constant.var.flat(), (v) => 1e-14 * v, 'var');
    // 0.1 off the constant, that feature's term is about 2e6 in every class while the classes
    // differ by O(1): scikit-learn sums each class's terms before comparing and loses about 1e-10
    // to rounding (its answers for queries 0 and 2, which differ only in that feature, differ by
    // 8.6e-11). Differencing feature by feature cancels the term exactly, so here they are equal.
    const proba = model.predictProba(toMatrix(SKLEARN.constant.queries));
    proba.forEach((p) => expect(Number.isFinite(p)).toBe(true));
    expectClose(proba, SKLEARN.constant.proba.flat(), () => CONSTANT_FEATURE_TOLERANCE, 'probability');
    expect(Array.from(proba.subarray(6, 9))).toEqual(Array.from(proba.subarray(0, 3)));
  });

  it('gives the priors, not NaN, when every feature is constant (scikit-learn divides by zero)', () => {
    const x = toMatrix(Array.from({ length: 9 }, () => [1, -3]));
    const y = Int32Array.from([0, 0, 0, 0, 1, 1, 2, 2, 2]);
    const { model } = gaussianNb.fit({ x, y, nClasses: 3, hyperparameters: defaults(), seed: 1 });
    expect(gaussianNb.paramsSchema.parse(model.toParams()).epsilon).toBe(1e-9);
    const proba = model.predictProba(toMatrix([[1, -3], [2, 0]]));
    expectClose(proba, [4 / 9, 2 / 9, 3 / 9, 4 / 9, 2 / 9, 3 / 9], () => 1e-12, 'probability');
  });

  it('leaves out a constant feature whose per-class means would differ by an ulp', () => {
    // 0.1 summed 3 and 5 times and divided back is not 0.1 in both classes. Kept in, the feature
    // would add (0.2 - 0.1)² / epsilon, about 2e6, to each class's log-likelihood at 0.2, and an
    // ulp between the classes' means would shift their difference by some 1e-9.
    const x = toMatrix([[0, 0.1], [1, 0.1], [2, 0.1], [3, 0.1], [4, 0.1], [5, 0.1], [6, 0.1], [7, 0.1]]);
    const y = Int32Array.from([0, 0, 0, 1, 1, 1, 1, 1]);
    const { model } = gaussianNb.fit({ x, y, nClasses: 2, hyperparameters: defaults(), seed: 1 });
    const params = gaussianNb.paramsSchema.parse(model.toParams());
    expect(params.theta.map((row) => row[1])).toEqual([0.1, 0.1]);
    expect(params.var.map((row) => row[1])).toEqual([params.epsilon, params.epsilon]);
    const proba = model.predictProba(toMatrix([[2.5, 0.1], [2.5, 0.2], [2.5, -50]]));
    expect(Array.from(proba.subarray(2, 4))).toEqual(Array.from(proba.subarray(0, 2)));
    expect(Array.from(proba.subarray(4, 6))).toEqual(Array.from(proba.subarray(0, 2)));
    const without = gaussianNb.fit({ x: toMatrix([0, 1, 2, 3, 4, 5, 6, 7].map((v) => [v])), y, nClasses: 2, hyperparameters: defaults(), seed: 1 });
    expectClose(proba.subarray(0, 2), Array.from(without.model.predictProba(toMatrix([[2.5]]))), () => 1e-15, 'probability');
  });

  it('gives a class without training rows probability 0 and refuses a prior for it', () => {
    const { x, y } = constantFeature();
    const twoOfFour = Int32Array.from(y, (c) => (c === 2 ? 3 : c));
    const { model } = gaussianNb.fit({ x, y: twoOfFour, nClasses: 4, hyperparameters: defaults(), seed: 1 });
    const proba = model.predictProba(toMatrix(SKLEARN.constant.queries));
    for (let i = 0; i < 4; i++) {
      expect(proba[i * 4 + 2]).toBe(0);
      expect((proba[i * 4] as number) + (proba[i * 4 + 1] as number) + (proba[i * 4 + 3] as number)).toBeCloseTo(1, 14);
    }
    const reloaded = gaussianNb.load(gaussianNb.paramsSchema.parse(JSON.parse(JSON.stringify(model.toParams()))));
    expect(Array.from(reloaded.predictProba(toMatrix(SKLEARN.constant.queries)))).toEqual(Array.from(proba));
    expect(() =>
      gaussianNb.fit({ x, y: twoOfFour, nClasses: 4, hyperparameters: defaults({ priors: [0.25, 0.25, 0.25, 0.25] }), seed: 1 }),
    ).toThrow('class 2 has prior 0.25 but no training rows');
  });

  it('gives rows of probabilities summing to 1, also far from the training data', () => {
    const { model } = fitIris();
    const rng = createRng(9);
    const far = [[1e6, -1e6, 1e7, 0], [0, 0, 0, 0], [-1e8, 5, 10, 3]];
    const random = Array.from({ length: 50 }, () => Array.from({ length: 4 }, () => 10 * rng.next()));
    const queries = toMatrix([...far, ...random]);
    const proba = model.predictProba(queries);
    for (let i = 0; i < queries.rows; i++) {
      const row = Array.from(proba.subarray(i * 3, i * 3 + 3));
      row.forEach((p) => {
        expect(Number.isFinite(p)).toBe(true);
        expect(p).toBeGreaterThanOrEqual(0);
      });
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
    }
    // Overflowing (x - θ)² / var makes every class infinitely unlikely: the priors, not NaN.
    const overflow = model.predictProba(toMatrix([[1e300, 0, 0, 0]]));
    expect(Array.from(overflow)).toEqual([1 / 3, 1 / 3, 1 / 3]);
  });

  it('rebuilds an identical model from its parameters and from their JSON', () => {
    const { model } = fitIris(defaults({ priors: [0.2, 0.3, 0.5] }));
    const queries = toMatrix(IRIS_QUERIES);
    const expected = Array.from(model.predictProba(queries));
    const params = model.toParams();
    const direct = gaussianNb.load(gaussianNb.paramsSchema.parse(params));
    const json = gaussianNb.load(gaussianNb.paramsSchema.parse(JSON.parse(JSON.stringify(params))));
    expect(Array.from(direct.predictProba(queries))).toEqual(expected);
    expect(Array.from(json.predictProba(queries))).toEqual(expected);
    expect(json.toParams()).toEqual(params);
  });

  it('is deterministic', () => {
    const a = fitIris();
    const b = fitIris();
    expect(b.model.toParams()).toEqual(a.model.toParams());
    expect(b.report).toEqual(a.report);
  });

  it('validates hyperparameters', () => {
    const schema = gaussianNb.hyperparametersSchema;
    expect(defaults()).toEqual({ var_smoothing: 1e-9, priors: null });
    expect(schema.parse({ priors: [0.5, 0.5000001] }).priors).toEqual([0.5, 0.5000001]);
    for (const bad of [
      { var_smoothing: 0 },
      { var_smoothing: -1 },
      { var_smoothing: Infinity },
      { priors: [0.5, 0.6] },
      { priors: [1] },
      { priors: [-0.5, 1.5] },
      { priors: 'uniform' },
      { alpha: 1 },
    ]) {
      expect(schema.safeParse(bad).success).toBe(false);
    }
    const { x, y } = constantFeature();
    expect(() => gaussianNb.fit({ x, y, nClasses: 3, hyperparameters: defaults({ priors: [0.5, 0.5] }), seed: 1 })).toThrow(
      'priors has 2 values for 3 classes',
    );
  });

  it('validates stored parameters', () => {
    const schema = gaussianNb.paramsSchema;
    const params = schema.parse(fitIris().model.toParams());
    expect(schema.safeParse(params).success).toBe(true);
    const refused = (changed: object, message?: string): void => {
      const result = schema.safeParse({ ...params, ...changed });
      expect(result.success).toBe(false);
      if (message !== undefined) expect(result.error?.issues.map((i) => i.message).join('; ')).toContain(message);
    };
    refused({ extra: 1 });
    refused({ var: params.var.map((r, k) => (k === 1 ? [r[0], 0, r[2], r[3]] : r)) });
    refused({ var: params.var.map((r, k) => (k === 1 ? [r[0], Number.NaN, r[2], r[3]] : r)) });
    refused({ theta: params.theta.map((r, k) => (k === 1 ? [r[0], Infinity, r[2], r[3]] : r)) });
    refused({ theta: params.theta.slice(1) }, 'theta must have 3 entries');
    refused({ var: params.var.map((r) => r.slice(1)) }, 'var row 0 must have 4 values');
    refused({ class_prior: [0.5, 0.5, 0.5] }, 'class_prior must sum to 1');
    refused({ class_count: [50, 0, 50] }, 'class 1 has a prior but no training rows');
    refused({ var: params.var.map((r, k) => (k === 2 ? [r[0], r[1], 1e-310, r[3]] : r)) }, 'var row 2 has a variance too small to invert');
    refused({ epsilon: 0 });
    refused({ n_features: 5 });
  });

  it('refuses bad labels, non-finite features and wrong widths', () => {
    const { x, y } = constantFeature();
    const fit = (over: Partial<Parameters<typeof gaussianNb.fit>[0]>) =>
      gaussianNb.fit({ x, y, nClasses: 3, hyperparameters: defaults(), seed: 1, ...over });
    expect(() => fit({ y: Int32Array.from(y, (c) => (c === 2 ? 3 : c)) })).toThrow(RangeError);
    expect(() => fit({ nClasses: 1 })).toThrow(RangeError);
    expect(() => fit({ x: { rows: 0, cols: 3, data: new Float64Array(0) }, y: new Int32Array(0) })).toThrow(RangeError);
    for (const bad of [Number.NaN, Infinity]) {
      const data = Float64Array.from(x.data);
      data[5] = bad;
      expect(() => fit({ x: { ...x, data } })).toThrow('feature 2 has non-finite values');
    }
    const tiny = toMatrix([[0], [1e-160], [0], [1e-160]]);
    expect(() => fit({ x: tiny, y: Int32Array.from([0, 0, 1, 1]), nClasses: 2 })).toThrow('is out of range; rescale the features');
    const { model } = fit({});
    expect(() => model.predictProba({ rows: 1, cols: 2, data: new Float64Array(2) })).toThrow(RangeError);
    expect(() => model.predictProba(toMatrix([[0, Number.NaN, 0]]))).toThrow('not finite');
  });
});
