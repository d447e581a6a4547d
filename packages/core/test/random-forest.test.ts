import { createHash } from 'node:crypto';
import { stratifiedSplit } from '../src/labeled-set';
import { argmaxRows, toMatrix, type FeatureMatrix } from '../src/matrix';
import { randomForest, type RandomForestHyperparameters, type RandomForestParams } from '../src/random-forest';
import { createRng } from '../src/random';
import { makeClassification } from '../src/synthetic';
import { loadIris } from './iris-fixture';
import { blobs } from './blobs';

const defaults = (overrides: Partial<RandomForestHyperparameters> = {}): RandomForestHyperparameters =>
  randomForest.hyperparametersSchema.parse(overrides);

type Tree = RandomForestParams['trees'][number];

function fit(x: FeatureMatrix, y: Int32Array, nClasses: number, h: Partial<RandomForestHyperparameters>, seed = 42) {
  return randomForest.fit({ x, y, nClasses, hyperparameters: defaults(h), seed });
}

/** The node a row reaches in a stored tree, walked straight from the JSON form. */
function leafOf(tree: Tree, x: FeatureMatrix, row: number): number {
  let node = 0;
  while ((tree.feature[node] as number) >= 0) {
    const v = x.data[row * x.cols + (tree.feature[node] as number)] as number;
    node = v <= (tree.threshold[node] as number) ? (tree.left[node] as number) : (tree.right[node] as number);
  }
  return node;
}

function depthOf(tree: Tree, node: number): number {
  if ((tree.feature[node] as number) < 0) return 0;
  return 1 + Math.max(depthOf(tree, tree.left[node] as number), depthOf(tree, tree.right[node] as number));
}

function accuracy(proba: Float64Array, y: Int32Array, nClasses: number): number {
  const predicted = argmaxRows(proba, nClasses);
  let correct = 0;
  for (let i = 0; i < y.length; i++) if (predicted[i] === y[i]) correct++;
  return correct / y.length;
}

/**
 * scikit-learn 1.2.1's `DecisionTreeClassifier(max_depth, min_samples_leaf)` on all 150 rows
 * of datasets/iris.csv: for each training row, the class counts of the leaf it lands in
 * (`predict_proba` is counts / their sum), as the distinct count triples and, per row, the
 * index of its triple. Iris has ties between equally good splits (the root splits setosa off
 * on petal length or on petal width, by the random feature order), but these probabilities
 * came out identical for random_state 0..299, so they do not depend on how ties are broken.
 * Produced with Debian's python3-sklearn (`/usr/bin/python3`, from the repository root) by:
 *
 *   rows = list(csv.reader(open('datasets/iris.csv')))[1:]
 *   X = np.array([[float(v) for v in r[:4]] for r in rows]); y = [species index of r[4]]
 *   for depth, leaf in [(2, 1), (3, 1), (4, 1), (None, 1), (3, 5), (4, 3), (None, 5)]:
 *       fits = [DecisionTreeClassifier(max_depth=depth, min_samples_leaf=leaf, random_state=s).fit(X, y) for s in range(300)]
 *       counts = [f.tree_.value[f.apply(X), 0] for f in fits]; assert all equal to counts[0]
 *       triples = distinct rows of counts[0] in order of appearance; rows = index of each row's triple
 */
