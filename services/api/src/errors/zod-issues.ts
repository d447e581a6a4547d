import type { z } from 'zod';
import type { FieldError } from './api-error';

type Path = readonly PropertyKey[];

/**
 * Longest key name an error echoes back; a longer one is cut and ends with an ellipsis. A key
 * is the client's own text, so echoing it whole let a 2 MB key come back as an 8 MB answer
 * (in `field`, `pointer`, `message` and the detail).
 */
export const MAX_ECHOED_NAME = 64;

/** `name` cut to MAX_ECHOED_NAME characters plus `…`, never between the halves of a surrogate pair. */
export function clipName(name: string): string {
  if (name.length <= MAX_ECHOED_NAME) return name;
  const last = name.charCodeAt(MAX_ECHOED_NAME - 1);
  const end = last >= 0xd800 && last <= 0xdbff ? MAX_ECHOED_NAME - 1 : MAX_ECHOED_NAME;
  return `${name.slice(0, end)}…`;
}

const segment = (k: PropertyKey): string | number => (typeof k === 'number' ? k : clipName(String(k)));
const dotted = (path: Path): string =>
  path.map(segment).reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${k}` : k), '');
const pointer = (path: Path): string => path.map((k) => `/${String(segment(k)).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

/**
 * Options for zod's `safeParse` that skip the one message fieldErrors never shows: zod's own
 * text for unknown keys quotes every key (a 2 MB string for 180,000 of them).
 */
export const parseOptions = {
  error: (issue: { code?: string }): string | undefined => (issue.code === 'unrecognized_keys' ? 'unknown fields' : undefined),
} as const;

/** How many entries fieldErrors lists for `error` without a limit (each unknown key is one), without building them. */
export function countFieldErrors(error: z.ZodError): number {
  let n = 0;
  for (const issue of error.issues) n += issue.code === 'unrecognized_keys' ? issue.keys.length : 1;
  return n;
}

/**
 * Flattens zod issues into one entry per offending field, in order, and stops after `limit`
 * entries (count them all with countFieldErrors). An unknown-keys issue names every unknown
 * key as its own field, so a client sees exactly what to remove. Key names are clipped
 * (clipName) wherever they appear.
 */
export function fieldErrors(error: z.ZodError, { limit = Infinity, prefix = [] }: { limit?: number; prefix?: Path } = {}): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    if (out.length >= limit) break;
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        if (out.length >= limit) break;
        const p = [...path, key];
        out.push({ field: dotted(p), pointer: pointer(p), code: 'unrecognized_key', message: `unknown field "${clipName(key)}"` });
      }
      continue;
    }
    // Anything else, a discriminated union with a bad discriminator included, is reported once, on its path.
    out.push({ field: dotted(path), pointer: pointer(path), code: issue.code, message: issue.message });
  }
  return out;
}
