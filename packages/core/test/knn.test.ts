import { knn, type KnnHyperparameters } from '../src/knn';
import { toMatrix, type FeatureMatrix } from '../src/matrix';
import { createRng } from '../src/random';
import { loadIrisMatrix as loadIris } from './iris-fixture';

const defaults = (overrides: Partial<KnnHyperparameters> = {}): KnnHyperparameters => knn.hyperparametersSchema.parse(overrides);


/**
 * scikit-learn 1.2.1's `KNeighborsClassifier(algorithm='brute').predict_proba` (Debian's
 * python3-sklearn), produced from the repository root by:
 *
 *   /usr/bin/python3 - <<'EOF'
 *   import csv, json, numpy as np
 *   from sklearn.neighbors import KNeighborsClassifier
 *   rows = list(csv.reader(open('datasets/iris.csv')))[1:]
 *   X = np.array([[float(v) for v in r[:4]] for r in rows])
 *   y = np.array([['setosa', 'versicolor', 'virginica'].index(r[4]) for r in rows])
 *   Q = np.array([[5.93, 3.01, 4.22, 1.48], [6.31, 2.77, 4.96, 1.62], [5.5, 2.45, 4.9, 1.55],
 *                 [4.0, 4.5, 1.0, 0.1], [7.5, 2.0, 7.5, 3.0], X[70], X[101]])
 *   G = np.array([[0, 0], [0, 0], [1, 0], [0, 1], [1, 1], [2, 2], [2, 2], [3, 0], [0, 3], [-1, 0]], float)
 *   g = np.array([0, 1, 1, 2, 0, 2, 2, 1, 0, 2])
 *   R = np.array([[0, 0], [2, 2], [1, 0], [0.5, 0.5], [1, 1.5], [3, 3]])
 *   def stable(Xt, q, k):  # the documented rule: first k of a stable sort by distance
 *       return set(np.argsort(((Xt - q) ** 2).sum(1), kind='stable')[:k])
 *   for name, Xt, yt, Qs, runs in [('iris', X, y, Q, [(5, 'uniform'), (5, 'distance'), (12, 'distance')]),
 *                                  ('grid', G, g, R, [(3, 'uniform'), (3, 'distance')])]:
 *       for k, w in runs:
 *           m = KNeighborsClassifier(n_neighbors=k, weights=w, algorithm='brute').fit(Xt, yt)
 *           dist, idx = m.kneighbors(Qs)
 *           for qi, q in enumerate(Qs):
 *               assert set(idx[qi]) == stable(Xt, q, k), (name, k, w, qi)
 *               if name == 'iris':  # no tie at the k-th neighbour: the set does not depend on tie-breaking
 *                   d = np.sort(np.sqrt(((Xt - q) ** 2).sum(1)))
 *                   assert d[k] - d[k - 1] > 1e-9, (name, k, qi, d[k - 1], d[k])
 *           print(name, k, w, json.dumps(m.predict_proba(Qs).tolist()))
 *   EOF
 *
 * The asserts passed: on these inputs scikit-learn's neighbours are the first k of a stable
 * sort by distance, the rule this implementation documents. Iris queries 5 and 6 are training
 * rows (70; 101, which row 142 duplicates): distance 0. The grid has exact ties (its
 * arithmetic is exact): query [0.5, 0.5] is equidistant from rows 0 to 4, [1, 1.5] from rows
 * 3, 5 and 6; [0, 0] and [2, 2] each sit on two duplicate rows, of different classes for [0, 0].
 */
