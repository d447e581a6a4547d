import { z } from 'zod';
import type { ClassifierAlgorithm, FitReport, TrainedClassifier } from './classifier';
import { KnnScreen, TILE_ROWS } from './knn-screen';
import type { FeatureMatrix } from './matrix';

/** Hyperparameters of {@link knn}; defaults are scikit-learn's `KNeighborsClassifier()`. */
export const knnHyperparametersSchema = z.strictObject({
  /** Neighbours consulted per prediction (scikit-learn's `n_neighbors`); at most the number of training rows. */
  k: z.number().int().min(1).max(1000).default(5),
  /** `uniform`: each neighbour votes 1; `distance`: each votes 1 / distance, and a training row at distance 0 takes all the weight. */
  weights: z.enum(['uniform', 'distance']).default('uniform'),
});

/** Validated hyperparameters of {@link knn}. */
export type KnnHyperparameters = z.infer<typeof knnHyperparametersSchema>;

/**
 * Training rows as arrays of numbers. Only the outer shape is checked here; every value is
 * checked by {@link knnParamsSchema}'s refinement in one plain loop, because zod's per-element
 * parse costs about 100 ns a number: 150 ms for 80,000 rows of 20, on every load.
 */
const rowsSchema = z.custom<number[][]>((v) => Array.isArray(v) && v.every((row) => Array.isArray(row)), {
  message: 'x must be an array of rows (arrays of numbers)',
});

/** Stored parameters of a fitted {@link knn} model: the hyperparameters and the training set itself. */
export const knnParamsSchema = z
  .strictObject({
    n_classes: z.number().int().min(2),
    n_features: z.number().int().min(1),
    k: knnHyperparametersSchema.shape.k.unwrap(),
    weights: knnHyperparametersSchema.shape.weights.unwrap(),
    /** Training rows, raw features, each `n_features` finite numbers. */
    x: rowsSchema,
    /** Class index of each training row. */
    y: z.array(z.number().int().min(0)),
  })
  .superRefine((p, ctx) => {
    const issue = (message: string, path: (string | number)[]): void => {
      ctx.addIssue({ code: 'custom', message, path });
    };
    if (p.x.length === 0) issue('x must have at least one row', ['x']);
    if (p.y.length !== p.x.length) issue(`y must have one label per row of x (${p.x.length}), got ${p.y.length}`, ['y']);
    if (p.k > p.x.length) issue(`k (${p.k}) exceeds the ${p.x.length} training rows`, ['k']);
    // First offender only: a corrupt artifact with 80,000 bad rows should not give 80,000 issues.
    const badRow = p.x.findIndex((row) => row.length !== p.n_features || !row.every((v) => typeof v === 'number' && Math.abs(v) <= MAX_ABS_FEATURE));
    if (badRow >= 0) {
      const row = p.x[badRow] as unknown[];
      issue(
        row.length !== p.n_features
          ? `row ${badRow} has ${row.length} values, expected ${p.n_features}`
          : `row ${badRow} has a value that is not a finite number within ±${MAX_ABS_FEATURE}`,
        ['x', badRow],
      );
    }
    const badLabel = p.y.findIndex((label) => label >= p.n_classes);
    if (badLabel >= 0) issue(`label ${p.y[badLabel]} outside [0, ${p.n_classes})`, ['y', badLabel]);
  });

/** Validated parameters of a fitted {@link knn} model. */
export type KnnParams = z.infer<typeof knnParamsSchema>;

/**
 * Largest feature magnitude accepted: squared norms of rows of up to millions of such features
 * stay finite, which the screening arithmetic needs (an overflowed screen would skip rows).
 */
const MAX_ABS_FEATURE = 1e100;

/** Queries searched together: their heaps and centered rows stay in L1 while training rows stream past. */
const QUERY_BLOCK = 64;

