import type { Request, Response } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../app-deps';
import { ApiError } from '../errors/api-error';
import { renderProblem, toApiError } from '../errors/problem';
import type { compareEntrySchema, compareResponseSchema } from '../registry-schemas';
import { parseOrThrow, requireJson } from '../validate';
import { predictRows, type RowPrediction } from './predict';

/** The body of a comparison, as documented. */
type CompareResponse = z.infer<typeof compareResponseSchema>;

/** Most models one comparison may name. */
export const MAX_COMPARED = 10;

const target = z.string().regex(/^[a-z][a-z0-9-]{0,39}(@v[1-9][0-9]*\.0-[0-9a-f]{6})?$/, 'a model name, optionally @version (iris or iris@v2.0-1a2b3c)');
const targetsSchema = z.array(target).min(1).max(MAX_COMPARED);

/** One model's part of a comparison: its predictions, or why it could not give them. */
type CompareEntry = z.infer<typeof compareEntrySchema>;
type CompareError = Extract<CompareEntry, { error: unknown }>['error'];

/**
 * `POST /predict/compare?models=a,b,c` (or `"models": [...]` in the body, next to `records`):
 * the same records through several models (or kept versions, `name@version`) side by side,
 * and per row whether those that answered agree on the class. A model whose features the
 * records do not fit gets its own error entry; the request fails only when it is malformed
 * itself. Comparisons are not written to the prediction log: they are not served predictions.
 */
export function compareHandler(deps: AppDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    requireJson(req.get('content-type'));
    const raw: unknown = req.body;
    const body = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? { ...(raw as Record<string, unknown>) } : raw;
    let names: unknown = typeof req.query.models === 'string' ? req.query.models.split(',').filter((n) => n !== '') : undefined;
    if (typeof body === 'object' && body !== null && 'models' in body) {
      const fromBody = (body as { models?: unknown }).models;
      delete (body as { models?: unknown }).models;
      if (names !== undefined) throw new ApiError('bad_request', 'give the models either in the query or in the body, not both');
      names = fromBody;
    }
    const targets = parseOrThrow(targetsSchema, names ?? [], 'models');
    // pino-http's genReqId (app.ts) always assigns a string.
    const id = typeof req.id === 'string' ? req.id : undefined;
    const entries: CompareEntry[] = await Promise.all(
      targets.map(async (t): Promise<CompareEntry> => {
        const [model, version] = t.split('@') as [string, string | undefined];
        try {
          const ctx = deps.catalog.resolve(model);
          const loaded = version ? await deps.cache.loadVersion(model, version) : deps.cache.get(model);
          if (!loaded) throw new ApiError('model_not_ready', `model ${model} has no loaded version yet`);
          return { model, model_version: loaded.artifact.version, predictions: predictRows(ctx, loaded, body).predictions };
        } catch (err) {
          const problem = JSON.parse(renderProblem(toApiError(err), req.originalUrl, id).body) as CompareError;
          return { model, model_version: version ?? null, error: { status: problem.status, code: problem.code, detail: problem.detail, ...(problem.errors ? { errors: problem.errors } : {}) } };
        }
      }),
    );
    const answered = entries.filter((e): e is Extract<CompareEntry, { predictions: unknown }> => 'predictions' in e);
    const rows = answered[0]?.predictions.length ?? 0;
    const agreement = Array.from({ length: rows }, (_, i) => {
      // Every model that answered predicted the same records, hence as many rows.
      const classes = answered.map((e) => (e.predictions[i] as RowPrediction).class_name);
      return { row: i, agree: new Set(classes).size === 1, class_names: classes };
    });
    const answer: CompareResponse = { models: entries, agreement, all_agree: answered.length > 0 && agreement.every((a) => a.agree) };
    res.json(answer);
  };
}