const SKLEARN_IRIS_TREES: { max_depth: number | null; min_samples_leaf: number; counts: number[][]; rows: string }[] = [
  { max_depth: 2, min_samples_leaf: 1, counts: [[50, 0, 0], [0, 49, 5], [0, 1, 45]], rows: '000000000000000000000000000000000000000000000000001111111111111111111121111111111111111111111111111122222212222222222221222222222122211222222222222222' },
  { max_depth: 3, min_samples_leaf: 1, counts: [[50, 0, 0], [0, 47, 1], [0, 1, 2], [0, 2, 4], [0, 0, 43]], rows: '000000000000000000000000000000000000000000000000001111111111111111111121111113111113111111111111111144444414444444444443444444244344433444244444444444' },
  { max_depth: 4, min_samples_leaf: 1, counts: [[50, 0, 0], [0, 47, 0], [0, 1, 0], [0, 2, 1], [0, 0, 43], [0, 0, 1], [0, 0, 3], [0, 0, 2]], rows: '000000000000000000000000000000000000000000000000001111111111111111111121111113111113111111111111111144444454444444444446444444744344466444744444444444' },
  { max_depth: null, min_samples_leaf: 1, counts: [[50, 0, 0], [0, 47, 0], [0, 1, 0], [0, 2, 0], [0, 0, 43], [0, 0, 1], [0, 0, 3], [0, 0, 2]], rows: '000000000000000000000000000000000000000000000000001111111111111111111121111113111113111111111111111144444454444444444446444444744544466444744444444444' },
  { max_depth: 3, min_samples_leaf: 5, counts: [[50, 0, 0], [0, 47, 1], [0, 1, 5], [0, 2, 4], [0, 0, 40]], rows: '000000000000000000000000000000000000000000000000001111111111111111111121111113111113111111111111111144444414444444444443424244224344433444244444444444' },
  { max_depth: 4, min_samples_leaf: 3, counts: [[50, 0, 0], [0, 45, 0], [0, 2, 1], [0, 1, 2], [0, 0, 43], [0, 0, 3]], rows: '000000000000000000000000000000000000000000000000001111112111111111111131111112111112121111111111111144444424444444444445444444344244455444344444444444' },
  { max_depth: null, min_samples_leaf: 5, counts: [[50, 0, 0], [0, 43, 0], [0, 4, 1], [0, 1, 5], [0, 2, 4], [0, 0, 40]], rows: '000000000000000000000000000000000000000000000000001111111211211111111131111114111114111111111211112155555525555555555554535355335455544555355555555555' },
];

/**
 * The two trees scikit-learn 1.2.1's `DecisionTreeClassifier(max_depth=2)` grows on all of
 * iris over random_state 0..299 (`tree_.feature`, `.threshold`, `.children_left`,
 * `.children_right`, leaves' -2 written as our -1, thresholds as float32 midpoints): the root
 * tie between petal width <= 0.8 and petal length <= 2.45, then petal width <= 1.75.
 */
const SKLEARN_IRIS_DEPTH_2 = [
  { feature: [3, -1, 3, -1, -1], threshold: [0.800000011920929, 0, 1.75, 0, 0], left: [1, -1, 3, -1, -1], right: [2, -1, 4, -1, -1] },
  { feature: [2, -1, 3, -1, -1], threshold: [2.449999988079071, 0, 1.75, 0, 0], left: [1, -1, 3, -1, -1], right: [2, -1, 4, -1, -1] },
];

/**
 * A `cli synth` split rebuilt in process: `node scripts/dist/cli.js synth --rows 5000
 * --features 20 --informative 10 --seed 7 --out-train s5k-train.csv --out-test s5k-test.csv`
 * (4,000 training and 1,000 test rows, 3 classes), features rounded to the CSV's nine
 * significant digits so both sides see the same numbers.
 */
function synthSplit(): { train: { x: FeatureMatrix; y: Int32Array }; test: { x: FeatureMatrix; y: Int32Array }; trainCsvMd5: string } {
  const data = makeClassification({ nSamples: 5000, nFeatures: 20, nInformative: 10, nRedundant: 2, nClasses: 3, seed: 7 });
  const { train, holdout } = stratifiedSplit(Array.from(data.y), 0.2, 8);
  const d = data.x.cols;
  const take = (indices: number[]) => {
    const x = new Float64Array(indices.length * d);
    const y = new Int32Array(indices.length);
    indices.forEach((src, i) => {
      for (let j = 0; j < d; j++) x[i * d + j] = Number((data.x.data[src * d + j] as number).toPrecision(9));
      y[i] = data.y[src] as number;
    });
    return { x: { rows: indices.length, cols: d, data: x }, y };
  };
  const tr = take(train);
  const lines = [[...Array.from({ length: d }, (_, j) => `x${j}`), 'label'].join(',')];
  for (let i = 0; i < tr.x.rows; i++) lines.push([...Array.from(tr.x.data.subarray(i * d, (i + 1) * d), String), String(tr.y[i])].join(','));
  const trainCsvMd5 = createHash('md5').update(`${lines.join('\n')}\n`).digest('hex');
  return { train: tr, test: take(holdout), trainCsvMd5 };
}

