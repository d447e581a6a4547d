import type { LabeledSet, Policy, StepResult } from '@ct/core';

/** Work sent to the fit thread: everything CPU-bound in a job (fit, predict, score, gate). */
export type StepTask =
  | { kind: 'bootstrap'; model: string; algorithm: string; hyperparameters: unknown; data: LabeledSet }
  | {
      kind: 'train';
      model: string;
      algorithm: string;
      hyperparameters: unknown;
      champion: { algorithm: string; params: unknown };
      accumulated: LabeledSet;
      evalSet: LabeledSet;
      batch: LabeledSet;
      fromScratch: boolean;
      policy: Policy;
    };

/** What the fit thread sends back: the step's result with the model as its JSON parameters. */
export type StepOutcome = Omit<StepResult, 'model'> & { params: unknown };

/** Messages from the fit thread. */
export type ThreadMessage =
  | { type: 'progress'; id: number; fraction: number }
  | { type: 'done'; id: number; outcome: StepOutcome }
  | { type: 'error'; id: number; name: string; message: string };
