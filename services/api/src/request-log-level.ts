import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The level of a request's log line. A 5xx is the server failing, an error; except 503, the
 * documented "not now" (no model version loaded yet, Redis unreachable) that clients retry:
 * a warning. Logged as errors, the 503s a readiness probe (`npm start`'s, compose's) gets
 * while the model loads made every normal start log error lines.
 */
export function requestLogLevel(status: number, err?: unknown): 'info' | 'warn' | 'error' {
  if (err) return 'error';
  if (status === 503) return 'warn';
  return status >= 500 ? 'error' : 'info';
}

/** pino-http's stand-in error for a 5xx answered without one (nothing was thrown). */
const isStandIn = (err: Error, res: ServerResponse): boolean => err.message === `failed with status code ${res.statusCode}`;

/**
 * pino-http options: levels from requestLogLevel, and no made-up error for a 5xx nothing
 * threw. pino-http logs one with a stack trace pointing into itself; the real failures are
 * logged with their own stack by the error middleware.
 */
export const requestLogOptions = {
  customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) => requestLogLevel(res.statusCode, err),
  customErrorMessage: (_req: IncomingMessage, res: ServerResponse, err: Error) => (isStandIn(err, res) ? 'request completed' : 'request errored'),
  customErrorObject: (_req: IncomingMessage, res: ServerResponse, err: Error, val: Record<string, unknown>) => {
    if (!isStandIn(err, res)) return val;
    const { err: _standIn, ...rest } = val;
    return rest;
  },
};
