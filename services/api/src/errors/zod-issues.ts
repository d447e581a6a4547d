import type { z } from 'zod';
import type { FieldError } from './api-error';

type Path = readonly PropertyKey[];

const dotted = (path: Path): string =>
  path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), '');
const pointer = (path: Path): string => path.map((k) => `/${String(k).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

/**
 * Flattens zod issues into one entry per offending field. An unknown-keys issue names every
 * unknown key as its own field, so a client sees exactly what to remove.
 */
export function fieldErrors(error: z.ZodError, prefix: Path = []): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const p = [...path, key];
        out.push({ field: dotted(p), pointer: pointer(p), code: 'unrecognized_key', message: `unknown field "${key}"` });
      }
      continue;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // A discriminated union with a bad discriminator: report it once, on the union's path.
      out.push({ field: dotted(path), pointer: pointer(path), code: issue.code, message: issue.message });
      continue;
    }
    out.push({ field: dotted(path), pointer: pointer(path), code: issue.code, message: issue.message });
  }
  return out;
}