const IRIS_QUERIES = [
  [5.93, 3.01, 4.22, 1.48],
  [6.31, 2.77, 4.96, 1.62],
  [5.5, 2.45, 4.9, 1.55],
  [4.0, 4.5, 1.0, 0.1],
  [7.5, 2.0, 7.5, 3.0],
  [5.9, 3.2, 4.8, 1.8], // iris row 70
  [5.8, 2.7, 5.1, 1.9], // iris row 101 (= row 142)
];
const SKLEARN_IRIS = {
  uniform5: [[0.0, 1.0, 0.0], [0.0, 0.4, 0.6], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.4, 0.6], [0.0, 0.0, 1.0]],
  distance5: [[0.0, 1.0, 0.0], [0.0, 0.30602149164156095, 0.693978508358439], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
  distance12: [
    [0.0, 1.0, 0.0],
    [0.0, 0.3553949479221689, 0.644605052077831],
    [0.0, 0.39926047533535636, 0.6007395246646436],
    [1.0, 0.0, 0.0],
    [0.0, 0.0, 1.0],
    [0.0, 1.0, 0.0],
    [0.0, 0.0, 1.0],
  ],
};
const GRID_X = [[0, 0], [0, 0], [1, 0], [0, 1], [1, 1], [2, 2], [2, 2], [3, 0], [0, 3], [-1, 0]];
const GRID_Y = [0, 1, 1, 2, 0, 2, 2, 1, 0, 2];
const GRID_QUERIES = [[0, 0], [2, 2], [1, 0], [0.5, 0.5], [1, 1.5], [3, 3]];
const SKLEARN_GRID = {
  uniform3: [
    [0.3333333333333333, 0.6666666666666666, 0.0],
    [0.3333333333333333, 0.0, 0.6666666666666666],
    [0.3333333333333333, 0.6666666666666666, 0.0],
    [0.3333333333333333, 0.6666666666666666, 0.0],
    [0.3333333333333333, 0.0, 0.6666666666666666],
    [0.3333333333333333, 0.0, 0.6666666666666666],
  ],
  distance3: [
    [0.5, 0.5, 0.0],
    [0.0, 0.0, 1.0],
    [0.0, 1.0, 0.0],
    [0.3333333333333333, 0.6666666666666666, 0.0],
    [0.5278640450004206, 0.0, 0.4721359549995794],
    [0.2, 0.0, 0.8],
  ],
};

/**
 * How close distance-weighted probabilities must come to scikit-learn's. Its brute force takes
 * distances from `||a||² + ||b||² - 2 a·b`, which on iris (`||a||²` near 60, squared distances
 * near 0.04) keeps about 13 digits: for iris query 1 its distances differ from the direct
 * `np.sqrt(((X[idx] - q) ** 2).sum(1))` by up to 2.5e-13 relative, and the probabilities
 * computed from the direct distances are this model's to the last bit. Uniform votes are
 * compared exactly.
 */
const SKLEARN_TOLERANCE = 1e-12;

function expectRowsClose(actual: Float64Array, expected: number[][], tolerance: number): void {
  const flat = expected.flat();
  expect(actual.length).toBe(flat.length);
  flat.forEach((v, i) => {
    if (Math.abs((actual[i] as number) - v) > tolerance) throw new Error(`value ${i}: ${actual[i]} vs scikit-learn ${v}`);
  });
}

function fitIris(hyperparameters: KnnHyperparameters) {
  const { x, y } = loadIris();
  return knn.fit({ x, y, nClasses: 3, hyperparameters, seed: 42 });
}

/**
 * The definition, written the obvious way: squared distances summed feature by feature (the
 * same arithmetic as the model's exact distances), a stable sort, the first k, votes summed
 * nearest first. The model must give exactly these numbers.
 */
function naiveProba(train: FeatureMatrix, y: Int32Array, nClasses: number, k: number, weights: string, q: FeatureMatrix): Float64Array {
  const d = train.cols;
  const out = new Float64Array(q.rows * nClasses);
  for (let i = 0; i < q.rows; i++) {
    const dist = Array.from({ length: train.rows }, (_, t) => {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const e = (q.data[i * d + j] as number) - (train.data[t * d + j] as number);
        s += e * e;
      }
      return s;
    });
    const order = dist.map((_, t) => t).sort((a, b) => (dist[a] as number) - (dist[b] as number)).slice(0, k);
    const exact = weights === 'distance' && dist[order[0] as number] === 0;
    const votes = new Array<number>(nClasses).fill(0);
    for (const t of order) {
      const w = exact ? (dist[t] === 0 ? 1 : 0) : weights === 'distance' ? 1 / Math.sqrt(dist[t] as number) : 1;
      votes[y[t] as number] = (votes[y[t] as number] as number) + w;
    }
    let total = 0;
    for (const v of votes) total += v;
    votes.forEach((v, c) => (out[i * nClasses + c] = v / total));
  }
  return out;
}

