import type { z } from 'zod';
import { ApiError } from './errors/api-error';
import { fieldErrors } from './errors/zod-issues';

// `application/json`, any case, optionally followed by parameters (what Express's req.is accepts).
const JSON_TYPE = /^application\/json[ \t]*(?:;|$)/i;

/** Refuses a body that is not declared as JSON (415), before looking at it. */
export function requireJson(contentType: string | undefined): void {
  if (!JSON_TYPE.test(contentType ?? '')) {
    throw new ApiError('unsupported_media_type', `Content-Type must be application/json, got ${contentType ?? 'none'}`);
  }
}

/** Parses `value` with `schema` or throws a 422 naming every offending field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what = 'body'): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = fieldErrors(result.error);
  throw new ApiError('validation_failed', `${errors.length} invalid field(s) in the ${what}: ${errors.map((e) => e.field || '(root)').join(', ')}`, errors);
}
