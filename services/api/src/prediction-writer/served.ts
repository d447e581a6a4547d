import type { RawValue } from '@ct/core';
import type { PredictionIndex } from '../feedback/prediction-index';
import type { PredictionLog } from '../prediction-log';

/**
 * One `/predict` answer as the prediction log and the feedback index need it. It crosses to
 * the writer thread as plain strings and numbers in a flat batch (see {@link appendServed}):
 * everything the event loop already has, and nothing serialized on it that the thread can
 * serialize instead.
 */
export interface ServedPredictions {
  /** When it was served, Unix ms (the ids carry the same time). */
  t: number;
  model: string;
  version: string;
  /** One id per row, joined with `,` (ids are UUIDs: no comma in one). */
  ids: string;
  /** The request body as JSON text, as the client sent it: it is normalized on the thread. */
  inputText: string;
  /** The prediction as JSON, as in the answer (the log's `output`). */
  outputJson: string;
  /** Each row's cells in the spec's feature order (null: missing, imputed). */
  rows: readonly (readonly RawValue[])[];
  /** The predicted class index of each row. */
  labels: ArrayLike<number>;
}

/**
 * Appends `p` to a flat batch: `t, model, version, ids, inputText, outputJson, rows, width`,
 * then each row's label, then every row's cells. A batch is one array of strings and numbers,
 * cheap to copy to another thread (no object per answer, no number turned into text).
 */
export function appendServed(batch: (RawValue | number)[], p: ServedPredictions): void {
  const n = p.rows.length;
  const width = n === 0 ? 0 : (p.rows[0] as readonly RawValue[]).length;
  batch.push(p.t, p.model, p.version, p.ids, p.inputText, p.outputJson, n, width);
  for (let i = 0; i < n; i++) batch.push(p.labels[i] as number);
  for (let i = 0; i < n; i++) {
    const row = p.rows[i] as readonly RawValue[];
    for (let j = 0; j < width; j++) batch.push(row[j] as RawValue);
  }
}

/** What {@link writeServed} did with a batch. */
export interface WrittenBatch {
  /** Answers in the batch. */
  answers: number;
  /** Of those, answers that could not be written (their text did not parse): left out, not fatal. */
  failed: number;
}

/**
 * Writes every answer of a flat batch to the prediction log and the index (either may be
 * absent: turned off). Runs on the writer thread.
 */
export function writeServed(batch: readonly (RawValue | number)[], log: PredictionLog | undefined, index: PredictionIndex | undefined): WrittenBatch {
  let answers = 0;
  let failed = 0;
  let at = 0;
  while (at < batch.length) {
    answers++;
    const t = batch[at] as number;
    const model = batch[at + 1] as string;
    const version = batch[at + 2] as string;
    const ids = (batch[at + 3] as string).split(',');
    const inputText = batch[at + 4] as string;
    const outputJson = batch[at + 5] as string;
    const n = batch[at + 6] as number;
    const width = batch[at + 7] as number;
    const labelsAt = at + 8;
    const cellsAt = labelsAt + n;
    at = cellsAt + n * width;
    let inputJson: string;
    try {
      // The body as the log has always had it: stringified again it is compact and on one
      // line, whatever the client's spacing (JSON.parse accepted it before the answer).
      inputJson = JSON.stringify(JSON.parse(inputText));
    } catch {
      failed++;
      continue;
    }
    if (log) log.write({ prediction_id: ids[0] as string, model, version, inputJson, outputJson, t });
    if (index) {
      const cells = new Array<string>(n);
      for (let i = 0; i < n; i++) cells[i] = JSON.stringify(batch.slice(cellsAt + i * width, cellsAt + (i + 1) * width));
      index.record(ids, model, version, cells, batch.slice(labelsAt, cellsAt) as number[], t);
    }
  }
  return { answers, failed };
}
