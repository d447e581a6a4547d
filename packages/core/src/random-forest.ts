import { z } from 'zod';
import type { ClassifierAlgorithm, FitReport, TrainedClassifier } from './classifier';
import type { FeatureMatrix } from './matrix';
import { createRng, type Rng } from './random';

// Module-level copies: under jest's vm sandbox every lookup of the global `Math` is slow.
const { clz32, floor, log2, max, sqrt } = Math;

/**
 * Bins per feature. A feature with at most this many distinct training values gets one bin
 * per value, so its splits are exactly CART's; beyond, bins hold equal shares of the rows.
 * 256 is what a Uint8 code holds.
 */
const MAX_BINS = 256;
/** 32-bit words of the per-feature bitmap of occupied bins. */
const BIT_WORDS = MAX_BINS / 32;

/**
 * Hyperparameters of {@link randomForest}; defaults are scikit-learn's
 * `RandomForestClassifier()` (criterion gini).
 */
export const randomForestHyperparametersSchema = z.strictObject({
  /** Trees in the forest. */
  n_estimators: z.number().int().min(1).max(1000).default(100),
  /** Deepest level a tree may reach (the root is depth 0); null grows until leaves are pure or too small to split. */
  max_depth: z.number().int().min(1).max(1000).nullable().default(null),
  /** A node with fewer (distinct) training rows than this becomes a leaf. */
  min_samples_split: z.number().int().min(2).max(1_000_000).default(2),
  /** Neither side of a split may have fewer (distinct) training rows than this. */
  min_samples_leaf: z.number().int().min(1).max(1_000_000).default(1),
  /**
   * Features drawn afresh at every split: `'sqrt'` or `'log2'` of the feature count (at least
   * 1), an integer count (at most the feature count, checked at fit time), a fraction in
   * (0, 1) of the feature count, or null for all features (scikit-learn's None). JSON cannot
   * tell `1` from `1.0`, so `1` is a count (one feature); write null for all features.
   */
  max_features: z
    .union([z.literal('sqrt'), z.literal('log2'), z.null(), z.number().int().min(1).max(1_000_000), z.number().gt(0).lt(1)])
    .default('sqrt'),
  /** Each tree learns from n rows drawn with replacement (true) or from all rows (false). */
  bootstrap: z.boolean().default(true),
});

/** Validated hyperparameters of {@link randomForest}. */
export type RandomForestHyperparameters = z.infer<typeof randomForestHyperparametersSchema>;

/**
 * One tree as parallel arrays indexed by node, the root first and every child after its
 * parent (fitted trees are numbered depth-first, left subtree first, as scikit-learn's). A
 * split node sends a row left when `x[feature] <= threshold`. A leaf has `feature` -1, `left`
 * and `right` -1 and threshold 0 (unused); its class fractions are the next `n_classes`
 * values of `value`, leaves taken in node order.
 */
const treeParamsSchema = z.strictObject({
  feature: z.array(z.number()),
  threshold: z.array(z.number()),
  left: z.array(z.number()),
  right: z.array(z.number()),
  value: z.array(z.number()),
});

/** Stored parameters of a fitted {@link randomForest}. */
export const randomForestParamsSchema = z
  .strictObject({
    n_classes: z.number().int().min(2),
    n_features: z.number().int().min(1),
    trees: z.array(treeParamsSchema).min(1).max(1000),
  })
  .superRefine((p, ctx) => {
    p.trees.forEach((tree, t) => {
      const problem = checkTree(tree, p.n_classes, p.n_features);
      if (problem) ctx.addIssue({ code: 'custom', message: `tree ${t}: ${problem.message}`, path: ['trees', t, ...problem.path] });
    });
  });

/** Validated parameters of a fitted {@link randomForest}. */
export type RandomForestParams = z.infer<typeof randomForestParamsSchema>;

type TreeParams = z.infer<typeof treeParamsSchema>;

/**
 * The first structural problem of a stored tree, or undefined. The first only: a corrupt
 * forest of a million nodes must not produce a million messages.
 */
