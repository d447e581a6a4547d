import { mlLogisticRegression, toMatrix } from '@ct/core';
import { EMPTY_LIST, type ArtifactBody, type HistoryEntry, type SegmentListRef, type VersionData } from '../src';

// What the registry's tests build their artifacts and records from.

/** Three rows, one per class. */
export const trainingSet = { x: [[1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3]], y: [0, 1, 2] };

/** A 64-hex hash made of one character. */
export const H = (c: string): string => c.repeat(64);

/** A real (tiny) artifact body of iris, fitted on {@link trainingSet}. */
export function artifactBody(): ArtifactBody {
  const hyperparameters = mlLogisticRegression.hyperparametersSchema.parse({ num_steps: 50 });
  const { model, report } = mlLogisticRegression.fit({ x: toMatrix(trainingSet.x), y: Int32Array.from(trainingSet.y), nClasses: 3, hyperparameters, seed: 1 });
  return {
    model: 'iris',
    algorithm: 'ml_logistic_regression',
    classes: ['setosa', 'versicolor', 'virginica'],
    features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
    hyperparameters,
    seed: 1,
    params: model.toParams(),
    training: { data_hash: 'a'.repeat(64), n_samples: 3, fit: report },
  };
}

/** History entry `seq` (job `job-<seq>`), activated when `version` is `activeAfter`. */
export function historyEntry(seq: number, version: string, activeAfter: string, source: HistoryEntry['source'] = 'train', trusted = H('e')): HistoryEntry {
  return {
    seq,
    version,
    source,
    status: version === activeAfter ? 'activated' : 'rejected',
    job_id: `job-${seq}`,
    request_id: null,
    created_at: new Date().toISOString(),
    active_before: null,
    active_after: activeAfter,
    algorithm: 'ml_logistic_regression',
    retrain_from_scratch: false,
    n_batch_samples: 0,
    n_training_samples: 3,
    accuracy_new: 1,
    accuracy_previous: null,
    eval_set: { size: 1, trusted: 1, growing: 0 },
    data_hash: 'd',
    result: {},
    duration_ms: 1,
    state: { active: activeAfter, n_versions: seq, trusted, growing: EMPTY_LIST },
  };
}

/** The version data recording `e`, trained on `training`. */
export const versionData = (e: HistoryEntry, training: SegmentListRef): VersionData => ({
  job_id: e.job_id,
  parent: null,
  training,
  batch: null,
  batch_holdout: null,
  trusted: e.state.trusted,
  growing: EMPTY_LIST,
  entry: e,
});