/**
 * scikit-learn 1.2.1's `RandomForestClassifier(n_jobs=1, random_state=s, **kw)` on {@link synthSplit}'s
 * CSVs, mean over random_state 0..19 of the test accuracy, of the mean probability given to
 * the true class, and of the Brier score (squared distance of the probability row to the
 * one-hot label, averaged over rows). Produced with Debian's python3-sklearn
 * (`/usr/bin/python3`) by:
 *
 *   xtr, ytr = loadtxt('s5k-train.csv'); xte, yte = loadtxt('s5k-test.csv')   # label last, header skipped
 *   for s in range(20):
 *       p = RandomForestClassifier(random_state=s, n_jobs=1, **kw).fit(xtr, ytr).predict_proba(xte)
 *       acc = (p.argmax(1) == yte).mean(); p_true = p[arange(n), yte].mean()
 *       brier = ((p - eye(3)[yte]) ** 2).sum(1).mean()
 *
 * Over those 20 seeds the accuracy ranged 0.861-0.877, 0.809-0.831 and 0.858-0.876.
 */
const SKLEARN_SYNTH: { kw: Partial<RandomForestHyperparameters>; accuracy: number; p_true: number; brier: number }[] = [
  { kw: {}, accuracy: 0.8704, p_true: 0.6821, brier: 0.2323 },
  { kw: { max_depth: 6, min_samples_leaf: 5, max_features: 'log2' }, accuracy: 0.8182, p_true: 0.57565, brier: 0.33036 },
  { kw: { bootstrap: false, max_features: 0.5, min_samples_split: 10 }, accuracy: 0.86725, p_true: 0.73132, brier: 0.2067 },
];

describe('randomForest hyperparameters', () => {
  it("defaults to scikit-learn's RandomForestClassifier()", () => {
    expect(defaults()).toEqual({
      n_estimators: 100,
      max_depth: null,
      min_samples_split: 2,
      min_samples_leaf: 1,
      max_features: 'sqrt',
      bootstrap: true,
    });
  });

  it('accepts every form of max_features', () => {
    const forms: RandomForestHyperparameters['max_features'][] = ['sqrt', 'log2', null, 1, 7, 0.25, 0.999];
    for (const v of forms) expect(defaults({ max_features: v }).max_features).toBe(v);
  });

  it.each([
    { n_estimators: 0 },
    { n_estimators: 1001 },
    { n_estimators: 2.5 },
    { max_depth: 0 },
    { max_depth: 1.5 },
    { min_samples_split: 1 },
    { min_samples_leaf: 0 },
    { max_features: 0 },
    { max_features: -1 },
    { max_features: 1.5 },
    { max_features: 'auto' },
    { bootstrap: 'yes' },
    { criterion: 'gini' },
    { n_estimator: 10 },
  ])('refuses %j', (bad) => {
    expect(randomForest.hyperparametersSchema.safeParse(bad).success).toBe(false);
  });
});