function checkTree(tree: TreeParams, nClasses: number, nFeatures: number): { message: string; path: (string | number)[] } | undefined {
  const { feature, threshold, left, right, value } = tree;
  const n = feature.length;
  if (n === 0) return { message: 'has no nodes', path: ['feature'] };
  for (const [name, a] of [['threshold', threshold], ['left', left], ['right', right]] as const) {
    if (a.length !== n) return { message: `${name} has ${a.length} entries, feature has ${n}`, path: [name] };
  }
  // Pre-order means every child index is above its parent's, so walks terminate; a parent
  // count of exactly one for every node but the root makes the nodes one tree.
  const hasParent = new Uint8Array(n);
  let leaves = 0;
  for (let i = 0; i < n; i++) {
    const f = feature[i] as number;
    const l = left[i] as number;
    const r = right[i] as number;
    if (!Number.isInteger(f) || f < -1 || f >= nFeatures) return { message: `node ${i}: feature ${f} outside [-1, ${nFeatures})`, path: ['feature', i] };
    if (f === -1) {
      if (l !== -1 || r !== -1) return { message: `leaf ${i} must have children -1, got ${l} and ${r}`, path: ['left', i] };
      leaves++;
      continue;
    }
    const problem = adoptChild(hasParent, i, l, 'left') ?? adoptChild(hasParent, i, r, 'right');
    if (problem) return problem;
  }
  for (let i = 1; i < n; i++) if (hasParent[i] === 0) return { message: `node ${i} has no parent`, path: ['feature', i] };
  if (value.length !== leaves * nClasses) {
    return { message: `value has ${value.length} entries, expected ${leaves} leaves x ${nClasses} classes`, path: ['value'] };
  }
  for (let leaf = 0; leaf < leaves; leaf++) {
    let sum = 0;
    for (let k = 0; k < nClasses; k++) {
      const v = value[leaf * nClasses + k] as number;
      if (!(v >= 0 && v <= 1)) return { message: `leaf ${leaf}: probability ${v} outside [0, 1]`, path: ['value', leaf * nClasses + k] };
      sum += v;
    }
    if (Math.abs(sum - 1) > 1e-9) return { message: `leaf ${leaf}: probabilities sum to ${sum}, not 1`, path: ['value', leaf * nClasses] };
  }
  return undefined;
}

/** Records `child` as a child of `node`, or says why it cannot be one. */
function adoptChild(hasParent: Uint8Array, node: number, child: number, side: 'left' | 'right'): { message: string; path: (string | number)[] } | undefined {
  const n = hasParent.length;
  if (!Number.isInteger(child) || child <= node || child >= n) {
    return { message: `node ${node}: ${side} child ${child} outside (${node}, ${n})`, path: [side, node] };
  }
  if (hasParent[child] === 1) return { message: `node ${child} has two parents`, path: [side, node] };
  hasParent[child] = 1;
  return undefined;
}

/**
 * Low bits of a packed child reference that hold the child's split feature. A walk then
 * reads the row's feature and the threshold in parallel straight from the reference instead
 * of after a load of the node's feature, one dependent load fewer per level (15-20 % off
 * prediction, measured). Ten bits allow 1,024 features and 2^21 split nodes; a larger tree
 * keeps its features apart (`FlatTree.splitFeature`). The width is fixed, not fitted to the
 * feature count: shifts by a variable amount measured some 10 % slower.
 */
const FEATURE_BITS = 10;
const FEATURE_MASK = (1 << FEATURE_BITS) - 1;
/** Most split nodes a packed tree may have: the reference of the last must stay a positive int32. */
const MAX_PACKED_SPLITS = 2 ** (31 - FEATURE_BITS);

/**
 * A tree in the form prediction walks. Split nodes are numbered apart from leaves (each kind
 * in node order), so `split` and `child` hold split nodes only: half the bytes a walk would
 * otherwise pull through the cache.
 *
 * A child reference is `~offset` for a leaf, `offset` being where its class fractions start
 * in `value`; for split node `s` it is `(s << FEATURE_BITS) | feature` when the tree is
 * packed (`splitFeature` null: every feature below 2^FEATURE_BITS and at most
 * {@link MAX_PACKED_SPLITS} splits), else `s` with its feature in `splitFeature[s]`.
 *
 * `feature` and `threshold` are the stored arrays, indexed by node (leaves included): they
 * keep the stored node numbering and leaf thresholds for {@link toTreeParams}.
 */
interface FlatTree {
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  /** Threshold of each split node. */
  readonly split: Float64Array;
  /** Per split node: the reference of its left child, then of its right child. */
  readonly child: Int32Array;
  /** Feature of each split node, for a tree too large to pack; null when packed. */
  readonly splitFeature: Int32Array | null;
  /** Reference of the root. */
  readonly root: number;
  readonly value: Float64Array;
}

/**
 * Builds the walk form of a tree from its stored arrays (leaves with feature -1 and children
 * -1, class fractions in `value` leaf after leaf in node order).
 */
function compileTree(
  feature: Int32Array,
  threshold: Float64Array,
  left: ArrayLike<number>,
  right: ArrayLike<number>,
  value: Float64Array,
  nClasses: number,
): FlatTree {
  const n = feature.length;
  // Per node: its split number, or ~offset of its class fractions for a leaf.
  const rank = new Int32Array(n);
  let splits = 0;
  let leaves = 0;
  let widest = 0;
  for (let i = 0; i < n; i++) {
    const f = feature[i] as number;
    if (f === -1) {
      rank[i] = ~(nClasses * leaves++);
      continue;
    }
    rank[i] = splits++;
    if (f > widest) widest = f;
  }
  const packed = widest <= FEATURE_MASK && splits <= MAX_PACKED_SPLITS;
  const ref = (node: number): number => {
    const r = rank[node] as number;
    return r < 0 || !packed ? r : (r << FEATURE_BITS) | (feature[node] as number);
  };
  const split = new Float64Array(splits);
  const child = new Int32Array(2 * splits);
  const splitFeature = packed ? null : new Int32Array(splits);
  for (let i = 0; i < n; i++) {
    const s = rank[i] as number;
    if (s < 0) continue;
    split[s] = threshold[i] as number;
    child[2 * s] = ref(left[i] as number);
    child[2 * s + 1] = ref(right[i] as number);
    if (splitFeature) splitFeature[s] = feature[i] as number;
  }
  return { feature, threshold, split, child, splitFeature, root: ref(0), value };
}

