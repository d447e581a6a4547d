import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadCatalog, parseModelSpec, SpecError } from '../src';

// A model is a validated spec: every kind of mistake is named with the file, the place in
// the JSON and what is wrong (issue 8), and the repository's own catalogue loads.

const valid = () => ({
  name: 'toy',
  features: [
    { name: 'size', type: 'numeric', exclusive_minimum: 0, maximum: 10 },
    { name: 'colour', type: 'categorical', levels: ['red', 'blue'], missing: 'impute' },
  ],
  target: { column: 'kind', classes: ['a', 'b'] },
  dataset: { file: 'toy.csv' },
  algorithm: 'logistic_regression',
  guardrails: { alpha: 0.05, min_accuracy: 0.5 },
});

const problem = (mutate: (s: any) => void): { jsonPath: string; problem: string } => {
  const s: any = valid();
  mutate(s);
  try {
    parseModelSpec(s, 'toy.json');
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    return { jsonPath: (err as SpecError).jsonPath, problem: (err as SpecError).problem };
  }
  throw new Error('the spec was accepted');
};

test('a valid spec gets its defaults', () => {
  const spec = parseModelSpec(valid(), 'toy.json');
  expect(spec).toMatchObject({ seed: 42, eval_fraction: 0.2, min_batch_for_eval_slice: 10, policy: { name: 'any_improvement' }, hyperparameters: {}, description: '' });
  expect(spec.features[0]).toMatchObject({ missing: 'refuse', impute: 'mean' });
});

test.each<[string, (s: any) => void, string, RegExp]>([
  ['a bad model name', (s) => (s.name = 'Toy Model'), 'name', /Invalid/i],
  ['an unknown feature type', (s) => (s.features[0].type = 'float'), 'features[0].type', /./],
  ['a duplicate feature', (s) => s.features.push({ ...s.features[0] }), 'features[2].name', /listed twice/],
  ['duplicate levels', (s) => (s.features[1].levels = ['red', 'red']), 'features[1].levels', /unique/],
  ['a feature that is the target', (s) => (s.features[0].name = 'kind'), 'features[0].name', /target column/],
  ['one class', (s) => (s.target.classes = ['a']), 'target.classes', /./],
  ['an unknown algorithm', (s) => (s.algorithm = 'deep_magic'), 'algorithm', /unknown algorithm deep_magic/],
  ['a bad hyperparameter', (s) => ((s.algorithm = 'random_forest'), (s.hyperparameters = { n_estimators: 0 })), 'hyperparameters.n_estimators', /./],
  ['an unknown hyperparameter', (s) => (s.hyperparameters = { learning_rate: 1 }), 'hyperparameters', /learning_rate/],
  ['inverted bounds', (s) => (s.features[0].maximum = -1), 'features[0]', /lower bound 0 is not below the upper bound -1/],
  ['an unknown field', (s) => (s.owner = 'me'), '', /owner/],
  ['a guardrail alpha that switches the test off', (s) => (s.guardrails.alpha = 1e-300), 'guardrails.alpha', /./],
  ['a dataset path', (s) => (s.dataset.file = '../etc/passwd.csv'), 'dataset.file', /no path/],
])('%s is refused, naming where', (_what, mutate, path, message) => {
  const p = problem(mutate);
  expect(p.jsonPath).toBe(path);
  expect(p.problem).toMatch(message);
});

test("the repository's catalogue loads: iris and three penguin models", async () => {
  const specs = await loadCatalog(resolve(__dirname, '../../../catalog'));
  expect(specs.map((s) => [s.name, s.algorithm])).toEqual([
    ['iris', 'logistic_regression'],
    ['penguins-knn', 'knn'],
    ['penguins-logreg', 'logistic_regression'],
    ['penguins', 'random_forest'],
  ]);
});

test('a bad file stops the load with a message naming the file, the place and the problem', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ct-catalog-'));
  try {
    await writeFile(join(dir, 'toy.json'), JSON.stringify({ ...valid(), guardrails: { alpha: 0.05 } }));
    await expect(loadCatalog(dir)).rejects.toThrow(`${join(dir, 'toy.json')} at guardrails.min_accuracy: `);
    await writeFile(join(dir, 'toy.json'), '{"name": "toy",');
    await expect(loadCatalog(dir)).rejects.toThrow(/toy\.json: not valid JSON/);
    await writeFile(join(dir, 'toy.json'), JSON.stringify({ ...valid(), name: 'other' }));
    await expect(loadCatalog(dir)).rejects.toThrow(/must be named other\.json/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an example row is checked against the features', () => {
  expect(parseModelSpec({ ...valid(), example: { size: 3, colour: null } }, 'toy.json').example).toEqual({ size: 3, colour: null });
  expect(() => parseModelSpec({ ...valid(), example: { size: 3, colour: 'purple' } }, 'toy.json')).toThrow(/at example\.colour: not a valid value of colour/);
  expect(() => parseModelSpec({ ...valid(), example: { size: 3, weight: 1 } }, 'toy.json')).toThrow(/at example\.weight: weight is not a feature/);
});
