import type { FeatureSpec, ModelSpec, RawValue } from '@ct/core';

/**
 * Reads one request row into its cells in the spec's feature order (null where a feature
 * that imputes is missing), or returns undefined when the row is not plainly valid.
 */
export type RowReader = (value: unknown) => RawValue[] | undefined;

type Check = (v: unknown) => boolean;

function checkOf(f: FeatureSpec): Check {
  if (f.type === 'categorical') {
    const levels = new Set<string>(f.levels);
    return (v) => typeof v === 'string' && levels.has(v);
  }
  const min = f.minimum ?? -Infinity;
  const above = f.exclusive_minimum ?? -Infinity;
  const max = f.maximum ?? Infinity;
  const below = f.exclusive_maximum ?? Infinity;
  // Safe integers only: anything zod may judge otherwise goes to zod.
  const integer = f.type === 'integer';
  return (v) => typeof v === 'number' && Number.isFinite(v) && v >= min && v > above && v <= max && v < below && (!integer || Number.isSafeInteger(v));
}

/**
 * The row schema's fast path, built once per model. `/predict` validates every row, and
 * zod's general machinery was the largest piece of our own work per request (about 8 % of
 * the API's busy time under load, docs/benchmarks.md): this reader accepts the common case,
 * a plain object holding exactly the spec's features with valid values, in one loop, and
 * gives up on anything else, so zod (the single source of the row's type, its OpenAPI and
 * its error messages) decides every row this one does not accept. It accepts only rows the
 * zod schema accepts, with the same cells (`row-reader.test.ts` checks that property).
 */
export function compileRowReader(spec: ModelSpec): RowReader {
  const { features } = spec;
  const cols = features.length;
  // A Map, not an object: `constructor` or `__proto__` as a key must not find anything.
  const index = new Map<string, number>(features.map((f, j) => [f.name, j]));
  const checks = features.map(checkOf);
  const imputes = features.map((f) => f.missing === 'impute');
  return (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const row = value as Record<string, unknown>;
    const cells = new Array<RawValue>(cols);
    let seen = 0;
    for (const key in row) {
      const j = index.get(key);
      if (j === undefined) return undefined;
      const v = row[key];
      if (v === null) {
        if (!imputes[j]) return undefined;
        cells[j] = null;
      } else {
        if (!(checks[j] as Check)(v)) return undefined;
        cells[j] = v as RawValue;
      }
      seen++;
    }
    if (seen !== cols) {
      for (let j = 0; j < cols; j++) {
        if (cells[j] !== undefined) continue;
        if (!imputes[j]) return undefined;
        cells[j] = null;
      }
    }
    return cells;
  };
}