/** The stored arrays of a tree, as {@link compileTree} received them. */
function toTreeParams(t: FlatTree, nClasses: number): TreeParams {
  const { feature, child } = t;
  const n = feature.length;
  // References name split nodes and leaves by their rank; stored trees name nodes by index.
  const splitNode: number[] = [];
  const leafNode: number[] = [];
  for (let i = 0; i < n; i++) (feature[i] === -1 ? leafNode : splitNode).push(i);
  const nodeOf = (ref: number): number => {
    if (ref < 0) return leafNode[~ref / nClasses] as number;
    return splitNode[t.splitFeature === null ? ref >> FEATURE_BITS : ref] as number;
  };
  const left = new Array<number>(n);
  const right = new Array<number>(n);
  for (let i = 0, s = 0; i < n; i++) {
    if (feature[i] === -1) {
      left[i] = -1;
      right[i] = -1;
      continue;
    }
    left[i] = nodeOf(child[2 * s] as number);
    right[i] = nodeOf(child[2 * s + 1] as number);
    s++;
  }
  return { feature: Array.from(feature), threshold: Array.from(t.threshold), left, right, value: Array.from(t.value) };
}

/**
 * Features quantized once per fit, shared by every tree.
 *
 * `codes` is column-major (`codes[j * n + i]`) so that a node's histogram for one feature
 * reads one contiguous column. `lo`/`hi` hold, per feature and bin, the smallest and largest
 * training value in the bin: a split between two occupied bins gets the threshold halfway
 * across the gap between them, as CART puts it halfway between neighbouring values.
 */
interface Binned {
  readonly codes: Uint8Array;
  readonly lo: Float64Array;
  readonly hi: Float64Array;
}

/**
 * Quantizes every feature into at most {@link MAX_BINS} bins.
 *
 * @throws RangeError when a feature has a non-finite value.
 */
function binFeatures(x: FeatureMatrix): Binned {
  const { rows: n, cols: d, data } = x;
  const codes = new Uint8Array(n * d);
  const lo = new Float64Array(d * MAX_BINS);
  const hi = new Float64Array(d * MAX_BINS);
  const column = new Float64Array(n);
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < n; i++) column[i] = data[i * d + j] as number;
    const sorted = Float64Array.from(column).sort();
    // Sorting puts NaN last; infinities are at the ends.
    if (!Number.isFinite(sorted[0]) || !Number.isFinite(sorted[n - 1])) {
      throw new RangeError(`feature ${j} has non-finite values`);
    }
    const bins = fillBinRanges(sorted, lo, hi, j * MAX_BINS);
    encodeColumn(column, hi, j * MAX_BINS, bins, codes, j * n);
  }
  return { codes, lo, hi };
}

/**
 * Cuts sorted values into bins of whole distinct values and writes each bin's value range at
 * `lo`/`hi[base + b]`; returns the bin count. A bin closes once it holds its share of the rows
 * not yet binned, so one heavy value does not starve the bins after it.
 */
function fillBinRanges(sorted: Float64Array, lo: Float64Array, hi: Float64Array, base: number): number {
  const n = sorted.length;
  let distinct = 1;
  for (let i = 1; i < n; i++) if (sorted[i] !== sorted[i - 1]) distinct++;
  let bin = 0;
  lo[base] = sorted[0] as number;
  hi[base] = sorted[0] as number;
  let binStart = 0;
  for (let i = 1; i < n; i++) {
    const v = sorted[i] as number;
    if (v === sorted[i - 1]) continue;
    // One bin per distinct value when they fit; otherwise close the bin once it holds its
    // share of the remaining rows (the last bin never closes).
    const closes = distinct <= MAX_BINS || i - binStart >= (n - binStart) / (MAX_BINS - bin);
    if (closes && bin < MAX_BINS - 1) {
      bin++;
      binStart = i;
      lo[base + bin] = v;
    }
    hi[base + bin] = v;
  }
  return bin + 1;
}

/** Bin code of every value: the first bin whose largest value is at least the value. */
function encodeColumn(column: Float64Array, hi: Float64Array, base: number, bins: number, codes: Uint8Array, out: number): void {
  for (let i = 0; i < column.length; i++) {
    const v = column[i] as number;
    let a = 0;
    let b = bins - 1;
    while (a < b) {
      const mid = (a + b) >> 1;
      if ((hi[base + mid] as number) < v) a = mid + 1;
      else b = mid;
    }
    codes[out + i] = a;
  }
}

