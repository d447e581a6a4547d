import { argmaxRows, type FeatureMatrix } from '@ct/core';
import { randomUUID } from 'node:crypto';
import type { AppDeps, ModelContext } from '../app-deps';
import { ApiError } from '../errors/api-error';
import { parseOrThrow } from '../validate';

/**
 * The JSON text of a `/predict` answer for a parsed JSON request body: one row, or
 * `{ records: [...] }`; class index, name and probabilities per row. Throws ApiError.
 */
export function predict(deps: AppDeps, { spec, schemas }: ModelContext, body: unknown): string {
  // One read of the served reference: a reload during this request cannot mix versions.
  const loaded = deps.cache.get(spec.name);
  if (!loaded) throw new ApiError('model_not_ready', `model ${spec.name} has no loaded version yet`, [], { 'Retry-After': '2' });
  const isBatch = typeof body === 'object' && body !== null && !Array.isArray(body) && 'records' in body;
  const rows = isBatch ? parseOrThrow(schemas.batch, body).records : [parseOrThrow(schemas.row, body)];
  // Plain loops: this runs for every request on the hot path.
  const { features, classes } = spec;
  const cols = features.length;
  const data = new Float64Array(rows.length * cols);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as Record<string, number>;
    for (let j = 0; j < cols; j++) data[i * cols + j] = row[(features[j] as { name: string }).name] as number;
  }
  const x: FeatureMatrix = { rows: rows.length, cols, data };
  const k = classes.length;
  const proba = loaded.classifier.predictProba(x);
  const labels = argmaxRows(proba, k);
  const predictions = new Array<{ prediction: number; class_name: string; probabilities: number[]; probabilities_by_class: Record<string, number> }>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const probabilities = new Array<number>(k);
    const byClass: Record<string, number> = {};
    for (let j = 0; j < k; j++) {
      const p = proba[i * k + j] as number;
      probabilities[j] = p;
      byClass[classes[j] as string] = p;
    }
    const label = labels[i] as number;
    predictions[i] = { prediction: label, class_name: classes[label] as string, probabilities, probabilities_by_class: byClass };
  }
  const predictionId = randomUUID();
  const version = loaded.artifact.version;
  // Serialized once for both the answer and the prediction log: on the hot path this is
  // the largest piece of work after the HTTP exchange itself.
  const outputJson = JSON.stringify(isBatch ? { predictions } : predictions[0]);
  deps.predictionLog.write({ prediction_id: predictionId, model: spec.name, version, input: body, outputJson });
  const head = JSON.stringify({ prediction_id: predictionId, model: spec.name, model_version: version });
  return `${head.slice(0, -1)},${outputJson.slice(1)}`;
}
