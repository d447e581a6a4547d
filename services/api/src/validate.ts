import type { z } from 'zod';
import { ApiError } from './errors/api-error';
import { PartialValidationError } from './errors/partial-validation-error';
import { clipName, countFieldErrors, fieldErrors, parseOptions } from './errors/zod-issues';

// `application/json`, any case, optionally followed by parameters (what Express's req.is accepts).
const JSON_TYPE = /^application\/json[ \t]*(?:;|$)/i;

/**
 * Most field errors one answer lists; the others are counted in the detail and in
 * `errors_truncated`. Enough to fix a request by hand, small whatever the request holds.
 */
export const MAX_LISTED_ERRORS = 20;

/** Whether a Content-Type declares JSON (what `requireJson` accepts). */
export function isJsonType(contentType: string | undefined): boolean {
  return JSON_TYPE.test(contentType ?? '');
}

/** Refuses a body that is not declared as JSON (415), before looking at it. */
export function requireJson(contentType: string | undefined): void {
  if (!isJsonType(contentType)) {
    throw new ApiError('unsupported_media_type', `Content-Type must be application/json, got ${contentType === undefined ? 'none' : clipName(contentType)}`);
  }
}

/**
 * Parses `value` with `schema` or throws a 422 naming the offending fields: the first
 * MAX_LISTED_ERRORS of them, and how many more there are.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what = 'body', prefix: readonly PropertyKey[] = []): z.output<S> {
  const result = schema.safeParse(value, parseOptions);
  if (result.success) return result.data;
  const total = countFieldErrors(result.error);
  const errors = fieldErrors(result.error, { limit: MAX_LISTED_ERRORS, prefix });
  const unlisted = total - errors.length;
  const names = errors.map((e) => e.field || '(root)').join(', ');
  throw new PartialValidationError(`${total} invalid field(s) in the ${what}: ${names}${unlisted > 0 ? ` and ${unlisted} more` : ''}`, errors, unlisted);
}