/** Halfway between two neighbouring values, as scikit-learn's CART: never rounded up onto `b`. */
function midpoint(a: number, b: number): number {
  const t = (a + b) / 2;
  return t === b || !Number.isFinite(t) ? a : t;
}

/** Features drawn at each split for a hyperparameter value and feature count. */
function featuresPerSplit(option: RandomForestHyperparameters['max_features'], d: number): number {
  if (option === null) return d;
  if (option === 'sqrt') return max(1, floor(sqrt(d)));
  if (option === 'log2') return max(1, floor(log2(d)));
  if (Number.isInteger(option)) {
    if (option > d) throw new RangeError(`max_features ${option} exceeds the ${d} features`);
    return option;
  }
  return max(1, floor(option * d));
}

/** Everything one tree's growth needs, allocated once per fit and reused by every tree. */
class TreeGrower {
  private readonly n: number;
  private readonly d: number;
  private readonly k: number;
  private readonly codes: Uint8Array;
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;
  private readonly y: Int32Array;
  private readonly mtry: number;
  private readonly maxDepth: number;
  private readonly minSplit: number;
  private readonly minLeaf: number;

  /** The node's rows (distinct rows of the tree's sample), partitioned in place by each split. */
  private readonly rows: Int32Array;
  /** Label and bootstrap multiplicity of `rows[i]`, moved with it: sequential reads in the histogram loop. */
  private readonly rowY: Int32Array;
  private readonly rowW: Int32Array;
  private readonly multiplicity: Int32Array;
  /** Per bin: the class weights, then the row count (`k + 1` slots). */
  private readonly hist: Float64Array;
  private readonly occupied: Int32Array;
  /** Running left-side class weights while scanning bins, and those of the best split. */
  private readonly leftW: Float64Array;
  private readonly bestLeftW: Float64Array;
  /** The node's class weights. */
  private readonly totals: Float64Array;

  /** scikit-learn's feature bookkeeping: a permutation whose prefix lists features known constant in the node. */
  private readonly features: Int32Array;
  private readonly constants: Int32Array;

  /** Depth-first work list, one entry per pending node. */
  private readonly stackStart: Int32Array;
  private readonly stackEnd: Int32Array;
  private readonly stackDepth: Int32Array;
  private readonly stackParent: Int32Array;
  private readonly stackIsLeft: Uint8Array;
  private readonly stackConstants: Int32Array;
  private readonly stackTotals: Float64Array;

  /** Output buffers with room for the largest possible tree (2n - 1 nodes, n leaves). */
  private readonly outFeature: Int32Array;
  private readonly outThreshold: Float64Array;
  private readonly outLeft: Int32Array;
  private readonly outRight: Int32Array;
  private readonly outValue: Float64Array;

  /** The best split found by {@link TreeGrower.searchFeature} so far in the current node. */
  private bestProxy = -Infinity;
  private bestFeature = -1;
  private bestLeftBin = -1;
  private bestRightBin = -1;
  private bestLeftRows = 0;

  constructor(binned: Binned, y: Int32Array, nFeatures: number, nClasses: number, h: RandomForestHyperparameters) {
    const n = y.length;
    this.n = n;
    this.d = nFeatures;
    this.k = nClasses;
    this.codes = binned.codes;
    this.lo = binned.lo;
    this.hi = binned.hi;
    this.y = y;
    this.mtry = featuresPerSplit(h.max_features, nFeatures);
    this.maxDepth = h.max_depth ?? Number.MAX_SAFE_INTEGER;
    this.minSplit = h.min_samples_split;
    this.minLeaf = h.min_samples_leaf;
    this.rows = new Int32Array(n);
    this.rowY = new Int32Array(n);
    this.rowW = new Int32Array(n);
    this.multiplicity = new Int32Array(n);
    this.hist = new Float64Array(MAX_BINS * (nClasses + 1));
    this.occupied = new Int32Array(BIT_WORDS);
    this.leftW = new Float64Array(nClasses);
    this.bestLeftW = new Float64Array(nClasses);
    this.totals = new Float64Array(nClasses);
    this.features = new Int32Array(nFeatures);
    this.constants = new Int32Array(nFeatures);
    // Each pop pushes at most two entries, so the list never exceeds the depth plus one.
    const stack = n + 1;
    this.stackStart = new Int32Array(stack);
    this.stackEnd = new Int32Array(stack);
    this.stackDepth = new Int32Array(stack);
    this.stackParent = new Int32Array(stack);
    this.stackIsLeft = new Uint8Array(stack);
    this.stackConstants = new Int32Array(stack);
    this.stackTotals = new Float64Array(stack * nClasses);
    const nodes = 2 * n;
    this.outFeature = new Int32Array(nodes);
    this.outThreshold = new Float64Array(nodes);
    this.outLeft = new Int32Array(nodes);
    this.outRight = new Int32Array(nodes);
    this.outValue = new Float64Array(n * nClasses);
  }

