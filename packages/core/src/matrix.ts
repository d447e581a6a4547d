/**
 * A dense row-major matrix of float64 values.
 *
 * Classifiers work on typed arrays rather than `number[][]` because the fit loops touch
 * every cell many times; one contiguous buffer keeps them cache-friendly and allocation-free.
 */
export interface FeatureMatrix {
  readonly rows: number;
  readonly cols: number;
  /** `rows * cols` values, row after row. */
  readonly data: Float64Array;
}

/** Builds a {@link FeatureMatrix} from rows of numbers; every row must have `cols` values. */
export function toMatrix(rows: readonly (readonly number[])[], cols?: number): FeatureMatrix {
  const width = cols ?? rows[0]?.length ?? 0;
  const data = new Float64Array(rows.length * width);
  rows.forEach((row, i) => {
    if (row.length !== width) {
      throw new RangeError(`row ${i} has ${row.length} values, expected ${width}`);
    }
    data.set(row, i * width);
  });
  return { rows: rows.length, cols: width, data };
}

/** Copies a matrix back into rows of numbers (for JSON and tests). */
export function fromMatrix(m: FeatureMatrix): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m.rows; i++) out.push(Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
  return out;
}

/** Index of the largest value in each row of a `rows x width` row-major buffer. */
export function argmaxRows(values: Float64Array, width: number): Int32Array {
  const rows = values.length / width;
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    let bestValue = values[i * width] as number;
    for (let j = 1; j < width; j++) {
      const v = values[i * width + j] as number;
      if (v > bestValue) {
        bestValue = v;
        best = j;
      }
    }
    out[i] = best;
  }
  return out;
}
