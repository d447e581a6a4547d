import { bootstrapStep, emptySet, getAlgorithm, SetDigest, setHash, trainingStep, TrainingDataError, type StepModel } from '@ct/core';
import { performance } from 'node:perf_hooks';
import type { RowCache } from './row-cache';
import type { StepOutcome, StepTask } from './step-task';

/**
 * Runs one step task: the pure core of a job. Called inside the fit thread, kept apart from
 * the thread plumbing so it can be tested directly. A training task's rows are joined from
 * `rows`, which must hold every segment the task names.
 */
export function runStep(task: StepTask, rows: RowCache, onProgress?: (fraction: number) => void): StepOutcome {
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
  let dataHash: string;
  if (task.kind === 'bootstrap') {
    result = bootstrapStep(m, task.data);
    dataHash = setHash(result.trainingSet);
  } else {
    const championAlgorithm = getAlgorithm(task.champion.algorithm);
    if (!championAlgorithm) throw new Error(`unknown champion algorithm ${task.champion.algorithm}`);
    const classifier = championAlgorithm.load(championAlgorithm.paramsSchema.parse(task.champion.params));
    const champion = { preprocessing: task.champion.preprocessing, classifier, nFeatures: spec.features.length };
    const accumulated = task.fromScratch ? undefined : rows.join(task.accumulated.segments);
    result = trainingStep(m, {
      ...task,
      champion,
      accumulated: accumulated?.set ?? emptySet(),
      trusted: rows.join(task.trusted.segments).set,
      growing: rows.join(task.growing.segments).set,
    });
    // The training set is the accumulated rows and then the batch's training part: its digest
    // extends theirs, and it is kept as the join of the list the job will store for it.
    const digest = (accumulated ? rows.digestOf(accumulated).fork() : SetDigest.of()).append(result.batchTrain);
    rows.extended(accumulated?.segments ?? [], setHash(result.batchTrain), result.batchTrain, result.trainingSet, digest);
    dataHash = digest.hex();
  }
  return {
    params: result.model.classifier.toParams(),
    preprocessing: result.model.preprocessing,
    fit: result.fit,
    hyperparameters: result.hyperparameters,
    dataHash,
    nTraining: result.trainingSet.y.length,
    batchTrain: result.batchTrain,
    batchHoldout: result.batchHoldout,
    fitMs,
    decision: result.decision,
  };
}
