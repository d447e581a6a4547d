import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromMatrix, irisSpec, parseNumericCsv, type LabeledSet } from '../src';

/** The bundled Iris data as a labeled set (tests only; the trainer reads it the same way). */
export function loadIris(): LabeledSet {
  const text = readFileSync(join(__dirname, '../../../datasets/iris.csv'), 'utf8');
  const t = parseNumericCsv(text, { target: 'species' });
  return { x: fromMatrix(t.x), y: t.yRaw.map((c) => irisSpec.classes.indexOf(c)) };
}
