import type { FitReport, GateDecision, LabeledSet, ModelSpec, Policy, Preprocessing } from '@ct/core';

/** Work sent to the fit thread: everything CPU-bound in a job (fit, predict, score, gate). */
export type StepTask =
  | { kind: 'bootstrap'; spec: ModelSpec; algorithm: string; hyperparameters: unknown; data: LabeledSet }
  | {
      kind: 'train';
      spec: ModelSpec;
      algorithm: string;
      hyperparameters: unknown;
      champion: { algorithm: string; params: unknown; preprocessing: Preprocessing | null };
      accumulated: LabeledSet;
      trusted: LabeledSet;
      growing: LabeledSet;
      batch: LabeledSet;
      fromScratch: boolean;
      policy: Policy;
    };

/**
 * What the fit thread sends back: the model as its JSON parameters, the decision, and only
 * the rows the job stores (the batch's two parts), not the whole training set: the data hash
 * and size are computed in the thread.
 */
export interface StepOutcome {
  params: unknown;
  /** The fitted preprocessing; null when it changes nothing. */
  preprocessing: Preprocessing | null;
  fit: FitReport;
  hyperparameters: unknown;
  /** sha256 of the whole training set, recorded in the artifact. */
  dataHash: string;
  nTraining: number;
  batchTrain: LabeledSet;
  batchHoldout: LabeledSet;
  /** Time spent in the algorithm's fit, in ms: the rest of a job is overhead the bench watches. */
  fitMs: number;
  decision: GateDecision;
}

/** Messages from the fit thread. */
export type ThreadMessage =
  | { type: 'progress'; id: number; fraction: number }
  | { type: 'done'; id: number; outcome: StepOutcome }
  | { type: 'error'; id: number; name: string; message: string };
