import type { ClassifierAlgorithm, FitReport } from './classifier';
import { bootstrapDecision, decide, scoreModel, type GateDecision } from './gate';
import type { Guardrails } from './guardrails';
import { concatSets, distinctLabels, emptySet, setHash, stratifiedSplit, subset, type LabeledSet } from './labeled-set';
import type { FeatureSpec } from './model-spec';
import type { Policy } from './policy';
import { encodeRows, fitPreprocessing } from './preprocessing';
import { TrainingDataError } from './training-data-error';
import { predictLabels, type VersionModel } from './version-model';

/** What every training step needs to know about the model and its algorithm. */
export interface StepModel {
  classes: readonly string[];
  /** The spec's features: what each cell of a row is, and what a missing one gets. */
  features: readonly FeatureSpec[];
  algorithm: ClassifierAlgorithm<unknown, unknown>;
  /** Raw hyperparameters; the algorithm's schema validates them and fills defaults. */
  hyperparameters: unknown;
  seed: number;
  evalFraction: number;
  minBatchForEvalSlice: number;
  guardrails: Guardrails;
  onProgress?: (fraction: number) => void;
}

/** A fitted candidate and its gate decision. */
export interface StepResult {
  model: VersionModel;
  fit: FitReport;
  hyperparameters: unknown;
  /** The rows the candidate was fitted on: the next training set if it is activated. */
  trainingSet: LabeledSet;
  /** The part of the batch the candidate was fitted on (the whole batch when it is small). */
  batchTrain: LabeledSet;
  /**
   * The batch's stratified slice (empty for small batches). It judged nothing in this step;
   * it joins the growing evaluation set only if the candidate is activated. For a bootstrap:
   * the held-out rows, which become the model's trusted set.
   */
  batchHoldout: LabeledSet;
  /**
   * The rows both models were scored on: the trusted rows, then the growing ones. For a
   * bootstrap, the held-out rows that become the model's trusted set.
   */
  evalSet: LabeledSet;
  decision: GateDecision;
}

function checkSet(set: LabeledSet, m: Pick<StepModel, 'classes' | 'features'>, what: string): void {
  const { features } = m;
  set.x.forEach((row, i) => {
    if (row.length !== features.length) throw new TrainingDataError(`${what} row ${i} has ${row.length} features, expected ${features.length}`);
    features.forEach((f, j) => {
      const v = row[j];
      if (v === null) {
        if (f.missing !== 'impute') throw new TrainingDataError(`${what} row ${i}: ${f.name} is missing, and the model refuses missing values of it`);
      } else if (f.type === 'categorical') {
        if (typeof v !== 'string' || !f.levels.includes(v)) throw new TrainingDataError(`${what} row ${i}: ${f.name} is ${JSON.stringify(v)}, not one of ${f.levels.join(', ')}`);
      } else if (typeof v !== 'number' || !Number.isFinite(v) || (f.type === 'integer' && !Number.isInteger(v))) {
        throw new TrainingDataError(`${what} row ${i}: ${f.name} is ${JSON.stringify(v)}, not ${f.type === 'integer' ? 'an integer' : 'a finite number'}`);
      }
    });
  });
  set.y.forEach((label, i) => {
    if (!Number.isInteger(label) || label < 0 || label >= m.classes.length) {
      throw new TrainingDataError(`${what} row ${i} has label ${label}, outside 0..${m.classes.length - 1}`);
    }
  });
}

/**
 * Checks rows an admin gives as the trusted evaluation set: well-formed, and enough of them
 * to judge by (at least 10 rows of at least 2 classes).
 */
export function checkTrustedSet(set: LabeledSet, m: Pick<StepModel, 'classes' | 'features'>): void {
  checkSet(set, m, 'trusted');
  if (set.y.length < 10) throw new TrainingDataError(`a trusted evaluation set needs at least 10 rows, got ${set.y.length}`);
  if (distinctLabels(set.y) < 2) throw new TrainingDataError('a trusted evaluation set needs rows of at least 2 classes');
}

/** Fewest rows a model can be bootstrapped from: its trusted rows are a slice of them. */
export const MIN_BOOTSTRAP_ROWS = 10;

/**
 * Checks the data a model is bootstrapped from before anything is written (a registration):
 * well-formed, at least {@link MIN_BOOTSTRAP_ROWS} rows of at least 2 classes, and a held-out
 * slice (which becomes the trusted rows) of at least 2 classes, so that the first version can
 * be fitted and later candidates judged. Throws TrainingDataError.
 */
