/**
 * Training data no retry can fix (too few classes, wrong width, labels out of range). The
 * trainer turns it into BullMQ's UnrecoverableError so the job fails at once.
 */
export class TrainingDataError extends Error {
  override readonly name = 'TrainingDataError';
}
