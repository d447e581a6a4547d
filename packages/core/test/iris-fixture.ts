import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromMatrix, modelSpecSchema, parseNumericCsv, toMatrix, type FeatureMatrix, type LabeledSet, type ModelSpec } from '../src';

const ROOT = join(__dirname, '../../..');

/** The iris spec of the repository's catalogue (tests only; the services load the whole folder). */
export const irisSpec: ModelSpec = modelSpecSchema.parse(JSON.parse(readFileSync(join(ROOT, 'catalog/iris.json'), 'utf8')));

/** The bundled Iris data as a labeled set (tests only; the trainer reads it the same way). */
export function loadIris(): LabeledSet & { x: number[][] } {
  const text = readFileSync(join(ROOT, 'datasets/iris.csv'), 'utf8');
  const t = parseNumericCsv(text, { target: 'species' });
  return { x: fromMatrix(t.x), y: t.yRaw.map((c) => irisSpec.target.classes.indexOf(c)) };
}

/** The bundled Iris data as a feature matrix and class indices, the algorithms' own input. */
export function loadIrisMatrix(): { x: FeatureMatrix; y: Int32Array } {
  const set = loadIris();
  return { x: toMatrix(set.x), y: Int32Array.from(set.y) };
}
