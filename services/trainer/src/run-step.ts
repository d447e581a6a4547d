import { bootstrapStep, getAlgorithm, setHash, trainingStep, TrainingDataError, type StepModel } from '@ct/core';
import { performance } from 'node:perf_hooks';
import type { StepOutcome, StepTask } from './step-task';

/**
 * Runs one step task: the pure core of a job. Called inside the fit thread, kept apart from
 * the thread plumbing so it can be tested directly.
 */
export function runStep(task: StepTask, onProgress?: (fraction: number) => void): StepOutcome {
  const { spec } = task;
  const algorithm = getAlgorithm(task.algorithm);
  if (!algorithm) throw new TrainingDataError(`unknown algorithm ${task.algorithm}`);
  // The fit's own time, measured around the algorithm: the step also predicts and scores.
  let fitMs = 0;
  const timed: typeof algorithm = {
    ...algorithm,
    fit: (input) => {
      const t0 = performance.now();
      try {
        return algorithm.fit(input);
      } finally {
        fitMs += performance.now() - t0;
      }
    },
  };
  const m: StepModel = {
    classes: spec.target.classes,
    features: spec.features,
    algorithm: timed,
    hyperparameters: task.hyperparameters,
    seed: spec.seed,
    evalFraction: spec.eval_fraction,
    minBatchForEvalSlice: spec.min_batch_for_eval_slice,
    guardrails: spec.guardrails,
    ...(onProgress ? { onProgress } : {}),
  };
  let result;
  if (task.kind === 'bootstrap') {
    result = bootstrapStep(m, task.data);
  } else {
    const championAlgorithm = getAlgorithm(task.champion.algorithm);
    if (!championAlgorithm) throw new Error(`unknown champion algorithm ${task.champion.algorithm}`);
    const classifier = championAlgorithm.load(championAlgorithm.paramsSchema.parse(task.champion.params));
    const champion = { preprocessing: task.champion.preprocessing, classifier, nFeatures: spec.features.length };
    result = trainingStep(m, { ...task, champion });
  }
  return {
    params: result.model.classifier.toParams(),
    preprocessing: result.model.preprocessing,
    fit: result.fit,
    hyperparameters: result.hyperparameters,
    dataHash: setHash(result.trainingSet),
    nTraining: result.trainingSet.y.length,
    batchTrain: result.batchTrain,
    batchHoldout: result.batchHoldout,
    fitMs,
    decision: result.decision,
  };
}
