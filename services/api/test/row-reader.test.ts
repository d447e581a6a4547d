/**
 * The fast row reader against the zod row schema it stands in front of: it may give up on
 * any row (zod then decides), but a row it accepts must be one zod accepts, with the same
 * cells; and it must accept the plainly valid rows, or it saves nothing.
 */
import type { FeatureSpec, ModelSpec, RawValue } from '@ct/core';
import { parseModelSpec } from '@ct/registry';
import fc from 'fast-check';
import { modelSchemas, rowValues, type RequestRow } from '../src/api-schemas';
import { compileRowReader } from '../src/row-reader';
import { SPECS } from './helpers/harness';

/** Every kind of feature and bound a spec can state. */
const mixed: ModelSpec = parseModelSpec(
  {
    name: 'mixed',
    description: 'every feature kind',
    features: [
      { name: 'colour', type: 'categorical', description: 'a colour', levels: ['red', 'green', '__proto__'] },
      { name: 'size', type: 'numeric', description: 'a size', exclusive_minimum: 0, maximum: 10 },
      { name: 'count', type: 'integer', description: 'a count', minimum: -3, exclusive_maximum: 1e6, missing: 'impute', impute: 'median' },
      { name: 'shade', type: 'categorical', description: 'a shade', levels: ['light', 'dark'], missing: 'impute' },
      { name: 'free', type: 'numeric', description: 'unbounded' },
    ],
    target: { column: 'y', classes: ['a', 'b'] },
    dataset: { file: 'none.csv' },
    algorithm: 'knn',
    policy: { name: 'any_improvement' },
    guardrails: { alpha: 0.05, min_accuracy: 0.5 },
    seed: 1,
    eval_fraction: 0.2,
  },
  'mixed.json',
);

const specs: readonly ModelSpec[] = [...SPECS, mixed];

/** Values of every awkward kind. */
const awkward: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('Red', '', null, true, '5', [], {}, NaN, Infinity, -Infinity, -0, 0, 1, -1, Number.MAX_VALUE * 10, 2 ** 53, 0.5, 9.99, 10, 10.000001, 1e6, -3, -4, 'red', 'dark', 'Dream', 'MALE'),
  fc.double(),
  fc.integer({ min: -10, max: 2e6 }),
  fc.string({ maxLength: 4 }),
);

/** A value the feature takes (mostly), or an awkward one. */
function valueFor(f: FeatureSpec): fc.Arbitrary<unknown> {
  let valid: fc.Arbitrary<unknown>;
  if (f.type === 'categorical') valid = fc.constantFrom(...f.levels);
  else {
    const min = Math.max(f.minimum ?? -1e6, f.exclusive_minimum ?? -1e6);
    const max = Math.min(f.maximum ?? 1e6, f.exclusive_maximum ?? 1e6);
    valid = f.type === 'integer' ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) }) : fc.double({ min, max, noNaN: true });
  }
  return fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: awkward });
}

/** Rows near a spec's shape: its features, some left out, some extra or odd keys. */
function rowFor(spec: ModelSpec): fc.Arbitrary<unknown> {
  const odd = fc.constantFrom('__proto__', 'constructor', 'toString', 'label', 'extra');
  const row = fc.record({
    values: fc.tuple(...spec.features.map(valueFor)),
    // Each feature left out now and then, an odd key added now and then.
    dropped: fc.array(fc.boolean(), { minLength: spec.features.length, maxLength: spec.features.length }).map((bs) => bs.map((b, j) => b && j % 3 === 0)),
    extra: fc.option(fc.tuple(odd, awkward), { freq: 8 }),
  });
  return fc.oneof(
    { weight: 9, arbitrary: row.map(({ values, dropped, extra }) => {
      const entries: [string, unknown][] = spec.features.flatMap((f, j) => (dropped[j] ? [] : [[f.name, values[j]] as [string, unknown]]));
      if (extra) entries.push(extra);
      // Through JSON as a request body goes: `__proto__` becomes an own key, undefined goes.
      return JSON.parse(JSON.stringify(Object.fromEntries(entries))) as unknown;
    }) },
    { weight: 1, arbitrary: fc.constantFrom(null, [], 'row', 3, [1, 2, 3, 4]) },
  );
}

describe.each(specs.map((s) => [s.name, s] as const))('the fast reader of %s', (_name, spec) => {
  const schema = modelSchemas(spec).row;
  const read = compileRowReader(spec);

  it('accepts only rows zod accepts, with the cells zod gives', () => {
    fc.assert(
      fc.property(rowFor(spec), (row) => {
        const cells = read(row);
        if (cells === undefined) return;
        const parsed = schema.safeParse(row);
        expect(parsed.success).toBe(true);
        expect(cells).toEqual(rowValues(spec, parsed.data as RequestRow));
      }),
      { numRuns: 3000, seed: 20261202 },
    );
  });

  it('accepts the valid rows zod accepts (the fast path is taken)', () => {
    let accepted = 0;
    fc.assert(
      fc.property(rowFor(spec), (row) => {
        const parsed = schema.safeParse(row);
        if (!parsed.success) return;
        accepted++;
        // zod's output holds no key it did not accept: the reader reads that row alike.
        const cells: RawValue[] | undefined = read(row);
        expect(cells).toEqual(rowValues(spec, parsed.data));
      }),
      { numRuns: 3000, seed: 7 },
    );
    expect(accepted).toBeGreaterThan(0);
  });

  it('reads the spec example', () => {
    if (spec.example === undefined) return;
    expect(read(spec.example)).toEqual(rowValues(spec, spec.example as RequestRow));
  });
});