  /** Grows one tree on a bootstrap sample (or all rows) drawn with `rng`. */
  grow(rng: Rng, bootstrap: boolean): FlatTree {
    const { n, k, rows, rowY, rowW, multiplicity, y } = this;
    // Duplicates become weights, as scikit-learn passes bootstrap counts as sample weights:
    // each distinct row is scanned once however often it was drawn.
    if (bootstrap) {
      multiplicity.fill(0);
      for (let i = 0; i < n; i++) {
        const r = rng.int(n);
        multiplicity[r] = (multiplicity[r] as number) + 1;
      }
    } else {
      multiplicity.fill(1);
    }
    // The root's class weights go straight into its stack entry.
    const rootTotals = this.stackTotals;
    rootTotals.fill(0, 0, k);
    let m = 0;
    for (let i = 0; i < n; i++) {
      const w = multiplicity[i] as number;
      if (w === 0) continue;
      const label = y[i] as number;
      rows[m] = i;
      rowY[m] = label;
      rowW[m] = w;
      rootTotals[label] = (rootTotals[label] as number) + w;
      m++;
    }
    for (let j = 0; j < this.d; j++) this.features[j] = j;
    this.stackStart[0] = 0;
    this.stackEnd[0] = m;
    this.stackDepth[0] = 0;
    this.stackParent[0] = -1;
    this.stackConstants[0] = 0;
    return this.growFromStack(rng);
  }

  /** Depth-first growth, left child first, numbering nodes in pre-order as scikit-learn does. */
  private growFromStack(rng: Rng): FlatTree {
    const { k, totals } = this;
    const { outFeature, outThreshold, outLeft, outRight, outValue } = this;
    let top = 1;
    let nodes = 0;
    let leaves = 0;
    while (top > 0) {
      top--;
      const start = this.stackStart[top] as number;
      const end = this.stackEnd[top] as number;
      const depth = this.stackDepth[top] as number;
      const parent = this.stackParent[top] as number;
      const nKnownConstants = this.stackConstants[top] as number;
      let weight = 0;
      let largest = 0;
      for (let c = 0; c < k; c++) {
        const v = this.stackTotals[top * k + c] as number;
        totals[c] = v;
        weight += v;
        if (v > largest) largest = v;
      }
      const id = nodes++;
      if (parent >= 0) {
        if (this.stackIsLeft[top] === 1) outLeft[parent] = id;
        else outRight[parent] = id;
      }
      const m = end - start;
      // scikit-learn's stopping rules; a pure node (gini 0) is a leaf.
      let split = !(depth >= this.maxDepth || m < this.minSplit || m < 2 * this.minLeaf || largest === weight);
      let nTotalConstants = nKnownConstants;
      if (split) {
        nTotalConstants = this.findSplit(rng, start, end, weight, nKnownConstants);
        split = this.bestFeature >= 0;
      }
      if (!split) {
        outFeature[id] = -1;
        outThreshold[id] = 0;
        outLeft[id] = -1;
        outRight[id] = -1;
        const inv = 1 / weight;
        for (let c = 0; c < k; c++) outValue[leaves * k + c] = (totals[c] as number) * inv;
        leaves++;
        continue;
      }
      const f = this.bestFeature;
      outFeature[id] = f;
      outThreshold[id] = midpoint(this.hi[f * MAX_BINS + this.bestLeftBin] as number, this.lo[f * MAX_BINS + this.bestRightBin] as number);
      const mid = this.partition(start, end, f, this.bestLeftBin);
      // Right pushed first so the left subtree is grown (and numbered) first.
      for (let side = 0; side < 2; side++) {
        const isLeft = side === 1;
        this.stackStart[top] = isLeft ? start : mid;
        this.stackEnd[top] = isLeft ? mid : end;
        this.stackDepth[top] = depth + 1;
        this.stackParent[top] = id;
        this.stackIsLeft[top] = isLeft ? 1 : 0;
        this.stackConstants[top] = nTotalConstants;
        for (let c = 0; c < k; c++) {
          const l = this.bestLeftW[c] as number;
          this.stackTotals[top * k + c] = isLeft ? l : (totals[c] as number) - l;
        }
        top++;
      }
    }
    return compileTree(
      outFeature.slice(0, nodes),
      outThreshold.slice(0, nodes),
      outLeft.subarray(0, nodes),
      outRight.subarray(0, nodes),
      outValue.slice(0, leaves * k),
      k,
    );
  }

