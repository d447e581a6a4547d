import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { ApiError } from './api-error';
import { renderProblem, toApiError } from './problem';

/** 404 problem for anything no route matched. */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new ApiError('not_found', `no route for ${req.method} ${req.path}`));
};

/**
 * The one error middleware: every failure leaves as `application/problem+json` (RFC 9457)
 * with a stable `code`; unexpected errors are logged with their stack and answered as a bare
 * `internal` problem.
 */
export const errorMiddleware =
  (logger: Logger): ErrorRequestHandler =>
  (err: unknown, req, res, _next) => {
  const apiError = toApiError(err);
  if (apiError.code === 'internal') logger.error({ err, req_id: req.id }, 'unhandled error');
  if (res.headersSent) {
    res.end();
    return;
  }
  const problem = renderProblem(apiError, req.originalUrl, req.id);
  res.status(problem.status).set(problem.headers).send(problem.body);
  };
