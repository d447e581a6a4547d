import { z } from 'zod';
import type { RawValue } from './labeled-set';
import type { FeatureMatrix } from './matrix';
import type { FeatureSpec } from './model-spec';
import { TrainingDataError } from './training-data-error';

/** How one feature becomes columns: a number (filled when missing), or one column per level. */
const columnSchema = z.discriminatedUnion('type', [
  z.strictObject({ name: z.string(), type: z.literal('numeric'), fill: z.number().nullable() }),
  z.strictObject({ name: z.string(), type: z.literal('categorical'), levels: z.array(z.string()).min(1), fill: z.string().nullable() }),
]);

/**
 * The preprocessing of a version, fitted on its training rows and stored in its artifact (so
 * in its hash): fill values of the features that impute, one-hot columns of the categorical
 * ones (every level of the spec, in order), and a standardization of the encoded columns for
 * the algorithms that need one. One pipeline in front of every algorithm.
 */
export const preprocessingSchema = z
  .strictObject({
    features: z.array(columnSchema).min(1),
    /** Per encoded column: (value - mean) / scale; null when the algorithm takes raw numbers. */
    standardize: z.strictObject({ mean: z.array(z.number()), scale: z.array(z.number().positive()) }).nullable(),
  })
  .superRefine((p, ctx) => {
    const width = encodedWidthOf(p.features);
    if (p.standardize && (p.standardize.mean.length !== width || p.standardize.scale.length !== width)) {
      ctx.addIssue({ code: 'custom', message: `standardize must have ${width} columns` });
    }
    p.features.forEach((f, i) => {
      if (f.type === 'categorical' && f.fill !== null && !f.levels.includes(f.fill)) ctx.addIssue({ code: 'custom', path: ['features', i, 'fill'], message: 'fill is not a level' });
    });
  });

/** A version's fitted preprocessing. */
export type Preprocessing = z.infer<typeof preprocessingSchema>;

function encodedWidthOf(features: Preprocessing['features']): number {
  return features.reduce((w, f) => w + (f.type === 'categorical' ? f.levels.length : 1), 0);
}

/** Columns the algorithm sees after {@link encodeRows}. */
export function encodedWidth(p: Preprocessing): number {
  return encodedWidthOf(p.features);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * Fits the preprocessing of `features` on training `rows` (cells in feature order). Returns
 * null when it would change nothing (numbers only, none filled, no standardization): such
 * versions store no preprocessing, so their artifacts and ids stay what they were before
 * preprocessing existed.
 */
export function fitPreprocessing(features: readonly FeatureSpec[], rows: readonly (readonly RawValue[])[], options: { standardize: boolean }): Preprocessing | null {
  const cols: Preprocessing['features'] = features.map((f, j) => {
    // Only a feature that imputes looks at its values here: collecting them for every feature
    // cost a pass and an array per feature over the training rows, which grow with every job.
    const present = f.missing === 'impute' ? rows.map((r) => r[j]).filter((v): v is number | string => v !== null && v !== undefined) : [];
    if (f.type === 'categorical') {
      let fill: string | null = null;
      if (f.missing === 'impute') {
        // Most frequent level; ties go to the spec's first, so a fit is deterministic.
        const counts = new Map<string, number>();
        for (const v of present) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
        fill = f.levels.reduce<string | null>((best, l) => ((counts.get(l) ?? 0) > (best === null ? 0 : (counts.get(best) ?? 0)) ? l : best), null) ?? (f.levels[0] as string);
      }
      return { name: f.name, type: 'categorical' as const, levels: [...f.levels], fill };
    }
    let fill: number | null = null;
    if (f.missing === 'impute') {
      const nums = present as number[];
      if (nums.length === 0) throw new TrainingDataError(`feature ${f.name} has no value in the training rows to impute from`);
      fill = f.impute === 'median' ? median(nums) : nums.reduce((a, b) => a + b, 0) / nums.length;
    }
    return { name: f.name, type: 'numeric' as const, fill };
  });
  const identity = cols.every((c) => c.type === 'numeric' && c.fill === null) && !options.standardize;
  if (identity) return null;
  const p: Preprocessing = { features: cols, standardize: null };
  if (options.standardize) {
    const x = encodeRows(p, rows);
    const mean = new Array<number>(x.cols).fill(0);
    const scale = new Array<number>(x.cols).fill(0);
    for (let i = 0; i < x.rows; i++) for (let j = 0; j < x.cols; j++) mean[j] = (mean[j] as number) + (x.data[i * x.cols + j] as number) / x.rows;
    for (let i = 0; i < x.rows; i++) for (let j = 0; j < x.cols; j++) scale[j] = (scale[j] as number) + ((x.data[i * x.cols + j] as number) - (mean[j] as number)) ** 2 / x.rows;
    // A constant column keeps scale 1, as scikit-learn's StandardScaler does.
    p.standardize = { mean, scale: scale.map((v) => (v > 0 ? Math.sqrt(v) : 1)) };
  }
  return p;
}

/**
 * Encodes rows (cells in feature order) into the matrix the algorithm sees. With no
 * preprocessing (null), cells must be numbers and are copied as they are.
 */
export function encodeRows(p: Preprocessing | null, rows: readonly (readonly RawValue[])[], nFeatures?: number): FeatureMatrix {
  if (p === null) {
    const cols = nFeatures ?? rows[0]?.length ?? 0;
    const data = new Float64Array(rows.length * cols);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as readonly RawValue[];
      for (let j = 0; j < cols; j++) {
        const v = r[j];
        if (typeof v !== 'number') throw new TrainingDataError(`row ${i} column ${j} is ${JSON.stringify(v)}, not a number`);
        data[i * cols + j] = v;
      }
    }
    return { rows: rows.length, cols, data };
  }
  const cols = encodedWidth(p);
  const data = new Float64Array(rows.length * cols);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as readonly RawValue[];
    let out = i * cols;
    p.features.forEach((f, j) => {
      const v = r[j] ?? null;
      if (f.type === 'numeric') {
        const n = v === null ? f.fill : v;
        if (typeof n !== 'number') throw new TrainingDataError(`row ${i}: ${f.name} is ${JSON.stringify(v)}, not a number`);
        data[out++] = n;
      } else {
        const level = v === null ? f.fill : String(v);
        const k = level === null ? -1 : f.levels.indexOf(level);
        if (k < 0) throw new TrainingDataError(`row ${i}: ${f.name} is ${JSON.stringify(v)}, not one of ${f.levels.join(', ')}`);
        data[out + k] = 1;
        out += f.levels.length;
      }
    });
  }
  if (p.standardize) {
    const { mean, scale } = p.standardize;
    for (let i = 0; i < data.length; i++) {
      const j = i % cols;
      data[i] = ((data[i] as number) - (mean[j] as number)) / (scale[j] as number);
    }
  }
  return { rows: rows.length, cols, data };
}
