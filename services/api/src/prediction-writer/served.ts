import type { RawValue } from '@ct/core';
import type { PredictionIndex } from '../feedback/prediction-index';
import type { PredictionLog } from '../prediction-log';
import { unpack, type PackedBatch } from './served-batch';

/**
 * One `/predict` answer as the prediction log and the feedback index need it: what the event
 * loop already has, nothing serialized there that the writer thread can serialize instead. It
 * crosses to the thread packed in a ServedBatch.
 */
export interface ServedPredictions {
  /** When it was served, Unix ms (the ids carry the same time). */
  t: number;
  model: string;
  version: string;
  /** One id per row, joined with `,` (ids are UUIDs: no comma in one). */
  ids: string;
  /**
   * The request body as JSON text, as the client sent it: text JSON.parse accepted (`predict()`
   * records nothing else). The thread writes it as is, or on one line when it has line breaks.
   */
  inputText: string;
  /** The prediction as JSON, as in the answer (the log's `output`). */
  outputJson: string;
  /** Each row's cells in the spec's feature order (null: missing, imputed). */
  rows: readonly (readonly RawValue[])[];
  /** The predicted class index of each row. */
  labels: ArrayLike<number>;
}

/** What {@link writeServed} did with a batch. */
export interface WrittenBatch {
  /** Answers in the batch. */
  answers: number;
  /** Of those, answers that could not be written (their text did not parse): left out, not fatal. */
  failed: number;
}

const LINE_BREAK = /[\r\n]/;

/**
 * Writes every answer of a packed batch to the prediction log and the index (either may be
 * absent: turned off). Runs on the writer thread.
 */
export function writeServed(batch: PackedBatch, log: PredictionLog | undefined, index: PredictionIndex | undefined): WrittenBatch {
  let failed = 0;
  for (const a of unpack(batch)) {
    let inputJson = a.inputText;
    // JSON.parse accepted the body before the answer. Without a line break it is already valid
    // JSON on one line, written as sent; with one (only whitespace between tokens can be one)
    // it is stringified again onto one line. Parsing every body again cost more than the rest
    // of its line.
    if (LINE_BREAK.test(inputJson)) {
      try {
        inputJson = JSON.stringify(JSON.parse(inputJson));
      } catch {
        failed++;
        continue;
      }
    }
    const ids = a.ids.split(',');
    if (log) log.write({ prediction_id: ids[0] as string, model: a.model, version: a.version, inputJson, outputJson: a.outputJson, t: a.t });
    if (index) index.record(ids, a.model, a.version, a.rows.map((row) => JSON.stringify(row)), a.labels, a.t);
  }
  return { answers: batch.answers, failed };
}
