import { ApiError } from './api-error';
import { ERROR_TABLE } from './error-codes';
import { PartialValidationError } from './partial-validation-error';

interface HttpLikeError {
  type?: string;
  status?: number;
  statusCode?: number;
}

/**
 * Maps failures raised before our handlers run (body-parser, the router's parameter
 * decoding) to our codes: they are client errors, never 500s.
 */
function fromHttpError(thrown: unknown): ApiError | undefined {
  if (typeof thrown !== 'object' || thrown === null) return undefined;
  const err = thrown as HttpLikeError;
  switch (err.type) {
    case 'entity.parse.failed':
      return new ApiError('malformed_json', 'the body could not be parsed as JSON');
    case 'entity.too.large':
      return new ApiError('payload_too_large', 'the body exceeds the size limit');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ApiError('unsupported_media_type', 'unsupported body encoding or charset');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new ApiError('bad_request', 'the body could not be read');
  }
  // Anything else carrying a 4xx status (a corrupt compressed body, a bad %-escape in a path
  // parameter) is the client's fault too.
  const status = err.status ?? err.statusCode;
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  if (status === 404) return new ApiError('not_found', 'not found');
  if (status === 413) return new ApiError('payload_too_large', 'the body exceeds the size limit');
  if (status === 415) return new ApiError('unsupported_media_type', 'unsupported body encoding');
  return new ApiError('bad_request', 'the request could not be read');
}

/** Anything thrown, as an ApiError: ours as is, known HTTP errors mapped, the rest `internal`. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return fromHttpError(err) ?? new ApiError('internal', 'unexpected error; see the server log');
}

/** A rendered `application/problem+json` answer (RFC 9457). */
export interface Problem {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Renders an ApiError as problem+json; the one place that decides what a client sees. */
export function renderProblem(error: ApiError, instance: string, requestId: string | undefined): Problem {
  return {
    status: error.status,
    headers: { ...error.headers, 'Content-Type': 'application/problem+json; charset=utf-8' },
    body: JSON.stringify({
      type: `urn:ct:problem:${error.code}`,
      title: ERROR_TABLE[error.code].title,
      status: error.status,
      code: error.code,
      detail: error.detail,
      instance,
      ...(requestId ? { request_id: requestId } : {}),
      ...(error.errors.length > 0 ? { errors: error.errors } : {}),
      // The problems found but not listed, so a client knows `errors` is not the whole story.
      ...(error instanceof PartialValidationError && error.unlisted > 0 ? { errors_truncated: error.unlisted } : {}),
    }),
  };
}
