import type { FeatureMatrix } from '../src/matrix';
import { randomForest, type RandomForestParams } from '../src/random-forest';
import { createRng } from '../src/random';
import { blobs } from './blobs';

// The prediction walk keeps its own in-memory form of the trees (packed child references,
// several rows walked at once). These tests hold it to the stored form: the probabilities of
// a plain row-at-a-time walk of the stored arrays, bit for bit, and the stored arrays back
// unchanged from `toParams`.

type Tree = RandomForestParams['trees'][number];

/**
 * scikit-learn's `predict_proba` straight from the stored arrays: per row, tree after tree,
 * the leaf's class fractions summed in tree order, then scaled by 1 / trees.
 */
function referenceProba(params: RandomForestParams, x: FeatureMatrix): Float64Array {
  const k = params.n_classes;
  const out = new Float64Array(x.rows * k);
  for (const tree of params.trees) {
    // The offset of each leaf's fractions in `value`: leaves in node order.
    const offset: number[] = [];
    let leaves = 0;
    for (const f of tree.feature) offset.push(f === -1 ? k * leaves++ : -1);
    for (let r = 0; r < x.rows; r++) {
      let node = 0;
      while ((tree.feature[node] as number) >= 0) {
        const v = x.data[r * x.cols + (tree.feature[node] as number)] as number;
        node = v <= (tree.threshold[node] as number) ? (tree.left[node] as number) : (tree.right[node] as number);
      }
      for (let c = 0; c < k; c++) out[r * k + c] = (out[r * k + c] as number) + (tree.value[(offset[node] as number) + c] as number);
    }
  }
  const inv = 1 / params.trees.length;
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) * inv;
  return out;
}

function rowsOf(x: FeatureMatrix, start: number, end: number): FeatureMatrix {
  return { rows: end - start, cols: x.cols, data: x.data.slice(start * x.cols, end * x.cols) };
}

/** The same rows with `extra` leading columns of zeros, so the blobs' features sit at high indices. */
function shifted(x: FeatureMatrix, extra: number): FeatureMatrix {
  const cols = x.cols + extra;
  const data = new Float64Array(x.rows * cols);
  for (let r = 0; r < x.rows; r++) data.set(x.data.subarray(r * x.cols, (r + 1) * x.cols), r * cols + extra);
  return { rows: x.rows, cols, data };
}

describe('randomForest prediction walk', () => {
  it('gives a row-at-a-time walk of the stored trees bit for bit, for any row count', () => {
    const { x, y } = blobs(403, [[0, 0, 0], [1, 0, 0], [0, 1, 1]], 1, 11);
    const { model } = randomForest.fit({ x, y, nClasses: 3, hyperparameters: randomForest.hyperparametersSchema.parse({ n_estimators: 12 }), seed: 3 });
    const params = randomForest.paramsSchema.parse(model.toParams());
    expect(Array.from(model.predictProba(x))).toEqual(Array.from(referenceProba(params, x)));
    // A value equal to a threshold goes left: rows whose every feature is one of the splits'
    // thresholds.
    const thresholds = params.trees.flatMap((t) => t.threshold.filter((_, i) => (t.feature[i] as number) >= 0)).slice(0, 40);
    const tieRows: FeatureMatrix = { rows: thresholds.length, cols: 3, data: Float64Array.from(thresholds.flatMap((v) => [v, v, v])) };
    expect(Array.from(model.predictProba(tieRows))).toEqual(Array.from(referenceProba(params, tieRows)));
    // Rows are walked in groups: every count of rows left over, alone and after full groups.
    for (const [start, end] of [[0, 1], [5, 7], [10, 13], [20, 24], [0, 9], [398, 403]] as const) {
      const part = rowsOf(x, start, end);
      expect(Array.from(model.predictProba(part))).toEqual(Array.from(referenceProba(params, part)));
    }
  });

  it('walks trees that split on features beyond the packed references (1,024 and up)', () => {
    const base = blobs(240, [[0, 0], [2, 0], [0, 2]], 0.8, 12);
    const x = shifted(base.x, 1500);
    const { model } = randomForest.fit({
      x,
      y: base.y,
      nClasses: 3,
      hyperparameters: randomForest.hyperparametersSchema.parse({ n_estimators: 4, max_features: null }),
      seed: 5,
    });
    const params = randomForest.paramsSchema.parse(model.toParams());
    // Every other column is constant: all splits are on columns 1500 and 1501.
    for (const tree of params.trees) for (const f of tree.feature) expect(f === -1 || f >= 1500).toBe(true);
    expect(params.trees.some((t) => t.feature.length > 1)).toBe(true);
    const expected = Array.from(referenceProba(params, x));
    expect(Array.from(model.predictProba(x))).toEqual(expected);
    const loaded = randomForest.load(params);
    expect(Array.from(loaded.predictProba(x))).toEqual(expected);
    expect(loaded.toParams()).toEqual(params);
  });

  it('returns stored trees unchanged: any valid node numbering, leaf thresholds kept', () => {
    // Not in pre-order (root's left child is node 3), leaves with scikit-learn's threshold -2,
    // and a second tree on a feature too wide to pack.
    const reordered: Tree = {
      feature: [0, 1, -1, -1, -1],
      threshold: [0.5, -1, -2, -2, -2],
      left: [3, 4, -1, -1, -1],
      right: [1, 2, -1, -1, -1],
      value: [0.25, 0.75, 1, 0, 0, 1],
    };
    const wide: Tree = {
      feature: [1999, -1, 3, -1, -1],
      threshold: [0, 7, 1.5, 0, -0],
      left: [1, -1, 3, -1, -1],
      right: [2, -1, 4, -1, -1],
      value: [1, 0, 0.5, 0.5, 0, 1],
    };
    const single: Tree = { feature: [-1], threshold: [3], left: [-1], right: [-1], value: [0.5, 0.5] };
    const params = randomForest.paramsSchema.parse({ n_classes: 2, n_features: 2000, trees: [reordered, wide, single] });
    const model = randomForest.load(params);
    expect(model.toParams()).toEqual(params);
    expect(JSON.stringify(model.toParams())).toBe(JSON.stringify(params));

    const rng = createRng(9);
    const rows = 37;
    const data = new Float64Array(rows * 2000);
    for (let i = 0; i < data.length; i++) data[i] = rng.normal() * 2;
    // Values on the thresholds (they go left), -0 against the threshold 0 included.
    for (const [r, f, v] of [[0, 0, 0.5], [1, 1, -1], [1, 0, 1], [2, 1999, 0], [3, 1999, -0], [3, 3, 1.5], [4, 1999, 1], [4, 3, 1.5]] as const) data[r * 2000 + f] = v;
    const x: FeatureMatrix = { rows, cols: 2000, data };
    expect(Array.from(model.predictProba(x))).toEqual(Array.from(referenceProba(params, x)));
  });
});