  /**
   * Searches the node's best split over a fresh random sample of features, leaving it in the
   * `best*` fields (`bestFeature` -1 when no feature can split). Returns the count of
   * features now known constant in the node, for its children.
   *
   * This is scikit-learn's BestSplitter draw: features without replacement until `mtry`
   * non-constant ones have been searched; a feature constant in the node does not count,
   * and one known constant from an ancestor is skipped without a scan.
   */
  private findSplit(rng: Rng, start: number, end: number, weight: number, nKnownConstants: number): number {
    const { features, constants } = this;
    this.bestProxy = -Infinity;
    this.bestFeature = -1;
    let fi = this.d;
    let nFound = 0;
    let nDrawn = 0;
    let nVisited = 0;
    let nTotalConstants = nKnownConstants;
    while (fi > nTotalConstants && (nVisited < this.mtry || nVisited <= nFound + nDrawn)) {
      nVisited++;
      let fj = nDrawn + rng.int(fi - nFound - nDrawn);
      if (fj < nKnownConstants) {
        swap(features, nDrawn, fj);
        nDrawn++;
        continue;
      }
      fj += nFound;
      const f = features[fj] as number;
      if (this.searchFeature(f, start, end, weight)) {
        swap(features, fj, nTotalConstants);
        nFound++;
        nTotalConstants++;
        continue;
      }
      fi--;
      swap(features, fi, fj);
    }
    // The prefix is what the node's siblings and children read: restore its order, then
    // append the constants found here.
    for (let i = 0; i < nKnownConstants; i++) features[i] = constants[i] as number;
    for (let i = nKnownConstants; i < nTotalConstants; i++) constants[i] = features[i] as number;
    return nTotalConstants;
  }

  /**
   * Class histogram of the node over feature `f`'s bins, then a scan of the split between
   * each pair of neighbouring occupied bins. Occupied bins are marked in a bitmap and visited
   * in order through it, then cleared for the next call, so a node of 3 rows costs a few
   * operations rather than 256 bins. (Scanning all 256 bins instead in nodes of 256 rows or
   * more measured no faster.) Returns whether the feature is constant in the node.
   */
  private searchFeature(f: number, start: number, end: number, weight: number): boolean {
    const { k, hist, occupied, leftW, totals } = this;
    const stride = k + 1;
    const m = end - start;
    histogram(this.codes, f * this.n, this.rows, this.rowY, this.rowW, start, end, hist, k, occupied);
    const minLeaf = this.minLeaf;
    for (let c = 0; c < k; c++) leftW[c] = 0;
    let wLeft = 0;
    let nLeft = 0;
    let previous = -1;
    let bins = 0;
    let word = 0;
    let bits = 0;
    for (;;) {
      while (bits === 0 && word < BIT_WORDS) {
        bits = occupied[word] as number;
        occupied[word++] = 0;
      }
      if (bits === 0) break;
      const lowest = bits & -bits;
      bits ^= lowest;
      const b = ((word - 1) << 5) | (31 - clz32(lowest));
      bins++;
      if (previous >= 0 && nLeft >= minLeaf && m - nLeft >= minLeaf) {
        // Gini's proxy as scikit-learn maximizes it: Σ left_c² / w_left + Σ right_c² / w_right.
        let sl = 0;
        let sr = 0;
        for (let c = 0; c < k; c++) {
          const l = leftW[c] as number;
          const r = (totals[c] as number) - l;
          sl += l * l;
          sr += r * r;
        }
        const proxy = sl / wLeft + sr / (weight - wLeft);
        // Strictly better only: ties go to the first found, as in scikit-learn.
        if (proxy > this.bestProxy) {
          this.bestProxy = proxy;
          this.bestFeature = f;
          this.bestLeftBin = previous;
          this.bestRightBin = b;
          this.bestLeftRows = nLeft;
          for (let c = 0; c < k; c++) this.bestLeftW[c] = leftW[c] as number;
        }
      }
      const o = b * stride;
      for (let c = 0; c < k; c++) {
        const w = hist[o + c] as number;
        leftW[c] = (leftW[c] as number) + w;
        wLeft += w;
        hist[o + c] = 0;
      }
      nLeft += hist[o + k] as number;
      hist[o + k] = 0;
      previous = b;
    }
    return bins <= 1;
  }

  /** Moves the rows with feature `f`'s code at most `leftBin` to the front; returns where the right side starts. */
  private partition(start: number, end: number, f: number, leftBin: number): number {
    const { rows, rowY, rowW, codes } = this;
    const column = f * this.n;
    let i = start;
    let j = end - 1;
    while (i <= j) {
      const r = rows[i] as number;
      if ((codes[column + r] as number) <= leftBin) {
        i++;
        continue;
      }
      rows[i] = rows[j] as number;
      rows[j] = r;
      const ty = rowY[i] as number;
      rowY[i] = rowY[j] as number;
      rowY[j] = ty;
      const tw = rowW[i] as number;
      rowW[i] = rowW[j] as number;
      rowW[j] = tw;
      j--;
    }
    if (i - start !== this.bestLeftRows) throw new Error(`internal: split sent ${i - start} rows left, histogram counted ${this.bestLeftRows}`);
    return i;
  }
}

