import { bootstrapStep, getAlgorithm, getModelSpec, trainingStep, TrainingDataError, type StepModel } from '@ct/core';
import type { StepOutcome, StepTask } from './step-task';

/**
 * Runs one step task: the pure core of a job. Called inside the fit thread, kept apart from
 * the thread plumbing so it can be tested directly.
 */
export function runStep(task: StepTask, onProgress?: (fraction: number) => void): StepOutcome {
  const spec = getModelSpec(task.model);
  if (!spec) throw new TrainingDataError(`unknown model ${task.model}`);
  const algorithm = getAlgorithm(task.algorithm);
  if (!algorithm) throw new TrainingDataError(`unknown algorithm ${task.algorithm}`);
  const m: StepModel = {
    classes: spec.classes,
    nFeatures: spec.features.length,
    algorithm,
    hyperparameters: task.hyperparameters,
    seed: spec.seed,
    evalFraction: spec.evalFraction,
    minBatchForEvalSlice: spec.minBatchForEvalSlice,
    ...(onProgress ? { onProgress } : {}),
  };
  let result;
  if (task.kind === 'bootstrap') {
    result = bootstrapStep(m, task.data);
  } else {
    const championAlgorithm = getAlgorithm(task.champion.algorithm);
    if (!championAlgorithm) throw new Error(`unknown champion algorithm ${task.champion.algorithm}`);
    const champion = championAlgorithm.load(championAlgorithm.paramsSchema.parse(task.champion.params));
    result = trainingStep(m, { ...task, champion });
  }
  const { model, ...rest } = result;
  return { ...rest, params: model.toParams() };
}