/**
 * Training rows per block: about 32 KiB of features (an L1 data cache) streamed past a block
 * of queries, a multiple of the kernel's {@link TILE_ROWS}; limits are refreshed between blocks.
 */
function trainingBlock(d: number): number {
  return Math.max(1, Math.floor(4096 / Math.max(1, d) / TILE_ROWS)) * TILE_ROWS;
}

/**
 * Relative slack for the screening test. The screen compares `||t||² - 2 q·t` (centered) with
 * `tau - ||q||²`, tau the k-th exact squared distance so far. With `B = (||q|| + max ||t||)²`
 * (centered) and u = 2^-53, the rounding of the dot product and norms is at most about
 * `(2d + 1) u B`, of centering q and t `2 u B`, of `||q||²` `d u B`, of the exact distance
 * `(d + 2) u tau`: in all under `(4d + 5) u B` as tau <= B. The limit allows
 * `(6d + 16) u (B + tau)`, so a row whose exact distance beats the k-th is never screened out;
 * a row let through needlessly only costs one exact distance.
 */
function screenSlack(d: number): number {
  return (6 * d + 16) * 2 ** -53;
}

/**
 * Sets, for query `qi` of the block, the screening limit on `||t||² - 2 q·t` from the current
 * k-th smallest exact distance (the heap root), or +Infinity while the heap is not full.
 */
function updateLimit(qi: number, k: number, size: Int32Array, heapD: Float64Array, qNorm: Float64Array, qBound: Float64Array, slack: number, limit: Float64Array): void {
  if ((size[qi] as number) < k) {
    limit[qi] = Infinity;
    return;
  }
  const tau = heapD[qi * k] as number;
  limit[qi] = tau - (qNorm[qi] as number) + slack * ((qBound[qi] as number) + tau);
}

/**
 * Offers training row `t` to query `qi`'s heap: computes the exact squared distance on the raw
 * features (so exact duplicates give exactly 0 whatever the centering did) and keeps it if it
 * beats the root. The heap is a max-heap on (distance, row), so of equal distances the later
 * row is evicted first; rows arrive in increasing order, hence a new row that only ties the
 * root is refused. Together these keep exactly the first k of a stable sort by distance.
 */
function offer(
  qi: number,
  t: number,
  queries: Float64Array,
  qRow: number,
  x: Float64Array,
  d: number,
  k: number,
  size: Int32Array,
  heapD: Float64Array,
  heapI: Int32Array,
  qNorm: Float64Array,
  qBound: Float64Array,
  slack: number,
  limit: Float64Array,
): void {
  const qo = qRow * d;
  const xo = t * d;
  let dist = 0;
  for (let j = 0; j < d; j++) {
    const e = (queries[qo + j] as number) - (x[xo + j] as number);
    dist += e * e;
  }
  const h = qi * k;
  const n = size[qi] as number;
  if (n < k) {
    // Sift up from the new leaf. Its row index is the largest, so it outranks an equal distance.
    let c = n;
    while (c > 0) {
      const p = (c - 1) >> 1;
      if ((heapD[h + p] as number) > dist) break;
      heapD[h + c] = heapD[h + p] as number;
      heapI[h + c] = heapI[h + p] as number;
      c = p;
    }
    heapD[h + c] = dist;
    heapI[h + c] = t;
    size[qi] = n + 1;
    if (n + 1 === k) updateLimit(qi, k, size, heapD, qNorm, qBound, slack, limit);
    return;
  }
  if (dist >= (heapD[h] as number)) return;
  siftDown(heapD, heapI, h, k, dist, t);
  updateLimit(qi, k, size, heapD, qNorm, qBound, slack, limit);
}

