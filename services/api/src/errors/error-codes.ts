/**
 * The closed set of error codes the API answers with, and the one table from code to HTTP
 * status and title. Clients switch on `code`; the status follows from it.
 */
export const ERROR_TABLE = {
  validation_failed: { status: 422, title: 'The request does not match the schema' },
  malformed_json: { status: 400, title: 'The body is not valid JSON' },
  bad_request: { status: 400, title: 'Bad request' },
  unsupported_media_type: { status: 415, title: 'The body must be application/json' },
  payload_too_large: { status: 413, title: 'The body is too large' },
  unauthorized: { status: 401, title: 'A valid bearer token is required' },
  forbidden: { status: 403, title: "The token's role or scope does not allow this" },
  not_found: { status: 404, title: 'Not found' },
  headers_too_large: { status: 431, title: 'The request headers are too large' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  idempotency_conflict: { status: 409, title: 'Idempotency-Key reused with a different body' },
  gone: { status: 410, title: 'It existed once and is gone (past the retention window)' },
  conflict: { status: 409, title: 'The request conflicts with the current state' },
  rate_limited: { status: 429, title: 'Too many requests; retry after the time given' },
  too_many_jobs: { status: 429, title: 'Too many queued jobs; retry when some have finished' },
  model_not_ready: { status: 503, title: 'The model has no loaded version yet' },
  queue_unavailable: { status: 503, title: 'The training queue (Redis) is unavailable' },
  auth_unavailable: { status: 503, title: 'Tokens cannot be checked right now (Redis is unavailable)' },
  internal: { status: 500, title: 'Internal server error' },
} as const satisfies Record<string, { status: number; title: string }>;

/** One of the API's error codes. */
export type ErrorCode = keyof typeof ERROR_TABLE;
