import { ApiError, type FieldError } from './api-error';

/**
 * A `validation_failed` error whose `errors` holds only the first problems found, with a count
 * of the others (`unlisted`, rendered as `errors_truncated`). An answer must not grow with the
 * number of problems in a request: 180,000 unknown keys in a 2 MB body once made a 20 MB
 * answer that took a second to build, during which no other request was served.
 */
export class PartialValidationError extends ApiError {
  constructor(
    detail: string,
    errors: FieldError[],
    readonly unlisted: number,
  ) {
    super('validation_failed', detail, errors);
  }
}
