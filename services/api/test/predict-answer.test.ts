/**
 * The `/predict` answer is written as text on the hot path; `/predict/compare` builds the
 * same predictions as objects. Both must say the same thing, and the text must be the JSON
 * the objects stringify to, whatever the class names and probabilities.
 */
import { fitPreprocessing, type FeatureMatrix, type ModelSpec, type RawValue, type TrainedClassifier } from '@ct/core';
import type { AppDeps } from '../src/app-deps';
import type { LoadedModel } from '../src/model-cache';
import { modelContext } from '../src/model-context';
import { predict, predictRows } from '../src/routes/predict';
import { SPECS, irisSpec } from './helpers/harness';

/** A classifier that answers fixed probabilities for every row: only the answer's form is under test here. */
function fixedClassifier(nClasses: number, nFeatures: number, proba: readonly number[]): TrainedClassifier {
  return {
    algorithm: 'fixed',
    nClasses,
    nFeatures,
    predictProba: (x: FeatureMatrix) => Float64Array.from({ length: x.rows * nClasses }, (_, i) => proba[i % nClasses] as number),
    toParams: () => ({}),
  };
}

function setUp(spec: ModelSpec, proba: readonly number[], fittedOn?: readonly (readonly RawValue[])[]): { deps: AppDeps; loaded: LoadedModel; logged: string[] } {
  // A categorical or missing cell needs the version's preprocessing, fitted as a training job fits it.
  const preprocessing = fittedOn ? fitPreprocessing(spec.features, fittedOn, { standardize: false }) : null;
  const loaded = {
    spec,
    artifact: { version: 'v7.0-abcdef' },
    classifier: { preprocessing, classifier: fixedClassifier(spec.target.classes.length, spec.features.length, proba), nFeatures: spec.features.length },
    stamp: undefined,
    loadedAt: new Date(),
  } as unknown as LoadedModel;
  const logged: string[] = [];
  const deps = {
    cache: { get: () => loaded },
    predictions: { enabled: true, record: (r: { outputJson: string }) => logged.push(r.outputJson) },
  } as unknown as AppDeps;
  return { deps, loaded, logged };
}

/** The spec with other class names (the same count). */
const withClasses = (spec: ModelSpec, classes: string[]): ModelSpec => ({ ...spec, target: { ...spec.target, classes } });

const irisRow = irisSpec.example as Record<string, number>;
const probabilities = [0.9823713148766544, 0.017628459695558332, 2.2542778733499949e-7];

describe.each([
  ['iris', irisSpec],
  ['class names that need escaping', withClasses(irisSpec, ['a "quoted" \\ name', 'ünï\u2028cødé 🐧', 'constructor'])],
  ['a class named __proto__', withClasses(irisSpec, ['__proto__', 'b', 'c'])],
  ['integer-like class names', withClasses(irisSpec, ['10', '2', 'x'])],
])('%s', (_name, spec) => {
  const ctx = modelContext(spec);

  it('a single row: the text says what the objects say, with its id first', () => {
    const { deps, loaded, logged } = setUp(spec, probabilities);
    const text = predict(deps, ctx, irisRow, undefined);
    const answer = JSON.parse(text) as Record<string, unknown>;
    const [objects] = predictRows(ctx, loaded, irisRow).predictions;
    expect(answer).toEqual({ prediction_id: answer.prediction_id, model: spec.name, model_version: 'v7.0-abcdef', ...objects });
    expect(Object.keys(answer).slice(0, 4)).toEqual(['prediction_id', 'model', 'model_version', 'prediction']);
    expect(JSON.parse(logged[0] as string)).toEqual(objects);
    // The probabilities as JSON writes them: every digit kept; every class named, `__proto__` too.
    expect(answer.probabilities).toEqual(probabilities);
    expect(Object.keys(answer.probabilities_by_class as object).sort()).toEqual([...spec.target.classes].sort());
    expect(Object.keys(objects?.probabilities_by_class ?? {}).sort()).toEqual([...spec.target.classes].sort());
  });

  it('a batch: each row with its own id, as the objects say', () => {
    const { deps, loaded } = setUp(spec, [0.25, 0.5, 0.25]);
    const body = { records: [irisRow, { ...irisRow, sepal_length: 7.0 }, irisRow] };
    const answer = JSON.parse(predict(deps, ctx, body, undefined)) as { predictions: Record<string, unknown>[] };
    const objects = predictRows(ctx, loaded, body).predictions;
    expect(answer).toEqual({ model: spec.name, model_version: 'v7.0-abcdef', predictions: objects.map((o, i) => ({ ...o, prediction_id: answer.predictions[i]?.prediction_id })) });
    expect(new Set(answer.predictions.map((p) => p.prediction_id)).size).toBe(3);
  });
});

test('the text is the JSON the objects stringify to (names JSON keeps in order)', () => {
  const spec = SPECS.find((s) => s.name === 'penguins') as ModelSpec;
  const ctx = modelContext(spec);
  const training: RawValue[][] = [
    ['Dream', 39.5, 17.4, 186, 3800, 'female'],
    ['Biscoe', 46.1, 13.2, 211, 4500, 'male'],
    ['Torgersen', 38.9, 17.8, 181, 3625, 'female'],
  ];
  const { deps, loaded, logged } = setUp(spec, [0.1, 0.2, 0.7], training);
  // bill_length_mm imputes: the answer names it.
  const row = { island: 'Dream', bill_depth_mm: 18.0, flipper_length_mm: 190, body_mass_g: 3700, sex: 'female' };
  predict(deps, ctx, row, undefined);
  const [objects] = predictRows(ctx, loaded, row).predictions;
  expect(objects?.imputed).toEqual(['bill_length_mm']);
  expect(logged[0]).toBe(JSON.stringify(objects));
});