describe('randomForest', () => {
  const iris = loadIris();
  const irisX = toMatrix(iris.x);
  const irisY = Int32Array.from(iris.y);

  it.each(SKLEARN_IRIS_TREES)(
    "one tree, all features, no bootstrap reproduces scikit-learn's DecisionTreeClassifier on iris (max_depth $max_depth, min_samples_leaf $min_samples_leaf)",
    ({ max_depth, min_samples_leaf, counts, rows }) => {
      // Several seeds: they order features differently, so ties are broken differently.
      for (const seed of [0, 1, 2, 3, 4]) {
        const { model } = fit(irisX, irisY, 3, { n_estimators: 1, bootstrap: false, max_features: null, max_depth, min_samples_leaf }, seed);
        const proba = model.predictProba(irisX);
        let worst = 0;
        for (let i = 0; i < irisX.rows; i++) {
          const c = counts[Number(rows[i])] as number[];
          const total = c.reduce((a, b) => a + b, 0);
          for (let k = 0; k < 3; k++) worst = Math.max(worst, Math.abs((proba[i * 3 + k] as number) - (c[k] as number) / total));
        }
        // Equal up to rounding: c / total against c * (1 / total).
        expect(worst).toBeLessThan(1e-15);
      }
    },
  );

  it('gives the same iris probabilities when every row is repeated (nodes of 256+ rows take the dense histogram path)', () => {
    const x3 = toMatrix([...iris.x, ...iris.x, ...iris.x]);
    const y3 = Int32Array.from([...iris.y, ...iris.y, ...iris.y]);
    for (const reference of SKLEARN_IRIS_TREES.filter((t) => t.min_samples_leaf === 1)) {
      const { model } = fit(x3, y3, 3, { n_estimators: 1, bootstrap: false, max_features: null, max_depth: reference.max_depth }, 0);
      const proba = model.predictProba(irisX);
      let worst = 0;
      for (let i = 0; i < irisX.rows; i++) {
        const c = reference.counts[Number(reference.rows[i])] as number[];
        const total = c.reduce((a, b) => a + b, 0);
        for (let k = 0; k < 3; k++) worst = Math.max(worst, Math.abs((proba[i * 3 + k] as number) - (c[k] as number) / total));
      }
      expect(worst).toBeLessThan(1e-15);
    }
  });

  it("does not count a feature constant in a node among max_features (scikit-learn's rule)", () => {
    // Two informative features among 18 constant ones, one feature per split: if a constant
    // draw used up the split, nodes would stop early and leaves stay impure.
    const base = blobs(200, [[0, 0], [1, 0], [0, 1]], 0.6, 13);
    const data = new Float64Array(200 * 20).fill(3);
    for (let i = 0; i < 200; i++) {
      data[i * 20 + 5] = base.x.data[i * 2] as number;
      data[i * 20 + 14] = base.x.data[i * 2 + 1] as number;
    }
    const x = { rows: 200, cols: 20, data };
    const { model } = fit(x, base.y, 3, { n_estimators: 5, bootstrap: false, max_features: 1 });
    expect(accuracy(model.predictProba(x), base.y, 3)).toBe(1);
    for (const tree of randomForest.paramsSchema.parse(model.toParams()).trees) {
      tree.feature.forEach((f) => expect([-1, 5, 14]).toContain(f));
      tree.value.forEach((v) => expect(v === 0 || v === 1).toBe(true));
    }
  });

  it("grows one of scikit-learn's two depth-2 iris trees, node for node, with CART's midpoint thresholds", () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 20; seed++) {
      const { model } = fit(irisX, irisY, 3, { n_estimators: 1, bootstrap: false, max_features: null, max_depth: 2 }, seed);
      const tree = randomForest.paramsSchema.parse(model.toParams()).trees[0] as Tree;
      const match = SKLEARN_IRIS_DEPTH_2.findIndex((t) => t.feature.every((f, i) => f === tree.feature[i]));
      expect(match).toBeGreaterThanOrEqual(0);
      const reference = SKLEARN_IRIS_DEPTH_2[match] as (typeof SKLEARN_IRIS_DEPTH_2)[number];
      expect(tree.left).toEqual(reference.left);
      expect(tree.right).toEqual(reference.right);
      // scikit-learn's thresholds are midpoints of float32 features; ours of the float64 ones.
      tree.threshold.forEach((t, i) => expect(Math.abs(t - (reference.threshold[i] as number))).toBeLessThan(1e-6));
      seen.add(match);
    }
    // Both tie-breaks occur: the feature order is random per node, as in scikit-learn.
    expect(seen.size).toBe(2);
  });

  it("is as accurate as scikit-learn's RandomForestClassifier on held-out synthetic data, probabilities included", () => {
    const { train, test, trainCsvMd5 } = synthSplit();
    // The same bytes scikit-learn read (md5sum of the `cli synth` training CSV).
    expect(trainCsvMd5).toBe('8e5c500808648e2d93811f9359f56b3c');
    for (const reference of SKLEARN_SYNTH) {
      const { model } = fit(train.x, train.y, 3, reference.kw, 42);
      const proba = model.predictProba(test.x);
      let pTrue = 0;
      let brier = 0;
      for (let i = 0; i < test.x.rows; i++) {
        const label = test.y[i] as number;
        pTrue += proba[i * 3 + label] as number;
        for (let k = 0; k < 3; k++) brier += ((proba[i * 3 + k] as number) - (k === label ? 1 : 0)) ** 2;
      }
      expect(Math.abs(accuracy(proba, test.y, 3) - reference.accuracy)).toBeLessThanOrEqual(0.01);
      expect(Math.abs(pTrue / test.x.rows - reference.p_true)).toBeLessThanOrEqual(0.01);
      expect(Math.abs(brier / test.x.rows - reference.brier)).toBeLessThanOrEqual(0.01);
    }
  });

  it('is deterministic given the seed, and the seed matters', () => {
    const { x, y } = blobs(400, [[0, 0, 0], [1, 0, 0], [0, 1, 1]], 1, 3);
    const h = { n_estimators: 10 };
    const a = fit(x, y, 3, h, 7);
    const b = fit(x, y, 3, h, 7);
    expect(b.model.toParams()).toEqual(a.model.toParams());
    expect(Array.from(b.model.predictProba(x))).toEqual(Array.from(a.model.predictProba(x)));
    expect(b.report).toEqual(a.report);
    const c = fit(x, y, 3, h, 8);
    expect(c.model.toParams()).not.toEqual(a.model.toParams());
    expect(Array.from(c.model.predictProba(x))).not.toEqual(Array.from(a.model.predictProba(x)));
  });

  it('rebuilds an identical model from its parameters and from their JSON', () => {
    const { x, y } = blobs(300, [[0, 0, 0], [1, 0, 0], [0, 1, 1]], 1, 4);
    const { model } = fit(x, y, 3, { n_estimators: 15 });
    const expected = Array.from(model.predictProba(x));
    const direct = randomForest.load(randomForest.paramsSchema.parse(model.toParams()));
    const json = JSON.parse(JSON.stringify(model.toParams())) as unknown;
    const fromJson = randomForest.load(randomForest.paramsSchema.parse(json));
    for (const loaded of [direct, fromJson]) {
      expect(loaded).toMatchObject({ algorithm: 'random_forest', nClasses: 3, nFeatures: 3 });
      expect(Array.from(loaded.predictProba(x))).toEqual(expected);
      expect(loaded.toParams()).toEqual(model.toParams());
    }
  });

  describe('refuses corrupt parameters', () => {
    const { x, y } = blobs(200, [[0, 0], [2, 0], [0, 2]], 0.8, 5);
    const params = randomForest.paramsSchema.parse(fit(x, y, 3, { n_estimators: 3 }).model.toParams());
    const tree = params.trees[0] as Tree;
    const internal = tree.feature.findIndex((f) => f >= 0);
    const leaf = tree.feature.indexOf(-1);
    const withTree = (changes: Partial<Tree>): unknown => ({ ...params, trees: [{ ...tree, ...changes }, ...params.trees.slice(1)] });
    const edit = (a: number[], i: number, v: number): number[] => a.map((old, j) => (j === i ? v : old));

    it('accepts the intact parameters', () => {
      expect(randomForest.paramsSchema.safeParse(params).success).toBe(true);
      expect(internal).toBe(0);
      expect(leaf).toBeGreaterThan(0);
    });

    it.each([
      ['a child index past the last node', () => withTree({ left: edit(tree.left, internal, tree.feature.length) })],
      ['a negative child index on a split node', () => withTree({ right: edit(tree.right, internal, -1) })],
      ['a child pointing back at its parent (a cycle)', () => withTree({ left: edit(tree.left, internal, internal) })],
      ['a node with two parents', () => withTree({ right: edit(tree.right, internal, tree.left[internal] as number) })],
      ['a fractional child index', () => withTree({ left: edit(tree.left, internal, 1.5) })],
      ['a leaf with children', () => withTree({ left: edit(tree.left, leaf, leaf + 1) })],
      ['a feature out of range', () => withTree({ feature: edit(tree.feature, internal, 2) })],
      ['a feature below -1', () => withTree({ feature: edit(tree.feature, internal, -2) })],
      ['a threshold array of the wrong length', () => withTree({ threshold: tree.threshold.slice(1) })],
      ['a right array of the wrong length', () => withTree({ right: [...tree.right, -1] })],
      ['leaf values of the wrong length', () => withTree({ value: tree.value.slice(3) })],
      ["a leaf's probabilities not summing to 1", () => withTree({ value: edit(tree.value, 0, (tree.value[0] as number) + 1e-6) })],
      ['a negative probability', () => withTree({ value: tree.value.map((v, i) => (i === 0 ? -0.5 : i === 1 ? (tree.value[0] as number) + (tree.value[1] as number) + 0.5 : v)) })],
      ['a tree with no nodes', () => withTree({ feature: [], threshold: [], left: [], right: [], value: [] })],
      ['a non-number threshold', () => withTree({ threshold: tree.threshold.map((t, i) => (i === internal ? null : t)) as number[] })],
      ['no trees', () => ({ ...params, trees: [] })],
      ['fewer features than the trees use', () => ({ ...params, n_features: 1 })],
      ['a class count the leaf values do not match', () => ({ ...params, n_classes: 2 })],
      ['an unknown key', () => ({ ...params, extra: 1 })],
      ['an unknown key in a tree', () => withTree({ ...({ depth: 3 } as object) })],
    ])('%s', (_, corrupt) => {
      const result = randomForest.paramsSchema.safeParse(corrupt());
      expect(result.success).toBe(false);
      expect(() => randomForest.load(corrupt() as RandomForestParams)).toThrow();
    });

    it('names the tree and the offending entry', () => {
      const result = randomForest.paramsSchema.safeParse(withTree({ left: edit(tree.left, internal, 999) }));
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.path).toEqual(['trees', 0, 'left', internal]);
      expect(result.error?.issues[0]?.message).toMatch(/tree 0: node 0: left child 999 outside/);
    });
  });

  it('gives rows of probabilities summing to 1, also far from the training data', () => {
    const { x, y } = blobs(300, [[0, 0, 0], [1, 0, 0], [0, 1, 1]], 1, 6);
    const { model } = fit(x, y, 3, { n_estimators: 20 });
    const far: FeatureMatrix = { rows: 3, cols: 3, data: Float64Array.from([1e300, -1e300, 1e7, 0, 0, 0, -Infinity, 5, Infinity]) };
    for (const m of [x, far]) {
      const proba = model.predictProba(m);
      expect(proba.length).toBe(m.rows * 3);
      for (let i = 0; i < m.rows; i++) {
        const row = Array.from(proba.subarray(i * 3, i * 3 + 3));
        row.forEach((p) => expect(p).toBeGreaterThanOrEqual(0));
        expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12);
      }
    }
    expect(model.predictProba({ rows: 0, cols: 3, data: new Float64Array(0) })).toEqual(new Float64Array(0));
    expect(() => model.predictProba({ rows: 1, cols: 2, data: new Float64Array(2) })).toThrow(RangeError);
    expect(() => model.predictProba({ rows: 1, cols: 3, data: Float64Array.from([0, Number.NaN, 0]) })).toThrow('row 0 feature 1 is NaN');
  });

  it('gives the class of a pure node with probability 1', () => {
    // Every label the same: each tree is one leaf, pure, whatever the features.
    const { x } = blobs(50, [[0, 0], [3, 3]], 1, 7);
    const { model } = fit(x, new Int32Array(50).fill(2), 3, { n_estimators: 5 });
    const params = randomForest.paramsSchema.parse(model.toParams());
    params.trees.forEach((t) => expect(t).toEqual({ feature: [-1], threshold: [0], left: [-1], right: [-1], value: [0, 0, 1] }));
    expect(Array.from(model.predictProba(x))).toEqual(Array.from({ length: 150 }, (_, i) => (i % 3 === 2 ? 1 : 0)));

    // Fully grown trees on all rows end in pure leaves, so every training row gets its own
    // class with probability 1 from every tree.
    const sep = blobs(90, [[0, 0], [1, 0], [0, 1]], 0.5, 8);
    const proba = fit(sep.x, sep.y, 3, { n_estimators: 10, bootstrap: false }).model.predictProba(sep.x);
    for (let i = 0; i < 90; i++) expect(proba[i * 3 + (sep.y[i] as number)]).toBe(1);
  });

  it('keeps to max_depth, min_samples_leaf and min_samples_split', () => {
    // Fewer rows than bins: every distinct value has its own bin, so splits are exact CART's.
    const { x, y } = blobs(250, [[0, 0, 0, 0], [1, 0, 0, 0], [0, 1, 1, 0]], 1.5, 9);
    const check = (h: Partial<RandomForestHyperparameters>, test: (tree: Tree, rowsPerLeaf: Map<number, number>) => void) => {
      const params = randomForest.paramsSchema.parse(fit(x, y, 3, { n_estimators: 5, bootstrap: false, ...h }).model.toParams());
      for (const tree of params.trees) {
        const rowsPerLeaf = new Map<number, number>();
        for (let i = 0; i < x.rows; i++) {
          const l = leafOf(tree, x, i);
          rowsPerLeaf.set(l, (rowsPerLeaf.get(l) ?? 0) + 1);
        }
        test(tree, rowsPerLeaf);
      }
    };
    check({ max_depth: 3 }, (tree) => expect(depthOf(tree, 0)).toBe(3));
    check({ min_samples_leaf: 20 }, (_, perLeaf) => perLeaf.forEach((n) => expect(n).toBeGreaterThanOrEqual(20)));
    // A node of fewer than 60 rows is not split, so a split node's children together hold >= 60.
    check({ min_samples_split: 60 }, (tree, perLeaf) => {
      const rowsOf = (node: number): number =>
        (tree.feature[node] as number) < 0 ? (perLeaf.get(node) ?? 0) : rowsOf(tree.left[node] as number) + rowsOf(tree.right[node] as number);
      tree.feature.forEach((f, node) => {
        if (f >= 0) expect(rowsOf(node)).toBeGreaterThanOrEqual(60);
      });
    });
    // Unlimited depth without bootstrap: every leaf is pure (no two identical rows disagree).
    check({}, (tree, perLeaf) => {
      expect(perLeaf.size).toBe(tree.value.length / 3);
      tree.value.forEach((v) => expect(v === 0 || v === 1).toBe(true));
    });
  });

  it('splits a feature of many distinct values at quantile bin edges', () => {
    // 3,000 distinct values, more than the 256 bins: the class boundary at 0.3 is found to
    // within a bin (~1/256 of the rows) and the threshold lies between training values.
    const n = 3000;
    const rng = createRng(10);
    const data = Float64Array.from({ length: n }, () => rng.next());
    const y = Int32Array.from(data, (v) => (v > 0.3 ? 1 : 0));
    const { model } = fit({ rows: n, cols: 1, data }, y, 2, { n_estimators: 1, bootstrap: false, max_depth: 1 });
    const tree = randomForest.paramsSchema.parse(model.toParams()).trees[0] as Tree;
    expect(tree.feature[0]).toBe(0);
    expect(Math.abs((tree.threshold[0] as number) - 0.3)).toBeLessThan(2 / 256);
    const sorted = Float64Array.from(data).sort();
    const above = sorted.findIndex((v) => v > (tree.threshold[0] as number));
    expect((sorted[above - 1] as number) + (sorted[above] as number)).toBeCloseTo(2 * (tree.threshold[0] as number), 12);
    // Deeper trees cannot split inside the bin holding 0.3: at most its rows are misclassified.
    const deep = fit({ rows: n, cols: 1, data }, y, 2, { n_estimators: 5 }).model.predictProba({ rows: n, cols: 1, data });
    expect(accuracy(deep, y, 2)).toBeGreaterThanOrEqual(1 - 2 / 256);
  });

  it('reports one iteration per tree and progress per tree', () => {
    const { x, y } = blobs(100, [[0, 0], [1, 1]], 1, 11);
    const seen: number[] = [];
    const { report } = randomForest.fit({ x, y, nClasses: 2, hyperparameters: defaults({ n_estimators: 4 }), seed: 1, onProgress: (f) => seen.push(f) });
    expect(report).toEqual({ iterations: 4, converged: true, final_loss: null });
    expect(seen).toEqual([0.25, 0.5, 0.75, 1]);
  });

  it('refuses bad input', () => {
    const { x, y } = blobs(30, [[0, 0], [1, 1]], 1, 12);
    expect(() => fit(x, new Int32Array(30).fill(2), 2, {})).toThrow(RangeError);
    expect(() => fit(x, y.slice(1), 2, {})).toThrow(RangeError);
    expect(() => fit(x, y, 1, {})).toThrow(RangeError);
    expect(() => fit({ rows: 0, cols: 2, data: new Float64Array(0) }, new Int32Array(0), 2, {})).toThrow(RangeError);
    expect(() => fit(x, y, 2, { max_features: 3 })).toThrow('max_features 3 exceeds the 2 features');
    for (const bad of [Number.NaN, Infinity]) {
      const data = Float64Array.from(x.data);
      data[5] = bad;
      expect(() => fit({ ...x, data }, y, 2, {})).toThrow('feature 1 has non-finite values');
    }
  });
});
