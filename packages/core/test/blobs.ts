import { createRng, type FeatureMatrix } from '../src';

/** Gaussian blobs around distinct centres; `spread` small enough makes them separable. */
export function blobs(n: number, centres: number[][], spread: number, seed: number): { x: FeatureMatrix; y: Int32Array } {
  const rng = createRng(seed);
  const d = (centres[0] as number[]).length;
  const data = new Float64Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % centres.length;
    y[i] = c;
    for (let j = 0; j < d; j++) data[i * d + j] = ((centres[c] as number[])[j] as number) + spread * rng.normal();
  }
  return { x: { rows: n, cols: d, data }, y };
}
