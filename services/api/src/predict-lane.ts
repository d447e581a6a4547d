import { VERSION_PATTERN } from '@ct/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppDeps } from './app-deps';
import { ApiError } from './errors/api-error';
import { renderProblem, toApiError } from './errors/problem';
import type { RateHeaders } from './security/rate-limits';
import { predict } from './routes/predict';
import { requireJson } from './validate';

const PREDICT_PATH = /^\/(?:models\/([^/?]+)\/)?predict(?:\?(.*))?$/;

const JSON_HEADERS = { 'Content-Type': 'application/json; charset=utf-8' };

/**
 * `POST /predict` and `POST /models/:model/predict`, served on the raw `node:http` request
 * ahead of Express. Measured (docs/benchmarks.md): Express 5's per-request setup (prototype
 * swaps on req/res, the router) cost about 10x the prediction itself, capping the hot path
 * near 4,000 requests/s on two cores. The lane runs the same request pipeline as the app
 * (request id, auth, rate limit, body, log line: RequestPipeline), the same validation and
 * prediction code and the same problem+json rendering; everything else goes to Express.
 *
 * Returns a listener that answers a request and returns true, or returns false for any
 * request that is not a prediction.
 */
export function createPredictLane(deps: AppDeps, defaultModel: string): (req: IncomingMessage, res: ServerResponse) => boolean {
  // The catalogue's live map: a model registered or archived is seen by the next request.
  const { catalog, pipeline } = deps;
  const contexts = catalog.contexts;
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const m = PREDICT_PATH.exec(req.url ?? '');
    if (!m) return false;
    const state = pipeline.begin(req, res);
    let rateHeaders: RateHeaders | undefined;
    const send = (status: number, headers: Record<string, string>, body: string): void => {
      res.writeHead(status, { ...rateHeaders, ...headers, 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      pipeline.log(state, req, status);
    };
    const serve = async (): Promise<void> => {
      let model: string;
      try {
        model = m[1] === undefined ? defaultModel : decodeURIComponent(m[1]);
      } catch {
        throw new ApiError('bad_request', 'malformed percent-escape in the path');
      }
      const admission = await pipeline.admit(req, 'predict', model);
      rateHeaders = admission.headers;
      const ctx = contexts.get(model);
      if (!ctx) throw catalog.notFound(model);
      requireJson(req.headers['content-type']);
      // `?version=`: a kept version instead of the served one, for comparisons (off the fast path).
      const version = m[2] === undefined ? null : new URLSearchParams(m[2]).get('version');
      if (version !== null && !VERSION_PATTERN.test(version)) {
        throw new ApiError('validation_failed', 'version must look like v3.0-1a2b3c', [{ field: 'version', pointer: '/version', code: 'invalid_format', message: 'expected vN.0-xxxxxx' }]);
      }
      const body = await pipeline.readBody(req, res);
      const loaded = version === null ? undefined : await deps.cache.loadVersion(model, version);
      send(200, JSON_HEADERS, predict(deps, ctx, body, loaded));
    };
    serve().catch((err: unknown) => {
      // Drain an unread body so the connection can be reused, then refuse the request.
      req.resume();
      const apiError = toApiError(err);
      if (apiError.code === 'internal') deps.logger.error({ err, req_id: state.id }, 'unhandled error');
      const p = renderProblem(apiError, req.url ?? '', state.id);
      send(p.status, p.headers, p.body);
    });
    return true;
  };
}