/** Replaces the root of the max-heap at `h` (ordered by distance, then row) and restores order. */
function siftDown(heapD: Float64Array, heapI: Int32Array, h: number, size: number, dist: number, row: number): void {
  let c = 0;
  for (;;) {
    const l = 2 * c + 1;
    if (l >= size) break;
    let m = l;
    const r = l + 1;
    if (r < size) {
      const dl = heapD[h + l] as number;
      const dr = heapD[h + r] as number;
      if (dr > dl || (dr === dl && (heapI[h + r] as number) > (heapI[h + l] as number))) m = r;
    }
    const dm = heapD[h + m] as number;
    if (dm < dist || (dm === dist && (heapI[h + m] as number) < row)) break;
    heapD[h + c] = dm;
    heapI[h + c] = heapI[h + m] as number;
    c = m;
  }
  heapD[h + c] = dist;
  heapI[h + c] = row;
}

/** Scratch of one {@link searchBlock} call, allocated once per `predictProba`. */
interface SearchScratch {
  /** Centered queries of the block, row-major. */
  qc: Float64Array;
  /** `||q - mean||²` per query, as accumulated here. */
  qNorm: Float64Array;
  /** `(||q - mean|| + max ||t - mean||)²` per query: scale of the screening error. */
  qBound: Float64Array;
  size: Int32Array;
  heapD: Float64Array;
  heapI: Int32Array;
}

/**
 * Finds the k nearest training rows of queries `q0 .. q0 + m` into the scratch heaps.
 *
 * Distances are screened with `||t||² - 2 q·t` on centered features (centering keeps that
 * difference of large numbers small when features have offsets) by {@link KnnScreen}, one
 * block of training rows at a time; only the few rows passing the screen get an exact
 * distance ({@link offer}). The limits are those of the heaps at the start of each block (the
 * screen does not see the offers made during it): a stale limit only lets more candidates
 * through, each re-checked here against the current one. Candidates come in increasing row
 * order for every query, as {@link offer} requires.
 */
function searchBlock(
  x: Float64Array,
  screener: KnnScreen,
  maxNorm: number,
  mean: Float64Array,
  n: number,
  d: number,
  k: number,
  queries: Float64Array,
  q0: number,
  m: number,
  s: SearchScratch,
): void {
  const { qc, qNorm, qBound, size, heapD, heapI } = s;
  const limit = screener.limits;
  const slack = screenSlack(d);
  for (let i = 0; i < m; i++) {
    let norm = 0;
    for (let j = 0; j < d; j++) {
      const v = (queries[(q0 + i) * d + j] as number) - (mean[j] as number);
      qc[i * d + j] = v;
      norm += v * v;
    }
    qNorm[i] = norm;
    const b = Math.sqrt(norm) + maxNorm;
    qBound[i] = b * b;
    size[i] = 0;
    limit[i] = Infinity;
  }
  screener.setQueries(qc, m);
  const index = screener.candidateIndex;
  const value = screener.candidateValue;
  const tb = trainingBlock(d);
  for (let t0 = 0; t0 < n; t0 += tb) {
    const count = screener.screen(t0, Math.min(n, t0 + tb));
    for (let c = 0; c < count; c++) {
      const qi = index[4 * c] as number;
      if ((value[2 * c + 1] as number) < (limit[qi] as number)) {
        offer(qi, index[4 * c + 1] as number, queries, q0 + qi, x, d, k, size, heapD, heapI, qNorm, qBound, slack, limit);
      }
    }
  }
}

/**
 * Turns query `qi`'s heap into its row of probabilities at `out[o ..]`, as scikit-learn's
 * `predict_proba`: neighbours taken nearest first (the heap is emptied into `order` from its
 * largest), votes summed per class in that order, then divided by their total.
 */