/**
 * Adds the rows `rows[start..end)` to the per-bin class weights and row counts of one
 * feature's column (`k + 1` slots per bin) and sets bit `b` of `occupied` for every bin `b`
 * touched. The weights are float64 although they are whole numbers: V8 adds those without
 * the overflow check int32 sums carry (5-15 % off a whole fit, measured).
 */
function histogram(
  codes: Uint8Array,
  column: number,
  rows: Int32Array,
  rowY: Int32Array,
  rowW: Int32Array,
  start: number,
  end: number,
  hist: Float64Array,
  k: number,
  occupied: Int32Array,
): void {
  const stride = k + 1;
  for (let i = start; i < end; i++) {
    const b = codes[column + (rows[i] as number)] as number;
    const o = b * stride;
    const slot = o + (rowY[i] as number);
    hist[slot] = (hist[slot] as number) + (rowW[i] as number);
    hist[o + k] = (hist[o + k] as number) + 1;
    occupied[b >> 5] = (occupied[b >> 5] as number) | (1 << (b & 31));
  }
}

function swap(a: Int32Array, i: number, j: number): void {
  const t = a[i] as number;
  a[i] = a[j] as number;
  a[j] = t;
}

/**
 * Adds one packed tree's leaf class fractions for every row to `out`. One tree over all rows
 * at a time keeps that tree's arrays in cache (blocks of rows through all trees measured
 * slower: the trees then stream from memory instead).
 *
 * Four rows walk the tree together, and a level picks the child by arithmetic on the
 * comparison rather than by a branch: a walk is a chain of dependent loads, and four
 * independent chains keep the core busy where one row at a time waits on each load or on a
 * mispredicted branch (2-2.5x faster, measured; six or eight rows no faster, and a `?:`
 * compiles to the branch again). Each row still receives one addition per tree, so its sums
 * come out bit for bit as a row-at-a-time walk's.
 */
function accumulatePacked(data: Float64Array, rows: number, d: number, k: number, tree: FlatTree, out: Float64Array): void {
  const { split, child, value, root } = tree;
  const last = rows - 1;
  for (let r = 0; r < rows; r += 4) {
    // A last group of fewer than four rows repeats the last row in the missing lanes (added
    // once). No separate loop for those rows: one that never ran in the first, cold call sent
    // the optimized code back to the interpreter at its end, call after call (--trace-deopt).
    const b0 = r * d;
    const b1 = (r + 1 < rows ? r + 1 : last) * d;
    const b2 = (r + 2 < rows ? r + 2 : last) * d;
    const b3 = (r + 3 < rows ? r + 3 : last) * d;
    let n0 = root;
    let n1 = root;
    let n2 = root;
    let n3 = root;
    // Leaf references are negative: the AND is negative once all four rows are in leaves.
    while ((n0 & n1 & n2 & n3) >= 0) {
      if (n0 >= 0) {
        const s = n0 >> FEATURE_BITS;
        n0 = child[2 * s + +((data[b0 + (n0 & FEATURE_MASK)] as number) > (split[s] as number))] as number;
      }
      if (n1 >= 0) {
        const s = n1 >> FEATURE_BITS;
        n1 = child[2 * s + +((data[b1 + (n1 & FEATURE_MASK)] as number) > (split[s] as number))] as number;
      }
      if (n2 >= 0) {
        const s = n2 >> FEATURE_BITS;
        n2 = child[2 * s + +((data[b2 + (n2 & FEATURE_MASK)] as number) > (split[s] as number))] as number;
      }
      if (n3 >= 0) {
        const s = n3 >> FEATURE_BITS;
        n3 = child[2 * s + +((data[b3 + (n3 & FEATURE_MASK)] as number) > (split[s] as number))] as number;
      }
    }
    const o = r * k;
    addLeaf(out, o, value, ~n0, k);
    if (r + 1 < rows) addLeaf(out, o + k, value, ~n1, k);
    if (r + 2 < rows) addLeaf(out, o + 2 * k, value, ~n2, k);
    if (r + 3 < rows) addLeaf(out, o + 3 * k, value, ~n3, k);
  }
}

/** {@link accumulatePacked} for a tree too large to pack, one row at a time. */
function accumulateUnpacked(data: Float64Array, rows: number, d: number, k: number, tree: FlatTree, splitFeature: Int32Array, out: Float64Array): void {
  const { split, child, value, root } = tree;
  for (let r = 0, base = 0; r < rows; r++, base += d) {
    let node = root;
    while (node >= 0) node = child[2 * node + +((data[base + (splitFeature[node] as number)] as number) > (split[node] as number))] as number;
    addLeaf(out, r * k, value, ~node, k);
  }
}

/** Adds the `k` class fractions at `value[v..]` to `out[o..]`. */
function addLeaf(out: Float64Array, o: number, value: Float64Array, v: number, k: number): void {
  for (let c = 0; c < k; c++) out[o + c] = (out[o + c] as number) + (value[v + c] as number);
}

