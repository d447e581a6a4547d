import type { FeatureDrift } from './feature-drift';

/** Evidently's `DatasetDriftMetric` default: the model has drifted when half its features have. */
export const DEFAULT_DRIFT_SHARE = 0.5;

/** Drift of a model's inputs as a whole; see {@link driftOfModel}. */
export interface ModelDrift {
  /** Features tested. */
  features: number;
  /** Features that drifted. */
  driftedFeatures: number;
  /** `driftedFeatures / features`. */
  share: number;
  /** The share at or above which the model counts as drifted. */
  driftShare: number;
  drifted: boolean;
  /** Names of the drifted features, in input order. */
  driftedFeatureNames: string[];
}

/**
 * Whole-model input drift from per-feature results, as Evidently's `DatasetDriftMetric`
 * decides it: the share of drifted features, and drift when that share is at least
 * `driftShare` (default 0.5, so 2 drifted features out of 4 is drift).
 *
 * @param features - One {@link FeatureDrift} per input feature (see `driftOfFeature`).
 * @param driftShare - Share in (0, 1] at or above which the model has drifted.
 * @throws RangeError on an empty feature list (Evidently divides by zero there) or a
 *   `driftShare` outside (0, 1].
 */
export function driftOfModel(features: readonly FeatureDrift[], driftShare = DEFAULT_DRIFT_SHARE): ModelDrift {
  if (features.length === 0) throw new RangeError('no features to assess');
  if (!(driftShare > 0 && driftShare <= 1)) throw new RangeError(`driftShare ${driftShare} outside (0, 1]`);
  const driftedFeatureNames = features.filter((f) => f.drifted).map((f) => f.feature);
  const share = driftedFeatureNames.length / features.length;
  return {
    features: features.length,
    driftedFeatures: driftedFeatureNames.length,
    share,
    driftShare,
    drifted: share >= driftShare,
    driftedFeatureNames,
  };
}
