import { z } from 'zod';
import type { FeatureMatrix } from './matrix';

/** Per-feature mean and scale, stored inside a model's artifact. */
export const standardizerSchema = z.strictObject({
  mean: z.array(z.number()),
  scale: z.array(z.number().positive()),
});

/** Per-feature mean and scale, stored inside a model's artifact. */
export type Standardizer = z.infer<typeof standardizerSchema>;

/**
 * Fits mean and standard deviation per column. A constant column gets scale 1 (as
 * scikit-learn's StandardScaler does) so that it maps to 0 instead of dividing by zero.
 */
export function fitStandardizer(x: FeatureMatrix): Standardizer {
  // Locals rather than property reads in the hot loops: V8 cannot hoist `x.data`/`x.cols`.
  const { rows, cols, data } = x;
  const mean = new Float64Array(cols);
  const sq = new Float64Array(cols);
  for (let i = 0, off = 0; i < rows; i++, off += cols) {
    for (let j = 0; j < cols; j++) mean[j] = (mean[j] as number) + (data[off + j] as number);
  }
  const n = Math.max(1, rows);
  for (let j = 0; j < cols; j++) mean[j] = (mean[j] as number) / n;
  for (let i = 0, off = 0; i < rows; i++, off += cols) {
    for (let j = 0; j < cols; j++) {
      const d = (data[off + j] as number) - (mean[j] as number);
      sq[j] = (sq[j] as number) + d * d;
    }
  }
  const scale = Array.from(sq, (v) => {
    const sd = Math.sqrt(v / n);
    return sd > 1e-12 ? sd : 1;
  });
  return { mean: Array.from(mean), scale };
}

/** Returns a new matrix with `(x - mean) / scale` per column. */
export function standardize(x: FeatureMatrix, s: Standardizer): FeatureMatrix {
  const { rows, cols, data } = x;
  if (s.mean.length !== cols) throw new RangeError(`standardizer has ${s.mean.length} features, matrix ${cols}`);
  const out = new Float64Array(data.length);
  const mean = Float64Array.from(s.mean);
  const inv = Float64Array.from(s.scale, (v) => 1 / v);
  for (let i = 0, off = 0; i < rows; i++, off += cols) {
    for (let j = 0; j < cols; j++) out[off + j] = ((data[off + j] as number) - (mean[j] as number)) * (inv[j] as number);
  }
  return { rows, cols, data: out };
}
