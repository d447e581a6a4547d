import type { FeatureMatrix } from './matrix';
import { createRng, shuffleInPlace, type Rng } from './random';

/** Options of {@link makeClassification}; the names follow scikit-learn's `make_classification`. */
export interface SyntheticOptions {
  nSamples: number;
  /** Total columns. Default 20. */
  nFeatures?: number;
  /** Columns that carry the class structure. Default 10. */
  nInformative?: number;
  /** Random linear combinations of the informative columns. Default 2, as scikit-learn. */
  nRedundant?: number;
  /** Default 3. */
  nClasses?: number;
  /** Gaussian clusters per class, each on its own hypercube vertex. Default 2. */
  nClustersPerClass?: number;
  /** Half the side of the hypercube; larger is easier. Default 1. */
  classSep?: number;
  /** Fraction of labels replaced by a random class (label noise). Default 0.01. */
  flipY?: number;
  seed: number;
}

/** A generated data set: features and class indices in `[0, nClasses)`. */
export interface SyntheticData {
  x: FeatureMatrix;
  y: Int32Array;
}

/**
 * Seeded classification data built like scikit-learn's `make_classification` (hypercube
 * centroids, a random covariance per cluster, redundant and noise columns, label flips, rows
 * and columns shuffled). Same construction, different random stream: data sets are of the
 * same kind and difficulty, not equal to scikit-learn's for the same seed.
 *
 * @throws RangeError on inconsistent sizes.
 */
export function makeClassification(options: SyntheticOptions): SyntheticData {
  const n = options.nSamples;
  const nFeatures = options.nFeatures ?? 20;
  const nInf = options.nInformative ?? 10;
  const nRed = options.nRedundant ?? 2;
  const nClasses = options.nClasses ?? 3;
  const perClass = options.nClustersPerClass ?? 2;
  const classSep = options.classSep ?? 1;
  const flipY = options.flipY ?? 0.01;
  for (const [name, v, min] of [
    ['nSamples', n, 1],
    ['nFeatures', nFeatures, 1],
    ['nInformative', nInf, 1],
    ['nRedundant', nRed, 0],
    ['nClasses', nClasses, 2],
    ['nClustersPerClass', perClass, 1],
  ] as const) {
    if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${v}`);
  }
  if (nInf + nRed > nFeatures) {
    throw new RangeError(`nInformative + nRedundant (${nInf + nRed}) exceeds nFeatures (${nFeatures})`);
  }
  const nClusters = nClasses * perClass;
  if (nInf < Math.log2(nClusters)) {
    throw new RangeError(`nClasses * nClustersPerClass (${nClusters}) must be at most 2^nInformative`);
  }
  if (!(classSep >= 0) || !(flipY >= 0 && flipY <= 1)) throw new RangeError('classSep must be >= 0 and flipY in [0, 1]');

  const rng = createRng(options.seed);
  const data = new Float64Array(n * nFeatures);
  const y = new Int32Array(n);

  // Even split over clusters, the remainder going to the first ones.
  const sizes = Array.from({ length: nClusters }, () => Math.floor(n / nClusters));
  for (let i = 0; i < n % nClusters; i++) sizes[i] = (sizes[i] as number) + 1;

  const centroids = hypercubeVertices(nClusters, nInf, rng);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < nInf; j++) data[i * nFeatures + j] = rng.normal();
  }

  // Each cluster: a random linear map of its standard normals (random covariance), then a
  // shift to its vertex. The map is drawn per cluster so clusters differ in shape.
  const a = new Float64Array(nInf * nInf);
  const tmp = new Float64Array(nInf);
  let start = 0;
  sizes.forEach((size, c) => {
    const centroid = centroids[c] as Uint8Array;
    for (let t = 0; t < a.length; t++) a[t] = 2 * rng.next() - 1;
    for (let i = start; i < start + size; i++) {
      const off = i * nFeatures;
      y[i] = c % nClasses;
      for (let q = 0; q < nInf; q++) {
        let s = 0;
        for (let p = 0; p < nInf; p++) s += (data[off + p] as number) * (a[p * nInf + q] as number);
        tmp[q] = s;
      }
      for (let q = 0; q < nInf; q++) data[off + q] = (tmp[q] as number) + ((centroid[q] as number) * 2 - 1) * classSep;
    }
    start += size;
  });

  if (nRed > 0) {
    const b = Float64Array.from({ length: nInf * nRed }, () => 2 * rng.next() - 1);
    for (let i = 0; i < n; i++) {
      const off = i * nFeatures;
      for (let r = 0; r < nRed; r++) {
        let s = 0;
        for (let p = 0; p < nInf; p++) s += (data[off + p] as number) * (b[p * nRed + r] as number);
        data[off + nInf + r] = s;
      }
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = nInf + nRed; j < nFeatures; j++) data[i * nFeatures + j] = rng.normal();
  }
  for (let i = 0; i < n; i++) {
    if (rng.next() < flipY) y[i] = rng.int(nClasses);
  }

  // Shuffle rows, and columns so informative features are not always first.
  const rowOrder = shuffleInPlace(Array.from({ length: n }, (_, i) => i), rng);
  const colOrder = shuffleInPlace(Array.from({ length: nFeatures }, (_, j) => j), rng);
  const out = new Float64Array(n * nFeatures);
  const yOut = new Int32Array(n);
  rowOrder.forEach((src, i) => {
    const so = src * nFeatures;
    const off = i * nFeatures;
    for (let j = 0; j < nFeatures; j++) out[off + j] = data[so + (colOrder[j] as number)] as number;
    yOut[i] = y[src] as number;
  });
  return { x: { rows: n, cols: nFeatures, data: out }, y: yOut };
}

/** `count` distinct random vertices of the unit hypercube in `dims` dimensions, as 0/1 vectors. */
function hypercubeVertices(count: number, dims: number, rng: Rng): Uint8Array[] {
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  while (out.length < count) {
    const v = Uint8Array.from({ length: dims }, () => (rng.next() < 0.5 ? 0 : 1));
    const key = v.join('');
    if (!seen.has(key)) {
      seen.add(key);
      out.push(v);
    }
  }
  return out;
}
