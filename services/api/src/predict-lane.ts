import { VERSION_PATTERN } from '@ct/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppDeps } from './app-deps';
import { ApiError } from './errors/api-error';
import { renderProblem, toApiError } from './errors/problem';
import { AnswerHold } from './pipeline/answer-hold';
import type { RequestState } from './pipeline/request-pipeline';
import type { RateHeaders } from './security/rate-limits';
import { isBatchBody, predict } from './routes/predict';
import { requireJson } from './validate';

const PREDICT_PATH = /^\/(?:models\/([^/?]+)\/)?predict(?:\?(.*))?$/;

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * `POST /predict` and `POST /models/:model/predict`, served on the raw `node:http` request
 * ahead of Express. Measured (docs/benchmarks.md): Express 5's per-request setup (prototype
 * swaps on req/res, the router) cost about 10x the prediction itself, capping the hot path
 * near 4,000 requests/s on two cores. The lane runs the same request pipeline as the app
 * (request id, auth, rate limit, body, log line: RequestPipeline), the same validation and
 * prediction code and the same problem+json rendering; everything else goes to Express.
 * Its answers are written together at the end of each turn of the event loop (AnswerHold).
 *
 * Returns a listener that answers a request and returns true, or returns false for any
 * request that is not a prediction.
 */
export function createPredictLane(deps: AppDeps, defaultModel: string): (req: IncomingMessage, res: ServerResponse) => boolean {
  const hold = new AnswerHold<Exchange>(writeAnswer);
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const m = PREDICT_PATH.exec(req.url ?? '');
    if (!m) return false;
    const state = deps.pipeline.start(req);
    const exchange: Exchange = { deps, hold, req, res, state, rateHeaders: undefined, route: m[1] === undefined ? '/predict' : '/models/:model/predict', status: 0, headers: NO_HEADERS, body: '' };
    serve(exchange, defaultModel, m[1], m[2]).catch((err: unknown) => refuse(exchange, err));
    return true;
  };
}

/** One request on the lane: what its answer needs, whichever way it ends. */
interface Exchange {
  readonly deps: AppDeps;
  /** The lane's held answers, this one's among them once it is answered. */
  readonly hold: AnswerHold<Exchange>;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly state: RequestState;
  /** Set once the request was counted (a refusal before that has none). */
  rateHeaders: RateHeaders | undefined;
  /** The route template, for metrics. */
  readonly route: string;
  /** The answer, once made: its status, its headers as `writeHead`'s flat list, its body. */
  status: number;
  headers: readonly string[];
  body: string;
}

const NO_HEADERS: readonly string[] = [];

async function serve(x: Exchange, defaultModel: string, modelInPath: string | undefined, query: string | undefined): Promise<void> {
  const { deps, req } = x;
  // The catalogue's live map: a model registered or archived is seen by the next request.
  const { catalog, pipeline } = deps;
  let model: string;
  try {
    model = modelInPath === undefined ? defaultModel : decodeURIComponent(modelInPath);
  } catch {
    throw new ApiError('bad_request', 'malformed percent-escape in the path');
  }
  const admission = await pipeline.admit(req, 'predict', model);
  x.rateHeaders = admission.headers;
  const ctx = catalog.contexts.get(model);
  if (!ctx) throw catalog.notFound(model);
  requireJson(req.headers['content-type']);
  // `?version=`: a kept version instead of the served one, for comparisons (off the fast path).
  const version = query === undefined ? null : new URLSearchParams(query).get('version');
  if (version !== null && !VERSION_PATTERN.test(version)) {
    throw new ApiError('validation_failed', 'version must look like v3.0-1a2b3c', [{ field: 'version', pointer: '/version', code: 'invalid_format', message: 'expected vN.0-xxxxxx' }]);
  }
  const body = await pipeline.readBody(req, x.res);
  // A batch of rows may take long: the answers held so far go out before it, not after.
  if (isBatchBody(body.value)) x.hold.flush();
  const loaded = version === null ? undefined : await deps.cache.loadVersion(model, version);
  send(x, 200, JSON_TYPE, undefined, predict(deps, ctx, body.value, body.text, loaded));
}

function refuse(x: Exchange, err: unknown): void {
  // Drain an unread body so the connection can be reused, then refuse the request.
  x.req.resume();
  const apiError = toApiError(err);
  if (apiError.code === 'internal') x.deps.logger.error({ err, req_id: x.state.id }, 'unhandled error');
  const p = renderProblem(apiError, x.req.url ?? '', x.state.id);
  send(x, p.status, undefined, p.headers, p.body);
}

/** Makes the answer (headers as a flat list, see writeAnswer) and hands it to the lane's hold. */
function send(x: Exchange, status: number, contentType: string | undefined, headers: Readonly<Record<string, string>> | undefined, body: string): void {
  const list: string[] = ['X-Request-Id', x.state.id, 'Content-Length', String(Buffer.byteLength(body))];
  if (contentType !== undefined) list.push('Content-Type', contentType);
  const rate = x.rateHeaders;
  if (rate !== undefined) for (const name in rate) list.push(name, rate[name] as string);
  if (headers !== undefined) for (const name in headers) list.push(name, headers[name] as string);
  x.status = status;
  x.headers = list;
  x.body = body;
  x.hold.add(x);
}

/**
 * Writes the whole answer with one `writeHead` given a flat list of headers, node's fast
 * path (no header object per request, no header stored one by one), then logs the request
 * (its time includes the hold).
 */
function writeAnswer(x: Exchange): void {
  try {
    x.res.writeHead(x.status, x.headers as string[]);
    x.res.end(x.body);
  } catch (err) {
    // Not expected (the headers are ours, and node writes nothing to a closed connection
    // rather than throw), but the hold writes outside any request's promise: a throw here
    // would end the process. The connection is closed instead of left waiting.
    x.deps.logger.error({ err, req_id: x.state.id }, 'could not write an answer');
    x.res.destroy();
  }
  x.deps.pipeline.log(x.state, x.req, x.status, x.route);
}
