import { argmaxRows, predictProbaRows, type ModelSpec, type RawValue } from '@ct/core';
import { MAX_PREDICT_RECORDS, type RequestRow } from '../api-schemas';
import type { AppDeps, ModelContext } from '../app-deps';
import { ApiError } from '../errors/api-error';
import { newPredictionId } from '../feedback/prediction-id';
import type { LoadedModel } from '../model-cache';
import type { RowReader } from '../row-reader';
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

/** A `/predict` body's rows, validated: cells in feature order, and each row's missing (imputed) feature names. */
interface ReadRows {
  isBatch: boolean;
  raw: RawValue[][];
  /** Per row, the features that were missing and are imputed; undefined when none was. */
  missing: (string[] | undefined)[] | undefined;
}

/** The cells of a row zod accepted, in feature order (a missing value is null). */
function cellsOf(spec: ModelSpec, row: RequestRow): RawValue[] {
  const { features } = spec;
  const cells = new Array<RawValue>(features.length);
  for (let j = 0; j < features.length; j++) cells[j] = row[(features[j] as { name: string }).name] ?? null;
  return cells;
}

/**
 * Validates a parsed `/predict` body (one row, or `{ records: [...] }`): the fast reader
 * first, zod for anything it does not accept (zod's 422 names what is wrong).
 */
/** Whether a parsed `/predict` body asks for a batch (`{ records: [...] }`) rather than one row. */
export function isBatchBody(body: unknown): body is Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && 'records' in body;
}

function readRows({ spec, schemas, readRow }: ModelContext, body: unknown): ReadRows {
  const isBatch = isBatchBody(body);
  let raw: RawValue[][] | undefined;
  if (!isBatch) {
    const cells = readRow(body);
    raw = [cells ?? cellsOf(spec, parseOrThrow(schemas.row, body))];
  } else {
    raw = readBatch(readRow, body);
    raw ??= parseOrThrow(schemas.batch, body).records.map((r) => cellsOf(spec, r));
  }
  // Only a feature that imputes can be null here: the reader and the schemas refuse the others.
  let missing: (string[] | undefined)[] | undefined;
  for (let i = 0; i < raw.length; i++) {
    const cells = raw[i] as RawValue[];
    for (let j = 0; j < cells.length; j++) {
      if (cells[j] !== null) continue;
      missing ??= new Array<string[] | undefined>(raw.length);
      (missing[i] ??= []).push((spec.features[j] as { name: string }).name);
    }
  }
  return { isBatch, raw, missing };
}

/** `{ records: [...] }` read by the fast reader, or undefined for zod to decide. */
function readBatch(readRow: RowReader, body: Record<string, unknown>): RawValue[][] | undefined {
  for (const key in body) if (key !== 'records') return undefined;
  const records = body.records;
  if (!Array.isArray(records) || records.length < 1 || records.length > MAX_PREDICT_RECORDS) return undefined;
  const raw = new Array<RawValue[]>(records.length);
  for (let i = 0; i < records.length; i++) {
    const cells = readRow(records[i]);
    if (cells === undefined) return undefined;
    raw[i] = cells;
  }
  return raw;
}

/** Rows scored by one version: class probabilities (row-major) and the predicted classes. */
interface ScoredRows extends ReadRows {
  proba: Float64Array;
  labels: Int32Array;
}

function scoreRows(ctx: ModelContext, loaded: LoadedModel, body: unknown): ScoredRows {
  const { isBatch, raw, missing } = readRows(ctx, body);
  const proba = predictProbaRows(loaded.classifier, raw);
  // Named members, not `...read`: V8 clones a spread object on a slow path, measured at
  // about 1 µs a request here, 30x the literal.
  return { isBatch, raw, missing, proba, labels: argmaxRows(proba, ctx.spec.target.classes.length) };
}

/**
 * Validates a parsed `/predict` body (one row, or `{ records: [...] }`) against the model's
 * schemas and predicts every row with `loaded`. Throws ApiError on a bad body.
 */
