import { encodedWidth, encodeRows, featureSpecSchema, fitPreprocessing, preprocessingSchema, readSpecCsv, modelSpecSchema, type FeatureSpec, type RawValue } from '../src';

// One preprocessing in front of every algorithm (issue 8): imputation, one-hot encoding and
// standardization, each fitted on training rows only and stored as validated JSON.

const features: FeatureSpec[] = [
  featureSpecSchema.parse({ name: 'size', type: 'numeric', missing: 'impute', impute: 'median' }),
  featureSpecSchema.parse({ name: 'weight', type: 'numeric', missing: 'impute' }),
  featureSpecSchema.parse({ name: 'colour', type: 'categorical', levels: ['red', 'green', 'blue'], missing: 'impute' }),
];
const rows: RawValue[][] = [
  [1, 10, 'red'],
  [2, null, 'blue'],
  [null, 30, 'blue'],
  [10, 20, null],
];

test('imputation learns the median, the mean and the most frequent level from the training rows', () => {
  const p = fitPreprocessing(features, rows, { standardize: false });
  expect(p?.features).toEqual([
    { name: 'size', type: 'numeric', fill: 2 }, // median of 1, 2, 10
    { name: 'weight', type: 'numeric', fill: 20 }, // mean of 10, 30, 20
    { name: 'colour', type: 'categorical', levels: ['red', 'green', 'blue'], fill: 'blue' },
  ]);
});

test('one-hot encoding: one column per level in the spec order, missing cells filled', () => {
  const p = fitPreprocessing(features, rows, { standardize: false });
  expect(p && encodedWidth(p)).toBe(5);
  const x = encodeRows(p, rows);
  expect([x.rows, x.cols]).toEqual([4, 5]);
  expect(Array.from(x.data)).toEqual([1, 10, 1, 0, 0, 2, 20, 0, 0, 1, 2, 30, 0, 0, 1, 10, 20, 0, 0, 1]);
});

test('standardization: encoded columns get mean 0 and variance 1 on the training rows; a constant column keeps scale 1', () => {
  const constant = [featureSpecSchema.parse({ name: 'a', type: 'numeric' }), featureSpecSchema.parse({ name: 'b', type: 'numeric' })];
  const data: RawValue[][] = [
    [1, 5],
    [2, 5],
    [3, 5],
  ];
  const p = fitPreprocessing(constant, data, { standardize: true });
  // scikit-learn's StandardScaler on [[1,5],[2,5],[3,5]]: mean_ [2, 5], scale_ [0.816496580927726, 1].
  expect(p?.standardize?.mean).toEqual([2, 5]);
  expect(p?.standardize?.scale[0]).toBeCloseTo(0.816496580927726, 14);
  expect(p?.standardize?.scale[1]).toBe(1);
  expect(Array.from(encodeRows(p, data).data).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([-1.224745, 0, 0, 0, 1.224745, 0]);
});

test('numbers only, nothing filled or scaled: no preprocessing at all (null), rows copied as they are', () => {
  const plain = [featureSpecSchema.parse({ name: 'a', type: 'numeric' })];
  expect(fitPreprocessing(plain, [[1], [2]], { standardize: false })).toBeNull();
  expect(Array.from(encodeRows(null, [[1.5], [2.5]]).data)).toEqual([1.5, 2.5]);
});

test('round trip: the stored JSON is validated and encodes the same', () => {
  const p = fitPreprocessing(features, rows, { standardize: true });
  const back = preprocessingSchema.parse(JSON.parse(JSON.stringify(p)));
  expect(encodeRows(back, rows).data).toEqual(encodeRows(p, rows).data);
  expect(preprocessingSchema.safeParse({ ...back, standardize: { mean: [0], scale: [1] } }).success).toBe(false);
  expect(preprocessingSchema.safeParse({ ...back, features: [{ name: 'c', type: 'categorical', levels: ['x'], fill: 'y' }] }).success).toBe(false);
});

test('an unknown level or a missing value with nothing to fill it is refused', () => {
  const p = fitPreprocessing(features, rows, { standardize: false });
  expect(() => encodeRows(p, [[1, 1, 'purple']])).toThrow(/purple.*red, green, blue/);
  expect(() => encodeRows(null, [[null]])).toThrow(/not a number/);
});

test('the CSV reader: quoted fields, NA and empty as missing, class names, extra columns ignored, rows without a label dropped', () => {
  const spec = modelSpecSchema.parse({
    name: 'toy',
    features: [
      { name: 'island', type: 'categorical', levels: ['Biscoe', 'Dream, North'] },
      { name: 'mass', type: 'numeric', missing: 'impute' },
    ],
    target: { column: 'species', classes: ['A', 'B'] },
    dataset: { file: 'toy.csv' },
    algorithm: 'logistic_regression',
    guardrails: { alpha: 0.05, min_accuracy: 0.5 },
  });
  const csv = 'species,island,mass,year\nA,Biscoe,3750,2007\nB,"Dream, North",NA,2008\nNA,Biscoe,4000,2009\nB,Biscoe,,2009\nA,,3000,2007\n';
  const r = readSpecCsv(csv, spec);
  expect(r.set).toEqual({
    x: [
      ['Biscoe', 3750],
      ['Dream, North', null],
      ['Biscoe', null],
    ],
    y: [0, 1, 1],
  });
  expect(r).toMatchObject({ droppedNoLabel: 1, droppedMissing: 1, imputedCells: 2, ignoredColumns: ['year'] });
  expect(() => readSpecCsv('species,island,mass\nA,Anvers,1\n', spec)).toThrow(/line 2, column "island": "Anvers" is not one of Biscoe, Dream, North/);
  expect(() => readSpecCsv('species,island,mass\nC,Biscoe,1\n', spec)).toThrow(/unknown class "C"/);
});
