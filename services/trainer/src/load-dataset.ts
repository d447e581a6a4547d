import { fromMatrix, parseNumericCsv, TrainingDataError, type LabeledSet, type ModelSpec } from '@ct/core';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Reads a model's bundled CSV and maps it onto the spec's features and classes. */
export async function loadBundledDataset(datasetsDir: string, spec: ModelSpec): Promise<LabeledSet> {
  const path = join(datasetsDir, spec.dataset.file);
  const table = parseNumericCsv(await readFile(path, 'utf8'), { target: spec.dataset.labelColumn });
  const expected = spec.features.map((f) => f.name);
  if (table.featureNames.join(',') !== expected.join(',')) {
    throw new TrainingDataError(`${path}: columns ${table.featureNames.join(',')}, expected ${expected.join(',')}`);
  }
  const y = table.yRaw.map((label, i) => {
    const k = spec.classes.indexOf(label);
    if (k < 0) throw new TrainingDataError(`${path}: row ${i + 1} has unknown class ${label}`);
    return k;
  });
  return { x: fromMatrix(table.x), y };
}