/** A fitted forest; predicts on raw features. */
class RandomForestModel implements TrainedClassifier {
  readonly algorithm = 'random_forest';
  readonly nClasses: number;
  readonly nFeatures: number;
  private readonly trees: readonly FlatTree[];

  constructor(nClasses: number, nFeatures: number, trees: readonly FlatTree[]) {
    this.nClasses = nClasses;
    this.nFeatures = nFeatures;
    this.trees = trees;
  }

  /**
   * The mean over trees of the class fractions in the leaf each row reaches, as
   * scikit-learn's `predict_proba`.
   *
   * @throws RangeError on a wrong column count or a NaN feature (it would go right at every
   * split silently).
   */
  predictProba(x: FeatureMatrix): Float64Array {
    const { rows, cols, data } = x;
    if (cols !== this.nFeatures) throw new RangeError(`model expects ${this.nFeatures} features, got ${cols}`);
    // `includes` compares by SameValueZero, so it finds NaN, and natively: a JS loop over every
    // value runs unoptimized for its first few ms in a fresh process (400,000 values: 2-12 ms
    // against about 0.6 ms, measured).
    if (data.includes(NaN)) {
      const i = data.findIndex((v) => v !== v);
      throw new RangeError(`row ${floor(i / cols)} feature ${i % cols} is NaN`);
    }
    const k = this.nClasses;
    const out = new Float64Array(rows * k);
    for (const tree of this.trees) {
      if (tree.splitFeature === null) accumulatePacked(data, rows, cols, k, tree, out);
      else accumulateUnpacked(data, rows, cols, k, tree, tree.splitFeature, out);
    }
    const inv = 1 / this.trees.length;
    for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) * inv;
    return out;
  }

  toParams(): RandomForestParams {
    return {
      n_classes: this.nClasses,
      n_features: this.nFeatures,
      trees: this.trees.map((t) => toTreeParams(t, this.nClasses)),
    };
  }
}

/** Rebuilds the in-memory form of a validated stored tree. */
function toFlatTree(t: TreeParams, nClasses: number): FlatTree {
  return compileTree(Int32Array.from(t.feature), Float64Array.from(t.threshold), t.left, t.right, Float64Array.from(t.value), nClasses);
}

/**
 * Random forest of CART trees on gini impurity, as scikit-learn's `RandomForestClassifier`:
 * each tree grown to its stopping rules on a bootstrap sample, a fresh random subset of
 * features searched at every split, class probabilities averaged over the trees' leaves.
 *
 * Features are quantized once per fit into at most 256 bins (one per distinct value when
 * there are no more, so CART's exact splits; equal-count bins otherwise), and splits are
 * searched over per-node class histograms of the bins. Thresholds are stored as real numbers
 * halfway across the gap between bins, so prediction reads raw features. No standardization:
 * trees only compare a feature with thresholds.
 */
export const randomForest: ClassifierAlgorithm<RandomForestHyperparameters, RandomForestParams> = {
  name: 'random_forest',
  description: 'Random forest of gini CART trees (bootstrap rows, a random feature subset per split, probabilities averaged over leaves)',
  hyperparametersSchema: randomForestHyperparametersSchema,
  paramsSchema: randomForestParamsSchema,

  fit({ x, y, nClasses, hyperparameters, seed, onProgress }) {
    if (x.rows === 0) throw new RangeError('cannot fit on zero rows');
    if (x.cols === 0) throw new RangeError('cannot fit on zero features');
    if (y.length !== x.rows) throw new RangeError(`${x.rows} rows but ${y.length} labels`);
    if (!Number.isInteger(nClasses) || nClasses < 2) throw new RangeError(`need at least 2 classes, got ${nClasses}`);
    for (let i = 0; i < y.length; i++) {
      const label = y[i] as number;
      if (label < 0 || label >= nClasses) throw new RangeError(`label ${label} at row ${i} outside [0, ${nClasses})`);
    }
    const h = hyperparameters;
    // Checked before binning so a bad max_features fails fast.
    featuresPerSplit(h.max_features, x.cols);
    const grower = new TreeGrower(binFeatures(x), y, x.cols, nClasses, h);
    // Each tree draws from its own generator seeded from the forest's, so a tree does not
    // depend on how many numbers the trees before it used.
    const seeds = createRng(seed);
    const trees: FlatTree[] = [];
    for (let t = 0; t < h.n_estimators; t++) {
      trees.push(grower.grow(createRng((seeds.next() * 4294967296) | 0), h.bootstrap));
      onProgress?.((t + 1) / h.n_estimators);
    }
    const report: FitReport = { iterations: h.n_estimators, converged: true, final_loss: null };
    return { model: new RandomForestModel(nClasses, x.cols, trees), report };
  },

  load(params) {
    const p = randomForestParamsSchema.parse(params);
    return new RandomForestModel(p.n_classes, p.n_features, p.trees.map((t) => toFlatTree(t, p.n_classes)));
  },
};
