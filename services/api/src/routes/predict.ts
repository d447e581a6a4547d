import { argmaxRows, predictProbaRows, type RawValue } from '@ct/core';
import type { AppDeps, ModelContext } from '../app-deps';
import { ApiError } from '../errors/api-error';
import { newPredictionId } from '../feedback/prediction-id';
import type { LoadedModel } from '../model-cache';
import { parseOrThrow } from '../validate';

/** One row's prediction as the API answers it. */
export interface RowPrediction {
  /** The row's id in a batch answer (a single row's id leads the answer instead): what feedback names. */
  prediction_id?: string;
  prediction: number;
  class_name: string;
  probabilities: number[];
  probabilities_by_class: Record<string, number>;
  /** Features that were missing and filled by the version's preprocessing (only when some were). */
  imputed?: string[];
}

/**
 * Validates a parsed `/predict` body (one row, or `{ records: [...] }`) against the model's
 * schemas and predicts every row with `loaded`. Throws ApiError on a bad body.
 */
export function predictRows({ spec, schemas }: ModelContext, loaded: LoadedModel, body: unknown): { isBatch: boolean; predictions: RowPrediction[]; raw: RawValue[][]; labels: ArrayLike<number> } {
  const isBatch = typeof body === 'object' && body !== null && !Array.isArray(body) && 'records' in body;
  const rows = isBatch ? parseOrThrow(schemas.batch, body).records : [parseOrThrow(schemas.row, body)];
  // Plain loops: this runs for every request on the hot path.
  const { features } = spec;
  const { classes } = spec.target;
  const cols = features.length;
  // Cells in feature order; a missing one (the schema let it through, so the feature imputes)
  // is null and named in the answer.
  const raw = new Array<RawValue[]>(rows.length);
  let missing: string[][] | undefined;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as Record<string, RawValue | undefined>;
    const cells = new Array<RawValue>(cols);
    for (let j = 0; j < cols; j++) {
      const name = (features[j] as { name: string }).name;
      const v = row[name];
      if (v === undefined || v === null) {
        ((missing ??= Array.from({ length: rows.length }, () => []))[i] as string[]).push(name);
        cells[j] = null;
      } else cells[j] = v;
    }
    raw[i] = cells;
  }
  const k = classes.length;
  const proba = predictProbaRows(loaded.classifier, raw);
  const labels = argmaxRows(proba, k);
  const predictions = new Array<RowPrediction>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const probabilities = new Array<number>(k);
    const byClass: Record<string, number> = {};
    for (let j = 0; j < k; j++) {
      const p = proba[i * k + j] as number;
      probabilities[j] = p;
      byClass[classes[j] as string] = p;
    }
    const label = labels[i] as number;
    const imputed = missing?.[i];
    predictions[i] = { prediction: label, class_name: classes[label] as string, probabilities, probabilities_by_class: byClass, ...(imputed && imputed.length > 0 ? { imputed } : {}) };
  }
  return { isBatch, predictions, raw, labels };
}

/**
 * The JSON text of a `/predict` answer for a parsed JSON request body: class index, name and
 * probabilities per row, by the served version or by `version` when given (`?version=`).
 * Logged to the prediction log. Throws ApiError.
 */
export function predict(deps: AppDeps, ctx: ModelContext, body: unknown, version?: LoadedModel): string {
  // One read of the served reference: a reload during this request cannot mix versions.
  const loaded = version ?? deps.cache.get(ctx.spec.name);
  if (!loaded) throw new ApiError('model_not_ready', `model ${ctx.spec.name} has no loaded version yet`, [], { 'Retry-After': '2' });
  const { isBatch, predictions, raw, labels } = predictRows(ctx, loaded, body);
  const modelVersion = loaded.artifact.version;
  const model = ctx.spec.name;
  // One id per row, indexed (off the hot path) so feedback can name the row it labels.
  const now = Date.now();
  const ids = new Array<string>(predictions.length);
  for (let i = 0; i < predictions.length; i++) {
    ids[i] = newPredictionId(now);
    if (isBatch) (predictions[i] as RowPrediction).prediction_id = ids[i];
  }
  const predictionId = ids[0] as string;
  deps.predictionIndex.record(ids, model, modelVersion, raw, labels, now);
  deps.metrics?.countPredictions(model, modelVersion, ctx.spec.target.classes, labels);
  // Serialized once for both the answer and the prediction log: on the hot path this is
  // the largest piece of work after the HTTP exchange itself.
  const outputJson = JSON.stringify(isBatch ? { predictions } : predictions[0]);
  deps.predictionLog.write({ prediction_id: predictionId, model: ctx.spec.name, version: modelVersion, input: body, outputJson });
  // A single row's id leads the answer (the lab's shape); a batch's ids are in its rows.
  const head = JSON.stringify(isBatch ? { model, model_version: modelVersion } : { prediction_id: predictionId, model, model_version: modelVersion });
  return `${head.slice(0, -1)},${outputJson.slice(1)}`;
}