export function checkBootstrapSet(set: LabeledSet, m: Pick<StepModel, 'classes' | 'features' | 'evalFraction' | 'seed'>): void {
  checkSet(set, m, 'bootstrap');
  if (set.y.length < MIN_BOOTSTRAP_ROWS) throw new TrainingDataError(`a model needs at least ${MIN_BOOTSTRAP_ROWS} usable rows to start from, got ${set.y.length}`);
  if (distinctLabels(set.y) < 2) throw new TrainingDataError('a model needs rows of at least 2 classes to start from');
  const { holdout } = stratifiedSplit(set.y, m.evalFraction, m.seed);
  const held = distinctLabels(holdout.map((i) => set.y[i] as number));
  if (held < 2) throw new TrainingDataError(`the held-out ${Math.round(m.evalFraction * 100)} % of the rows (the trusted evaluation rows) would hold ${held} class; add rows so that at least 2 classes have a few each`);
}

function fit(m: StepModel, trainingSet: LabeledSet): { model: VersionModel; fit: FitReport; hyperparameters: unknown } {
  if (distinctLabels(trainingSet.y) < 2) {
    throw new TrainingDataError(`training set has ${distinctLabels(trainingSet.y)} class(es); at least 2 are needed`);
  }
  const hyperparameters = m.algorithm.hyperparametersSchema.parse(m.hyperparameters ?? {});
  // One preprocessing in front of every algorithm, fitted on the training rows only.
  const preprocessing = fitPreprocessing(m.features, trainingSet.x, { standardize: m.algorithm.needsScaling === true });
  const { model, report } = m.algorithm.fit({
    x: encodeRows(preprocessing, trainingSet.x, m.features.length),
    y: Int32Array.from(trainingSet.y),
    nClasses: m.classes.length,
    hyperparameters,
    seed: m.seed,
    ...(m.onProgress ? { onProgress: m.onProgress } : {}),
  });
  return { model: { preprocessing, classifier: model, nFeatures: m.features.length }, fit: report, hyperparameters };
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
  // The bundled data is the bootstrap's batch: its held-out part becomes the trusted set.
  return { ...fitted, trainingSet, batchTrain: trainingSet, batchHoldout: evalSet, evalSet, decision: bootstrapDecision(score, m.guardrails) };
}

/**
 * One training job's pure core: split the batch (a stratified slice of a large enough batch
 * is held out), fit the challenger on the accumulated data plus the rest of the batch (or on
 * that rest alone, from scratch), score challenger and champion on the same rows, and let the
 * gate decide. The rows that judge are the model's trusted set and its growing set (slices
 * of earlier activated batches): never this batch, whose labels would otherwise grade the
 * model fitted on them.
 */
export function trainingStep(
  m: StepModel,
  input: {
    champion: VersionModel;
    accumulated: LabeledSet;
    trusted: LabeledSet;
    growing: LabeledSet;
    batch: LabeledSet;
    fromScratch: boolean;
    policy: Policy;
  },
): StepResult {
  const { batch } = input;
  checkSet(batch, m, 'batch');
  if (input.trusted.y.length === 0) throw new TrainingDataError('the model has no trusted evaluation rows');
  let batchTrain = batch;
  let batchHoldout = emptySet();
  if (batch.y.length >= m.minBatchForEvalSlice) {
    // The split's seed comes from the batch itself, so that a re-run of the job splits alike.
    const seed = (m.seed ^ parseInt(setHash(batch).slice(0, 8), 16)) >>> 0;
    const split = stratifiedSplit(batch.y, m.evalFraction, seed);
    batchTrain = subset(batch, split.train);
    batchHoldout = subset(batch, split.holdout);
  }
  const trainingSet = input.fromScratch ? batchTrain : concatSets(input.accumulated, batchTrain);
  const evalSet = concatSets(input.trusted, input.growing);
  const fitted = fit(m, trainingSet);
  const decision = decide({
    policy: input.policy,
    guardrails: m.guardrails,
    classNames: m.classes,
    yTrue: evalSet.y,
    championPred: predictLabels(input.champion, evalSet.x),
    challengerPred: predictLabels(fitted.model, evalSet.x),
    trustedRows: input.trusted.y.length,
    options: { seed: m.seed },
  });
  return { ...fitted, trainingSet, batchTrain, batchHoldout, evalSet, decision };
}
