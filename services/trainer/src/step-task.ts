import type { FitReport, GateDecision, LabeledSet, ModelSpec, Policy, Preprocessing } from '@ct/core';

/**
 * Rows named by the stored segments that hold them, in order (their content hashes): the fit
 * thread joins them from the segments it keeps, so a job sends only the segments the thread
 * has not seen instead of every row again (see RowCache).
 */
export interface SegmentsRef {
  segments: readonly string[];
}

/** Work sent to the fit thread: everything CPU-bound in a job (fit, predict, score, gate). */
export type StepTask =
  | { kind: 'bootstrap'; spec: ModelSpec; algorithm: string; hyperparameters: unknown; data: LabeledSet }
  | {
      kind: 'train';
      spec: ModelSpec;
      algorithm: string;
      hyperparameters: unknown;
      champion: { algorithm: string; params: unknown; preprocessing: Preprocessing | null };
      /** The champion's training rows (ignored, and may be empty, when `fromScratch`). */
      accumulated: SegmentsRef;
      trusted: SegmentsRef;
      growing: SegmentsRef;
      batch: LabeledSet;
      fromScratch: boolean;
      policy: Policy;
    };

/** A task as posted to the fit thread, with the rows of the segments it names that the thread does not hold yet. */
export interface TaskMessage {
  id: number;
  task: StepTask;
  segments: [hash: string, rows: LabeledSet][];
}

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