function vote(
  qi: number,
  k: number,
  heapD: Float64Array,
  heapI: Int32Array,
  y: Int32Array,
  distanceWeights: boolean,
  nClasses: number,
  orderD: Float64Array,
  orderI: Int32Array,
  out: Float64Array,
  o: number,
): void {
  const h = qi * k;
  for (let size = k; size > 0; size--) {
    orderD[size - 1] = heapD[h] as number;
    orderI[size - 1] = heapI[h] as number;
    const lastD = heapD[h + size - 1] as number;
    const lastI = heapI[h + size - 1] as number;
    siftDown(heapD, heapI, h, size - 1, lastD, lastI);
  }
  // A training row at distance 0 takes all the weight (shared with any other such rows), as
  // scikit-learn's 1 / 0 = inf rule does; otherwise each neighbour weighs 1 or 1 / distance.
  const exact = distanceWeights && orderD[0] === 0;
  for (let c = 0; c < k; c++) {
    const dist = orderD[c] as number;
    let w = 1;
    if (exact) w = dist === 0 ? 1 : 0;
    else if (distanceWeights) w = 1 / Math.sqrt(dist);
    const label = y[orderI[c] as number] as number;
    out[o + label] = (out[o + label] as number) + w;
  }
  let total = 0;
  for (let c = 0; c < nClasses; c++) total += out[o + c] as number;
  for (let c = 0; c < nClasses; c++) out[o + c] = (out[o + c] as number) / total;
}

/** A fitted kNN model: the training rows themselves, plus derived arrays for the search. */
class KnnClassifier implements TrainedClassifier {
  readonly algorithm = 'knn';
  readonly nClasses: number;
  readonly nFeatures: number;
  private readonly k: number;
  private readonly weights: KnnHyperparameters['weights'];
  /** Raw training rows, `n x nFeatures`; exact distances are computed on these. */
  private readonly x: Float64Array;
  private readonly y: Int32Array;
  private readonly n: number;
  /** Column means of the training rows: centering point of the screening arithmetic. */
  private readonly mean: Float64Array;
  /** The training rows centered, as the screening kernel reads them. */
  private readonly screener: KnnScreen;
  private readonly maxNorm: number;

  /** Takes ownership of `x` and `y`. */
  constructor(x: Float64Array, y: Int32Array, nClasses: number, nFeatures: number, k: number, weights: KnnHyperparameters['weights']) {
    this.x = x;
    this.y = y;
    this.n = y.length;
    this.nClasses = nClasses;
    this.nFeatures = nFeatures;
    this.k = k;
    this.weights = weights;
    const d = nFeatures;
    const n = this.n;
    this.mean = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) this.mean[j] = (this.mean[j] as number) + (x[i * d + j] as number);
    for (let j = 0; j < d; j++) this.mean[j] = (this.mean[j] as number) / n;
    this.screener = new KnnScreen(x, this.mean, n, d, QUERY_BLOCK, trainingBlock(d));
    this.maxNorm = this.screener.maxNorm;
  }

  predictProba(q: FeatureMatrix): Float64Array {
    const d = this.nFeatures;
    if (q.cols !== d) throw new RangeError(`model expects ${d} features, got ${q.cols}`);
    const data = q.data;
    // A NaN or overflowed screen compares false with everything and would leave heaps half empty.
    for (let i = 0; i < q.rows * d; i++) {
      if (!(Math.abs(data[i] as number) <= MAX_ABS_FEATURE)) {
        throw new RangeError(`query row ${Math.floor(i / d)} feature ${i % d} is not a finite number within ±${MAX_ABS_FEATURE}`);
      }
    }
    const k = this.k;
    const nClasses = this.nClasses;
    const out = new Float64Array(q.rows * nClasses);
    const block = Math.max(1, Math.min(q.rows, QUERY_BLOCK));
    const scratch: SearchScratch = {
      qc: new Float64Array(block * d),
      qNorm: new Float64Array(block),
      qBound: new Float64Array(block),
      size: new Int32Array(block),
      heapD: new Float64Array(block * k),
      heapI: new Int32Array(block * k),
    };
    const orderD = new Float64Array(k);
    const orderI = new Int32Array(k);
    const distanceWeights = this.weights === 'distance';
    for (let q0 = 0; q0 < q.rows; q0 += block) {
      const m = Math.min(q.rows, q0 + block) - q0;
      searchBlock(this.x, this.screener, this.maxNorm, this.mean, this.n, d, k, data, q0, m, scratch);
      for (let i = 0; i < m; i++) {
        vote(i, k, scratch.heapD, scratch.heapI, this.y, distanceWeights, nClasses, orderD, orderI, out, (q0 + i) * nClasses);
      }
    }
    return out;
  }

  toParams(): KnnParams {
    const d = this.nFeatures;
    return {
      n_classes: this.nClasses,
      n_features: d,
      k: this.k,
      weights: this.weights,
      x: Array.from({ length: this.n }, (_, i) => Array.from(this.x.subarray(i * d, (i + 1) * d))),
      y: Array.from(this.y),
    };
  }
}

