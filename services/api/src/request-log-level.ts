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
