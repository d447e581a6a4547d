import type { TrainedClassifier } from './classifier';
import type { RawValue } from './labeled-set';
import { argmaxRows } from './matrix';
import { encodeRows, type Preprocessing } from './preprocessing';

/**
 * A version's model as it predicts: its fitted preprocessing (null: numbers as they are) and
 * its classifier, which sees only the encoded numbers.
 */
export interface VersionModel {
  readonly preprocessing: Preprocessing | null;
  readonly classifier: TrainedClassifier;
  /** Cells per raw row: the spec's features. */
  readonly nFeatures: number;
}

/** Class probabilities of raw rows (cells in feature order), `rows * nClasses` values. */
export function predictProbaRows(m: VersionModel, rows: readonly (readonly RawValue[])[]): Float64Array {
  return m.classifier.predictProba(encodeRows(m.preprocessing, rows, m.nFeatures));
}

/** Predicted class per raw row. */
export function predictLabels(m: VersionModel, rows: readonly (readonly RawValue[])[]): Int32Array {
  if (rows.length === 0) return new Int32Array(0);
  return argmaxRows(predictProbaRows(m, rows), m.classifier.nClasses);
}