describe('knn', () => {
  it.each([
    ['uniform', 5, SKLEARN_IRIS.uniform5],
    ['distance', 5, SKLEARN_IRIS.distance5],
    ['distance', 12, SKLEARN_IRIS.distance12],
  ] as const)("matches scikit-learn's predict_proba on iris (%s, k = %d)", (weights, k, expected) => {
    const { model, report } = fitIris(defaults({ k, weights }));
    expect(report).toEqual({ iterations: 1, converged: true, final_loss: null });
    expect(model).toMatchObject({ algorithm: 'knn', nClasses: 3, nFeatures: 4 });
    expectRowsClose(model.predictProba(toMatrix(IRIS_QUERIES)), expected, weights === 'uniform' ? 0 : SKLEARN_TOLERANCE);
  });

  it.each([
    ['uniform', SKLEARN_GRID.uniform3],
    ['distance', SKLEARN_GRID.distance3],
  ] as const)("matches scikit-learn on exact ties and zero distances (%s, k = 3)", (weights, expected) => {
    const { model } = knn.fit({ x: toMatrix(GRID_X), y: Int32Array.from(GRID_Y), nClasses: 3, hyperparameters: defaults({ k: 3, weights }), seed: 1 });
    expectRowsClose(model.predictProba(toMatrix(GRID_QUERIES)), expected, weights === 'uniform' ? 0 : SKLEARN_TOLERANCE);
  });

  // Shapes that reach every path: rows and queries not multiples of 4 (tile remainders) or of
  // the query block (64), one feature, k = n, and small integer features so that exact ties
  // and duplicates are everywhere; the last case puts two tight clusters a million apart, where
  // the screening arithmetic is far less precise than the distances it must not get wrong.
  const cases = [
    { n: 1001, d: 7, q: 133, k: 5, levels: 0, offset: 0 },
    { n: 403, d: 3, q: 70, k: 9, levels: 3, offset: 0 },
    { n: 257, d: 1, q: 67, k: 4, levels: 5, offset: 0 },
    { n: 6, d: 2, q: 5, k: 6, levels: 2, offset: 0 },
    { n: 502, d: 4, q: 66, k: 7, levels: 0, offset: 1e6 },
  ];
  it.each(cases)('finds exactly the stable-sort neighbours (n $n, d $d, $q queries, k $k)', ({ n, d, q, k, levels, offset }) => {
    const rng = createRng(n * 7 + d);
    const value = (i: number): number => {
      if (levels > 0) return rng.int(levels);
      const side = offset > 0 && i % 2 === 1 ? -offset : offset;
      return side + (offset > 0 ? 1e-3 : 1) * rng.normal();
    };
    const x: FeatureMatrix = { rows: n, cols: d, data: Float64Array.from({ length: n * d }, (_, i) => value(Math.floor(i / d))) };
    const y = Int32Array.from({ length: n }, () => rng.int(3));
    const queries: FeatureMatrix = { rows: q, cols: d, data: Float64Array.from({ length: q * d }, (_, i) => value(Math.floor(i / d))) };
    for (const weights of ['uniform', 'distance'] as const) {
      const { model } = knn.fit({ x, y, nClasses: 3, hyperparameters: defaults({ k, weights }), seed: 1 });
      expect(Array.from(model.predictProba(queries))).toEqual(Array.from(naiveProba(x, y, 3, k, weights, queries)));
    }
  });

  it('gives rows of probabilities summing to 1, one query or many', () => {
    const { model } = fitIris(defaults({ k: 7, weights: 'distance' }));
    const rng = createRng(3);
    const queries: FeatureMatrix = { rows: 101, cols: 4, data: Float64Array.from({ length: 404 }, () => 1 + 6 * rng.next()) };
    const proba = model.predictProba(queries);
    for (let i = 0; i < queries.rows; i++) {
      const row = Array.from(proba.subarray(i * 3, i * 3 + 3));
      row.forEach((p) => expect(p).toBeGreaterThanOrEqual(0));
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
      // One row alone gives the same answer as in a batch.
      const one = model.predictProba({ rows: 1, cols: 4, data: queries.data.subarray(i * 4, i * 4 + 4) });
      expect(Array.from(one)).toEqual(row);
    }
    expect(model.predictProba({ rows: 0, cols: 4, data: new Float64Array(0) })).toHaveLength(0);
  });

  it('rebuilds an identical model from its parameters and from their JSON', () => {
    const { model } = fitIris(defaults({ k: 12, weights: 'distance' }));
    const queries = toMatrix(IRIS_QUERIES);
    const expected = Array.from(model.predictProba(queries));
    const params = knn.paramsSchema.parse(model.toParams());
    expect(params).toMatchObject({ n_classes: 3, n_features: 4, k: 12, weights: 'distance' });
    expect(params.x).toHaveLength(150);
    const direct = knn.load(params);
    const json = knn.load(knn.paramsSchema.parse(JSON.parse(JSON.stringify(params))));
    expect(Array.from(direct.predictProba(queries))).toEqual(expected);
    expect(Array.from(json.predictProba(queries))).toEqual(expected);
    expect(json.toParams()).toEqual(params);
  });

  it('is deterministic and does not keep the caller’s buffers', () => {
    const { x, y } = loadIris();
    const a = knn.fit({ x, y, nClasses: 3, hyperparameters: defaults(), seed: 1 });
    const b = knn.fit({ x, y, nClasses: 3, hyperparameters: defaults(), seed: 2 });
    expect(b.model.toParams()).toEqual(a.model.toParams());
    const before = Array.from(a.model.predictProba(toMatrix(IRIS_QUERIES)));
    x.data.fill(0);
    y.fill(0);
    expect(Array.from(a.model.predictProba(toMatrix(IRIS_QUERIES)))).toEqual(before);
  });

  it('validates hyperparameters', () => {
    const schema = knn.hyperparametersSchema;
    expect(defaults()).toEqual({ k: 5, weights: 'uniform' });
    expect(schema.parse({ k: 1000, weights: 'distance' })).toEqual({ k: 1000, weights: 'distance' });
    for (const bad of [{ k: 0 }, { k: 1001 }, { k: 2.5 }, { k: '5' }, { weights: 'gaussian' }, { n_neighbors: 5 }]) {
      expect(schema.safeParse(bad).success).toBe(false);
    }
  });

  it('validates stored parameters', () => {
    const schema = knn.paramsSchema;
    const params = schema.parse(knn.fit({ x: toMatrix(GRID_X), y: Int32Array.from(GRID_Y), nClasses: 3, hyperparameters: defaults({ k: 3 }), seed: 1 }).model.toParams());
    expect(schema.safeParse(params).success).toBe(true);
    const refused = (changed: object, message?: string): void => {
      const result = schema.safeParse({ ...params, ...changed });
      expect(result.success).toBe(false);
      if (message !== undefined) expect(result.error?.issues.map((i) => i.message).join('; ')).toContain(message);
    };
    refused({ extra: 1 });
    refused({ y: params.y.slice(1) }, 'one label per row');
    refused({ y: params.y.map((v, i) => (i === 4 ? 3 : v)) }, 'label 3 outside [0, 3)');
    refused({ y: params.y.map((v, i) => (i === 4 ? -1 : v)) });
    refused({ x: params.x.map((r, i) => (i === 2 ? r.slice(1) : r)) }, 'row 2 has 1 values, expected 2');
    refused({ x: params.x.map((r, i) => (i === 2 ? [r[0], Number.NaN] : r)) }, 'row 2 has a value that is not a finite number');
    refused({ x: params.x.map((r, i) => (i === 2 ? [r[0], Infinity] : r)) }, 'row 2 has a value that is not a finite number');
    refused({ x: params.x.map((r, i) => (i === 2 ? [r[0], -1e101] : r)) }, 'within ±1e+100');
    refused({ x: params.x.map((r, i) => (i === 2 ? [r[0], '1'] : r)) }, 'not a finite number');
    refused({ x: params.x.map((r, i) => (i === 2 ? 7 : r)) }, 'x must be an array of rows');
    refused({ x: 'rows' });
    refused({ k: 11 }, 'k (11) exceeds the 10 training rows');
    refused({ weights: 'gaussian' });
    refused({ n_classes: 1 });
    refused({ x: [], y: [] }, 'x must have at least one row');
    expect(() => knn.load({ ...params, k: 11 })).toThrow('exceeds');
  });

  it('refuses k above the training rows, bad labels, non-finite features and wrong widths', () => {
    const x = toMatrix(GRID_X);
    const y = Int32Array.from(GRID_Y);
    const fit = (over: Partial<Parameters<typeof knn.fit>[0]>) => knn.fit({ x, y, nClasses: 3, hyperparameters: defaults(), seed: 1, ...over });
    expect(() => fit({ hyperparameters: defaults({ k: 11 }) })).toThrow('k = 11 exceeds the 10 training rows');
    expect(() => fit({ y: Int32Array.from(GRID_Y, (v) => (v === 2 ? 3 : v)) })).toThrow(RangeError);
    expect(() => fit({ nClasses: 1 })).toThrow(RangeError);
    const nan = Float64Array.from(x.data);
    nan[3] = Number.NaN;
    expect(() => fit({ x: { ...x, data: nan } })).toThrow('feature 1 has values that are not finite numbers');
    const huge = Float64Array.from(x.data);
    huge[2] = 1e150;
    expect(() => fit({ x: { ...x, data: huge } })).toThrow('feature 0 has values that are not finite numbers within ±1e+100');
    const { model } = fit({});
    expect(() => model.predictProba({ rows: 1, cols: 3, data: new Float64Array(3) })).toThrow(RangeError);
    expect(() => model.predictProba({ rows: 1, cols: 2, data: Float64Array.from([0, Infinity]) })).toThrow('not a finite number');
    expect(() => model.predictProba({ rows: 2, cols: 2, data: Float64Array.from([0, 0, -1e101, 0]) })).toThrow('query row 1 feature 0');
  });
});