export function predictRows(ctx: ModelContext, loaded: LoadedModel, body: unknown): { isBatch: boolean; predictions: RowPrediction[] } {
  const { isBatch, raw, missing, proba, labels } = scoreRows(ctx, loaded, body);
  const { classes } = ctx.spec.target;
  const k = classes.length;
  const predictions = new Array<RowPrediction>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const probabilities = Array.from(proba.subarray(i * k, (i + 1) * k));
    // No prototype: a class named `__proto__` is a key like any other, as in the written answer.
    const byClass = Object.create(null) as Record<string, number>;
    for (let j = 0; j < k; j++) byClass[classes[j] as string] = probabilities[j] as number;
    const label = labels[i] as number;
    const imputed = missing?.[i];
    predictions[i] = { prediction: label, class_name: classes[label] as string, probabilities, probabilities_by_class: byClass, ...(imputed ? { imputed } : {}) };
  }
  return { isBatch, predictions };
}

/** A probability as JSON writes it (a non-finite one, which softmax never gives, as null). */
function numberJson(p: number): string {
  return Number.isFinite(p) ? String(p) : 'null';
}

/**
 * The members of row `i`'s prediction as JSON text, in {@link RowPrediction}'s order
 * (`prediction_id` last, as a batch row has always had it), without the braces. Written
 * rather than built as objects and stringified: it runs for every row on the hot path, and
 * each probability is turned into text once for both of the lists it appears in.
 */
function rowJson(classNamesJson: readonly string[], proba: Float64Array, labels: Int32Array, i: number, imputed: string[] | undefined, id: string | undefined): string {
  const k = classNamesJson.length;
  let list = '';
  let byClass = '';
  for (let j = 0; j < k; j++) {
    const p = numberJson(proba[i * k + j] as number);
    const sep = j === 0 ? '' : ',';
    list += sep + p;
    byClass += `${sep}${classNamesJson[j] as string}:${p}`;
  }
  const label = labels[i] as number;
  const tail = (imputed ? `,"imputed":${JSON.stringify(imputed)}` : '') + (id === undefined ? '' : `,"prediction_id":"${id}"`);
  return `"prediction":${label},"class_name":${classNamesJson[label] as string},"probabilities":[${list}],"probabilities_by_class":{${byClass}}${tail}`;
}

/**
 * The JSON text of a `/predict` answer for a parsed JSON request body (`bodyText`: the text it
 * was parsed from, when at hand): class index, name and
 * probabilities per row, by the served version or by `version` when given (`?version=`).
 * Recorded for the prediction log and the feedback index. Throws ApiError.
 */
export function predict(deps: AppDeps, ctx: ModelContext, body: unknown, bodyText: string | undefined, version?: LoadedModel): string {
  // One read of the served reference: a reload during this request cannot mix versions.
  const loaded = version ?? deps.cache.get(ctx.spec.name);
  if (!loaded) throw new ApiError('model_not_ready', `model ${ctx.spec.name} has no loaded version yet`, [], { 'Retry-After': '2' });
  const { isBatch, raw, missing, proba, labels } = scoreRows(ctx, loaded, body);
  const modelVersion = loaded.artifact.version;
  const model = ctx.spec.name;
  // One id per row, indexed (on the writer thread) so feedback can name the row it labels.
  const now = Date.now();
  const ids = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i++) ids[i] = newPredictionId(now);
  const predictionId = ids[0] as string;
  deps.metrics?.countPredictions(model, modelVersion, ctx.spec.target.classes, labels);
  // Written once for both the answer and the prediction log.
  let outputJson: string;
  if (isBatch) {
    const rows = new Array<string>(raw.length);
    for (let i = 0; i < raw.length; i++) rows[i] = `{${rowJson(ctx.classNamesJson, proba, labels, i, missing?.[i], ids[i])}}`;
    outputJson = `{"predictions":[${rows.join(',')}]}`;
  } else outputJson = `{${rowJson(ctx.classNamesJson, proba, labels, 0, missing?.[0], undefined)}}`;
  if (deps.predictions.enabled) {
    deps.predictions.record({
      t: now,
      model,
      version: modelVersion,
      ids: raw.length === 1 ? predictionId : ids.join(','),
      inputText: bodyText ?? JSON.stringify(body),
      outputJson,
      rows: raw,
      labels,
    });
  }
  // A single row's id leads the answer (the lab's shape); a batch's ids are in its rows.
  const head = `${isBatch ? '' : `"prediction_id":"${predictionId}",`}"model":${JSON.stringify(model)},"model_version":${JSON.stringify(modelVersion)}`;
  return `{${head},${outputJson.slice(1)}`;
}
