import { VERSION_PATTERN } from '@ct/core';
import express from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_BODY_BYTES } from './api-schemas';
import type { AppDeps, ModelContext } from './app-deps';
import { ApiError } from './errors/api-error';
import { requestLogLevel } from './request-log-level';
import { renderProblem, toApiError } from './errors/problem';
import { requestIdOf } from './request-id';
import { predict } from './routes/predict';
import type { LoadedModel } from './model-cache';
import { requireJson } from './validate';

const PREDICT_PATH = /^\/(?:models\/([^/?]+)\/)?predict(?:\?(.*))?$/;

type BodyRequest = IncomingMessage & { body?: unknown };

/**
 * `POST /predict` and `POST /models/:model/predict`, served on the raw `node:http` request
 * ahead of Express. Measured (docs/benchmarks.md): Express 5's per-request setup (prototype
 * swaps on req/res, router, pino-http's child logger) cost about 10x the prediction itself,
 * capping the hot path near 4,000 requests/s on two cores. The lane keeps what matters of
 * the Express path: body-parser's rules (a plain UTF-8 body is read by a lean reader with
 * the same limit, strictness and error types; a compressed or other-charset body goes
 * through body-parser itself), the same validation and prediction code, the same
 * problem+json rendering, a request id and one log line per request. Everything else goes
 * to Express.
 *
 * Returns a listener that answers a request and returns true, or returns false for any
 * request that is not a prediction.
 */
export function createPredictLane(deps: AppDeps, defaultModel: string): (req: IncomingMessage, res: ServerResponse) => boolean {
  // The catalogue's live map: a model registered or archived is seen by the next request.
  const contexts: ReadonlyMap<string, ModelContext> = deps.catalog.contexts;
  const parseJson = express.json({ limit: MAX_BODY_BYTES, strict: true });
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const m = PREDICT_PATH.exec(req.url ?? '');
    if (!m) return false;
    const started = process.hrtime.bigint();
    const id = requestIdOf(req);
    const send = (status: number, headers: Record<string, string>, body: string): void => {
      res.writeHead(status, { ...headers, 'Content-Length': Buffer.byteLength(body), 'X-Request-Id': id });
      res.end(body);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const level = requestLogLevel(status);
      deps.logger[level]({ req: { id, method: 'POST', url: req.url }, res: { statusCode: status }, responseTime: Math.round(ms) }, 'request completed');
    };
    const fail = (err: unknown): void => {
      const apiError = toApiError(err);
      if (apiError.code === 'internal') deps.logger.error({ err, req_id: id }, 'unhandled error');
      const p = renderProblem(apiError, req.url ?? '', id);
      send(p.status, p.headers, p.body);
    };
    let model: string;
    try {
      model = m[1] === undefined ? defaultModel : decodeURIComponent(m[1]);
    } catch {
      fail(new ApiError('bad_request', 'malformed percent-escape in the path'));
      return true;
    }
    const ctx = contexts.get(model);
    if (!ctx) {
      fail(deps.catalog.notFound(model));
      return true;
    }
    try {
      requireJson(req.headers['content-type']);
    } catch (err) {
      // Drain the body so the connection can be reused, then refuse it.
      req.resume();
      fail(err);
      return true;
    }
    // `?version=`: a kept version instead of the served one, for comparisons (off the fast path).
    const version = m[2] === undefined ? null : new URLSearchParams(m[2]).get('version');
    if (version !== null && !VERSION_PATTERN.test(version)) {
      req.resume();
      fail(new ApiError('validation_failed', 'version must look like v3.0-1a2b3c', [{ field: 'version', pointer: '/version', code: 'invalid_format', message: 'expected vN.0-xxxxxx' }]));
      return true;
    }
    const respond = (body: unknown, loaded?: LoadedModel): void => {
      try {
        send(200, { 'Content-Type': 'application/json; charset=utf-8' }, predict(deps, ctx, body, loaded));
      } catch (e) {
        fail(e);
      }
    };
    const answer = (err: unknown, body?: unknown): void => {
      if (err) fail(err);
      else if (version === null) respond(body);
      else deps.cache.loadVersion(model, version).then((loaded) => respond(body, loaded), fail);
    };
    if (isPlainUtf8(req)) readPlainJson(req, answer);
    else parseJson(req, res, (err?: unknown) => answer(err, (req as BodyRequest).body));
    return true;
  };
}

/** No content encoding and a UTF-8 (or unstated) charset: the common case the lean reader takes. */
function isPlainUtf8(req: IncomingMessage): boolean {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
  const type = req.headers['content-type'] ?? '';
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(type)?.[1];
  return charset === undefined || /^utf-?8$/i.test(charset);
}

/**
 * Reads a plain UTF-8 JSON body with body-parser's rules (size limit, strict JSON: an object
 * or an array) and the same error types, without its per-request machinery.
 */
function readPlainJson(req: IncomingMessage, done: (err: unknown, body?: unknown) => void): void {
  const declared = Number(req.headers['content-length']);
  if (declared > MAX_BODY_BYTES) {
    req.resume();
    done({ type: 'entity.too.large' });
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let failed = false;
  req.on('data', (chunk: Buffer) => {
    if (failed) return;
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      failed = true;
      done({ type: 'entity.too.large' });
      return;
    }
    chunks.push(chunk);
  });
  req.on('error', () => {
    if (!failed) {
      failed = true;
      done({ type: 'request.aborted' });
    }
  });
  req.on('end', () => {
    if (failed) return;
    const text = (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)).toString('utf8');
    const first = /\S/.exec(text)?.[0];
    if (first !== '{' && first !== '[') {
      done({ type: 'entity.parse.failed' });
      return;
    }
    try {
      done(undefined, JSON.parse(text));
    } catch {
      done({ type: 'entity.parse.failed' });
    }
  });
}