/**
 * k nearest neighbours by Euclidean distance over the raw features it is given (scaling is
 * the preprocessing pipeline's job), exact brute-force search. The neighbours are exactly the
 * first k of a stable sort by distance (of rows at equal distance, the earlier training row),
 * with distances computed directly, `Σ (q - t)²`; scikit-learn's
 * `KNeighborsClassifier(algorithm='brute')` keeps the same rows and gives the same
 * probabilities, up to the rounding of its `||a||² + ||b||² - 2 a·b` distances (about 1e-13
 * relative on iris), which can only matter for rows tied to that precision.
 *
 * `k` larger than the training set is refused (RangeError), as scikit-learn refuses it:
 * clamping would quietly fit a different model than the one asked for (at k = n every input
 * gets the class frequencies).
 */
export const knn: ClassifierAlgorithm<KnnHyperparameters, KnnParams> = {
  name: 'knn',
  description: 'k nearest neighbours (Euclidean, brute force), votes uniform or weighted by 1/distance',
  hyperparametersSchema: knnHyperparametersSchema,
  // Distances add squared differences of all features: unscaled, the widest feature decides.
  needsScaling: true,
  paramsSchema: knnParamsSchema,

  fit({ x, y, nClasses, hyperparameters, onProgress }) {
    if (x.rows === 0) throw new RangeError('cannot fit on zero rows');
    if (y.length !== x.rows) throw new RangeError(`${x.rows} rows but ${y.length} labels`);
    if (x.cols < 1) throw new RangeError('need at least one feature');
    if (!Number.isInteger(nClasses) || nClasses < 2) throw new RangeError(`need at least 2 classes, got ${nClasses}`);
    const { k, weights } = hyperparameters;
    if (k > x.rows) throw new RangeError(`k = ${k} exceeds the ${x.rows} training rows; lower k or add rows`);
    for (let i = 0; i < y.length; i++) {
      const label = y[i] as number;
      if (label < 0 || label >= nClasses) throw new RangeError(`label ${label} at row ${i} outside [0, ${nClasses})`);
    }
    const data = x.data;
    for (let i = 0; i < x.rows * x.cols; i++) {
      if (!(Math.abs(data[i] as number) <= MAX_ABS_FEATURE)) {
        throw new RangeError(`feature ${i % x.cols} has values that are not finite numbers within ±${MAX_ABS_FEATURE}`);
      }
    }
    // Copies: the model must not change if the caller reuses its buffers.
    const model = new KnnClassifier(data.slice(0, x.rows * x.cols), Int32Array.from(y), nClasses, x.cols, k, weights);
    onProgress?.(1);
    const report: FitReport = { iterations: 1, converged: true, final_loss: null };
    return { model, report };
  },

  load(params) {
    const p = knnParamsSchema.parse(params);
    const d = p.n_features;
    const x = new Float64Array(p.x.length * d);
    p.x.forEach((row, i) => x.set(row, i * d));
    return new KnnClassifier(x, Int32Array.from(p.y), p.n_classes, d, p.k, p.weights);
  },
};
