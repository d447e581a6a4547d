import type { ClassifierAlgorithm, FitReport, TrainedClassifier } from './classifier';
import { bootstrapDecision, decide, scoreModel, type GateDecision } from './gate';
import { concatSets, distinctLabels, emptySet, setHash, stratifiedSplit, subset, type LabeledSet } from './labeled-set';
import { argmaxRows, toMatrix } from './matrix';
import type { Policy } from './policy';
import { TrainingDataError } from './training-data-error';

/** What every training step needs to know about the model and its algorithm. */
export interface StepModel {
  classes: readonly string[];
  nFeatures: number;
  algorithm: ClassifierAlgorithm<unknown, unknown>;
  /** Raw hyperparameters; the algorithm's schema validates them and fills defaults. */
  hyperparameters: unknown;
  seed: number;
  evalFraction: number;
  minBatchForEvalSlice: number;
  onProgress?: (fraction: number) => void;
}

/** A fitted candidate and its gate decision. */
export interface StepResult {
  model: TrainedClassifier;
  fit: FitReport;
  hyperparameters: unknown;
  /** The rows the candidate was fitted on: the next `accumulated_data` if it is activated. */
  trainingSet: LabeledSet;
  /** The rows both models were scored on: the next evaluation set if the candidate is activated. */
  evalSet: LabeledSet;
  /** Rows of the batch held out into the evaluation set (empty for small batches). */
  batchHoldout: number;
  decision: GateDecision;
}

/** Predicted class per row. */
export function predictLabels(model: TrainedClassifier, x: readonly (readonly number[])[]): Int32Array {
  if (x.length === 0) return new Int32Array(0);
  return argmaxRows(model.predictProba(toMatrix(x, model.nFeatures)), model.nClasses);
}

function checkSet(set: LabeledSet, m: StepModel, what: string): void {
  set.x.forEach((row, i) => {
    if (row.length !== m.nFeatures) throw new TrainingDataError(`${what} row ${i} has ${row.length} features, expected ${m.nFeatures}`);
    if (!row.every(Number.isFinite)) throw new TrainingDataError(`${what} row ${i} has a non-finite value`);
  });
  set.y.forEach((label, i) => {
    if (!Number.isInteger(label) || label < 0 || label >= m.classes.length) {
      throw new TrainingDataError(`${what} row ${i} has label ${label}, outside 0..${m.classes.length - 1}`);
    }
  });
}

function fit(m: StepModel, trainingSet: LabeledSet): { model: TrainedClassifier; fit: FitReport; hyperparameters: unknown } {
  if (distinctLabels(trainingSet.y) < 2) {
    throw new TrainingDataError(`training set has ${distinctLabels(trainingSet.y)} class(es); at least 2 are needed`);
  }
  const hyperparameters = m.algorithm.hyperparametersSchema.parse(m.hyperparameters ?? {});
  const { model, report } = m.algorithm.fit({
    x: toMatrix(trainingSet.x, m.nFeatures),
    y: Int32Array.from(trainingSet.y),
    nClasses: m.classes.length,
    hyperparameters,
    seed: m.seed,
    ...(m.onProgress ? { onProgress: m.onProgress } : {}),
  });
  return { model, fit: report, hyperparameters };
}

/**
 * The first version of a model: a stratified split of its bundled data (fixed seed), the
 * held-out part frozen as the evaluation set, a fit on the rest, activated without a
 * comparison.
 */
export function bootstrapStep(m: StepModel, data: LabeledSet): StepResult {
  checkSet(data, m, 'bootstrap');
  const split = stratifiedSplit(data.y, m.evalFraction, m.seed);
  const trainingSet = subset(data, split.train);
  const evalSet = subset(data, split.holdout);
  const fitted = fit(m, trainingSet);
  const score = scoreModel(evalSet.y, predictLabels(fitted.model, evalSet.x), m.classes, { seed: m.seed });
  return { ...fitted, trainingSet, evalSet, batchHoldout: 0, decision: bootstrapDecision(score) };
}

/**
 * One training job's pure core: split the batch (a stratified slice of a large enough batch
 * joins the evaluation set), fit the challenger on the accumulated data plus the rest of the
 * batch (or on the batch alone, from scratch), score challenger and champion on the same
 * rows, and let the gate decide.
 */
export function trainingStep(
  m: StepModel,
  input: {
    champion: TrainedClassifier;
    accumulated: LabeledSet;
    evalSet: LabeledSet;
    batch: LabeledSet;
    fromScratch: boolean;
    policy: Policy;
  },
): StepResult {
  const { batch } = input;
  checkSet(batch, m, 'batch');
  let batchTrain = batch;
  let batchEval = emptySet();
  if (batch.y.length >= m.minBatchForEvalSlice) {
    // The split's seed comes from the batch itself, so that a re-run of the job splits alike.
    const seed = (m.seed ^ parseInt(setHash(batch).slice(0, 8), 16)) >>> 0;
    const split = stratifiedSplit(batch.y, m.evalFraction, seed);
    batchTrain = subset(batch, split.train);
    batchEval = subset(batch, split.holdout);
  }
  const trainingSet = input.fromScratch ? batchTrain : concatSets(input.accumulated, batchTrain);
  const evalSet = concatSets(input.evalSet, batchEval);
  const fitted = fit(m, trainingSet);
  const decision = decide({
    policy: input.policy,
    classNames: m.classes,
    yTrue: evalSet.y,
    championPred: predictLabels(input.champion, evalSet.x),
    challengerPred: predictLabels(fitted.model, evalSet.x),
    options: { seed: m.seed },
  });
  return { ...fitted, trainingSet, evalSet, batchHoldout: batchEval.y.length, decision };
}
