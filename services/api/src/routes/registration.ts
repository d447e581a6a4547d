import { checkBootstrapSet, CsvError, DEFAULT_MODEL, dataReportOf, readSpecCsv, readSpecRows, sha256Canonical, SpecRowError, TrainingDataError, type ModelSpec, type SpecCsv } from '@ct/core';
import { jobIdTail, registryJobId } from '@ct/queue';
import { parseRegisteredSpec, SpecError } from '@ct/registry';
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../app-deps';
import { ApiError, type FieldError } from '../errors/api-error';
import { specView } from '../registry-schemas';
import { parseOrThrow, requireJson } from '../validate';
import { callerScopedKey, submit } from './jobs';

const registerBodySchema = z.strictObject({
  /** Validated by parseRegisteredSpec, which names the JSON path of a mistake (and checks the algorithm and its hyperparameters). */
  spec: z.record(z.string(), z.unknown()),
  data: z.union([
    z.strictObject({
      csv: z.string().min(1).meta({ description: "the bootstrap rows as CSV text: a header line naming the spec's features and its target column; NA or empty is missing; other columns are ignored" }),
    }),
    z.strictObject({
      rows: z
        // A cell is a scalar: a nested value is refused here, before anything walks it.
        .array(z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])))
        .min(1)
        .meta({ description: 'the bootstrap rows as objects: each feature by name (numbers as numbers, levels as strings, null when missing) and the target column with the class name' }),
    }),
  ]),
});

/** Body of `POST /models`, as documented: the spec is a ModelSpec (its `dataset` may be left out: the data comes with the request). */
export const registerModelRequestSchema = registerBodySchema.extend({ spec: specView }).meta({ id: 'register_model_request' });

/** Query of `DELETE /models/:model`. */
export const archiveModelQuerySchema = z.strictObject({
  reason: z.string().min(1).max(500).optional().meta({ description: 'why, in your words: recorded in the archive marker' }),
});

/** A spec path (`features[2].levels`) as a field and a JSON pointer under `prefix`. */
function fieldAt(prefix: readonly (string | number)[], dotted: string): Pick<FieldError, 'field' | 'pointer'> {
  const parts = [...prefix, ...dotted.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== '')];
  return {
    field: parts.reduce<string>((acc, p) => (/^\d+$/.test(String(p)) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : String(p)), ''),
    pointer: parts.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join(''),
  };
}

/** The spec of a registration, validated; a 422 naming the JSON path of the first mistake. */
function specOf(json: unknown): ModelSpec {
  try {
    return parseRegisteredSpec(json, 'spec');
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    throw new ApiError('validation_failed', `the spec is not valid${err.jsonPath ? ` at ${err.jsonPath}` : ''}: ${err.problem}`, [
      { ...fieldAt(['spec'], err.jsonPath), code: 'invalid_spec', message: err.problem },
    ]);
  }
}

/** The bootstrap rows of a registration read onto its spec; a 422 saying where they do not fit. */
function dataOf(spec: ModelSpec, data: z.output<typeof registerBodySchema>['data']): SpecCsv {
  let read: SpecCsv;
  try {
    read = 'csv' in data ? readSpecCsv(data.csv, spec) : readSpecRows(data.rows, spec);
  } catch (err) {
    if (err instanceof CsvError) {
      throw new ApiError('validation_failed', `data.csv does not fit the spec: ${err.message}`, [{ ...fieldAt(['data', 'csv'], ''), code: 'invalid_data', message: err.message }]);
    }
    if (err instanceof SpecRowError) {
      const at = fieldAt(['data', 'rows', err.row, ...(err.column === undefined ? [] : [err.column])], '');
      throw new ApiError('validation_failed', `data.rows does not fit the spec: ${err.message}`, [{ ...at, code: 'invalid_data', message: err.problem }]);
    }
    throw err;
  }
  try {
    checkBootstrapSet(read.set, { classes: spec.target.classes, features: spec.features, evalFraction: spec.eval_fraction, seed: spec.seed });
  } catch (err) {
    if (!(err instanceof TrainingDataError)) throw err;
    throw new ApiError('validation_failed', `the data cannot bootstrap the model: ${err.message}`, [{ ...fieldAt(['data'], ''), code: 'insufficient_data', message: err.message }]);
  }
  return read;
}

/**
 * `POST /models`: registers a model at run time from a spec and its bootstrap rows (CSV text
 * or JSON rows). Everything is checked here first (the spec, the rows against it, the name
 * free), then a `register` job goes to the registry queue: the API mounts the artifacts
 * read-only, so the trainer writes `spec.json` and the rows and bootstraps the model like a
 * built-in one. Answers like `/train` (202 + job, or 200 with `Prefer: wait`); every replica
 * serves the model within a few seconds of its registration, and predicts once the bootstrap
 * is committed. Two registrations of one name racing are both queued; the trainer registers
 * the first and fails the other.
 */
export function registerModelHandler(deps: AppDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    requireJson(req.get('content-type'));
    const body = parseOrThrow(registerBodySchema, req.body);
    const spec = specOf(body.spec);
    const key = callerScopedKey(req);
    const jobId = registryJobId(spec.name, 'register', jobIdTail(key));
    // A replay of a key whose registration went through answers with its job, not a 409.
    const replay = key !== undefined && (await deps.queues.find(jobId)) !== undefined;
    if (!replay) {
      const taken = await deps.catalog.whyTaken(spec.name);
      if (taken) throw new ApiError('conflict', taken);
    }
    const read = dataOf(spec, body.data);
    await submit(
      deps,
      req,
      res,
      {
        kind: 'register',
        model: spec.name,
        body_hash: sha256Canonical({ kind: 'register', body }),
        spec,
        data: read.set,
        data_report: dataReportOf(read),
        source: 'api',
        file: null,
      },
      jobId,
    );
  };
}

/**
 * `DELETE /models/:model`: archives a model, a job on the registry queue that writes
 * `models/<name>/archived.json` (when, which request, why). Every replica then stops serving
 * it (404 saying it is archived) and the trainers stop training it; its history and versions
 * are kept. The default model cannot be archived (409).
 */
export function archiveModelHandler(deps: AppDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const name = String((req.params as { model?: string }).model);
    if (name === DEFAULT_MODEL) {
      throw new ApiError('conflict', `the default model ${DEFAULT_MODEL} cannot be archived: the lab's paths (/predict, /train, /model/info) serve it`);
    }
    const { spec } = deps.catalog.resolve(name);
    const query = parseOrThrow(archiveModelQuerySchema, req.query, 'query');
    await submit(
      deps,
      req,
      res,
      {
        kind: 'archive',
        model: spec.name,
        body_hash: sha256Canonical({ kind: 'archive', model: spec.name, reason: query.reason ?? null }),
        reason: query.reason ?? null,
      },
      registryJobId(spec.name, 'archive', jobIdTail(callerScopedKey(req))),
    );
  };
}
