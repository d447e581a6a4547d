import { argmaxRows, mlLogisticRegression, toMatrix } from '../src';

const x = toMatrix([
  [1, 1],
  [1.2, 0.8],
  [0.9, 1.1],
  [5, 5],
  [5.2, 4.9],
  [4.8, 5.1],
  [9, 1],
  [9.1, 1.2],
  [8.8, 0.9],
]);
const y = Int32Array.from([0, 0, 0, 1, 1, 1, 2, 2, 2]);
const hyperparameters = mlLogisticRegression.hyperparametersSchema.parse({});

test('fits separable clusters and gives normalised probabilities', () => {
  const { model, report } = mlLogisticRegression.fit({ x, y, nClasses: 3, hyperparameters, seed: 42 });
  expect(report.iterations).toBe(1000);
  const p = model.predictProba(x);
  expect(Array.from(argmaxRows(p, 3))).toEqual(Array.from(y));
  for (let i = 0; i < 9; i++) expect(p[i * 3]! + p[i * 3 + 1]! + p[i * 3 + 2]!).toBeCloseTo(1, 12);
});

test('round-trips through its validated JSON parameters', () => {
  const { model } = mlLogisticRegression.fit({ x, y, nClasses: 3, hyperparameters, seed: 42 });
  const params = mlLogisticRegression.paramsSchema.parse(JSON.parse(JSON.stringify(model.toParams())));
  expect(Array.from(mlLogisticRegression.load(params).predictProba(x))).toEqual(Array.from(model.predictProba(x)));
});

test('a class absent from training gets probability 0, the others keep their indices', () => {
  const two = Int32Array.from([0, 0, 0, 2, 2, 2, 2, 2, 2]);
  const { model } = mlLogisticRegression.fit({ x, y: two, nClasses: 3, hyperparameters, seed: 42 });
  const p = model.predictProba(x);
  expect(p[1]).toBe(0);
  expect(argmaxRows(p, 3)[0]).toBe(0);
  expect(argmaxRows(p, 3)[8]).toBe(2);
});

test('parameters that do not fit the declared shape are refused', () => {
  const { model } = mlLogisticRegression.fit({ x, y, nClasses: 3, hyperparameters, seed: 42 });
  const params = { ...(model.toParams() as object), n_features: 5 };
  expect(() => mlLogisticRegression.load(mlLogisticRegression.paramsSchema.parse(params))).toThrow(RangeError);
  expect(mlLogisticRegression.paramsSchema.safeParse({ ...(model.toParams() as object), code: 'x' }).success).toBe(false);
});
