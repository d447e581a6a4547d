import { checkBootstrapSet, dataReportOf, modelSpecSchema, readSpecCsv, readSpecRows, SpecRowError, TrainingDataError, type LabeledSet } from '../src';

// Registration at run time (issue 8): bootstrap rows come as CSV text or as JSON rows, read
// onto the spec with the same rules, and are checked before anything is written.

const spec = modelSpecSchema.parse({
  name: 'toy',
  features: [
    { name: 'island', type: 'categorical', levels: ['Biscoe', 'Dream'] },
    { name: 'mass', type: 'numeric', exclusive_minimum: 0, maximum: 10000, missing: 'impute' },
    { name: 'eggs', type: 'integer', minimum: 0 },
  ],
  target: { column: 'species', classes: ['A', 'B'] },
  dataset: { file: 'toy.csv' },
  algorithm: 'logistic_regression',
  guardrails: { alpha: 0.05, min_accuracy: 0.5 },
});

test('JSON rows: label by class name under the target column, null/absent/"NA" missing, unknown keys ignored and reported', () => {
  const r = readSpecRows(
    [
      { island: 'Biscoe', mass: 3750, eggs: 2, species: 'A', year: 2007 },
      { island: 'Dream', mass: null, eggs: 1, species: 'B' },
      { island: 'Dream', eggs: 1, species: 'B', colour: 'grey' },
      { island: 'Biscoe', mass: 4000, eggs: 3, species: null },
      { island: 'Biscoe', mass: 'NA', species: 'A' },
    ],
    spec,
  );
  expect(r.set).toEqual({ x: [['Biscoe', 3750, 2], ['Dream', null, 1], ['Dream', null, 1]], y: [0, 1, 1] });
  expect(dataReportOf(r)).toEqual({ rows: 3, dropped_no_label: 1, dropped_missing: 1, imputed_cells: 2, ignored_columns: ['year', 'colour'] });
});

test.each<[string, Record<string, unknown>, string | undefined, RegExp]>([
  ['an unknown class', { island: 'Biscoe', mass: 1, eggs: 1, species: 'C' }, 'species', /unknown class "C"/],
  ['an unknown level', { island: 'Anvers', mass: 1, eggs: 1, species: 'A' }, 'island', /"Anvers" is not one of Biscoe, Dream/],
  ['a number as text', { island: 'Biscoe', mass: '3750', eggs: 1, species: 'A' }, 'mass', /"3750" is not a number/],
  ['a fraction for an integer', { island: 'Biscoe', mass: 1, eggs: 1.5, species: 'A' }, 'eggs', /1.5 is not an integer/],
  ['a value past a bound', { island: 'Biscoe', mass: 0, eggs: 1, species: 'A' }, 'mass', /0 is not greater than 0/],
  ['an object', { island: 'Biscoe', mass: { kg: 3 }, eggs: 1, species: 'A' }, 'mass', /is not a number/],
])('JSON rows: %s is an error naming the row and the column', (_what, row, column, message) => {
  const good = { island: 'Dream', mass: 1, eggs: 1, species: 'B' };
  try {
    readSpecRows([good, row], spec);
  } catch (err) {
    expect(err).toBeInstanceOf(SpecRowError);
    expect({ row: (err as SpecRowError).row, column: (err as SpecRowError).column }).toEqual({ row: 1, column });
    expect((err as SpecRowError).problem).toMatch(message);
    return;
  }
  throw new Error('the rows were accepted');
});

test('CSV: a value outside the feature bounds is an error naming the line and the column', () => {
  expect(() => readSpecCsv('species,island,mass,eggs\nA,Biscoe,3750,2\nB,Dream,20000,1\n', spec)).toThrow(/line 3, column "mass": 20000 is above the maximum 10000/);
  expect(() => readSpecCsv('species,island,mass,eggs\nA,Biscoe,3750,-1\n', spec)).toThrow(/line 2, column "eggs": -1 is below the minimum 0/);
  expect(() => readSpecCsv('species,island,mass,eggs\nA,Biscoe,heavy,1\n', spec)).toThrow(/line 2, column "mass": "heavy" is not a number/);
});

test('bootstrap data: at least 10 rows, 2 classes, and a held-out slice of 2 classes', () => {
  const m = { classes: spec.target.classes, features: spec.features, evalFraction: 0.2, seed: 42 };
  const rows = (labels: number[]): LabeledSet => ({ x: labels.map(() => ['Biscoe', 1, 1]), y: labels });
  expect(() => checkBootstrapSet(rows([0, 1, 0, 1, 0, 1, 0, 1, 0, 1]), m)).not.toThrow();
  expect(() => checkBootstrapSet(rows([0, 1, 0, 1]), m)).toThrow(/at least 10 usable rows to start from, got 4/);
  expect(() => checkBootstrapSet(rows(Array(20).fill(0)), m)).toThrow(/at least 2 classes/);
  // 19 of one class, 1 of the other: the held-out 20 % holds one class only.
  expect(() => checkBootstrapSet(rows([...Array(19).fill(0), 1]), m)).toThrow(TrainingDataError);
  expect(() => checkBootstrapSet({ x: [['Biscoe', 1]], y: [0] }, m)).toThrow(/has 2 features, expected 3/);
});
