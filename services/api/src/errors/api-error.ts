import { ERROR_TABLE, type ErrorCode } from './error-codes';

/** One offending field of a request, as listed in a problem's `errors`. */
export interface FieldError {
  /** Dotted path with indices, e.g. `records[0].sepal_length` (empty for the whole body). */
  field: string;
  /** JSON Pointer (RFC 6901) to the same place, e.g. `/records/0/sepal_length`. */
  pointer: string;
  /** Machine-readable reason (zod's issue code, or one of ours). */
  code: string;
  message: string;
}

/**
 * The API's one error type: a code from the closed set, a human detail, and optionally the
 * fields at fault. The error middleware turns it into problem+json; anything else thrown
 * becomes `internal` without leaking its message or stack.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly errors: FieldError[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(`${code}: ${detail}`);
    this.status = ERROR_TABLE[code].status;
  }
}
