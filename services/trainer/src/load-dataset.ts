import { CsvError, readSpecCsv, TrainingDataError, type ModelSpec, type SpecCsv } from '@ct/core';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Reads a model's bundled CSV onto its spec's features and classes (see readSpecCsv). */
export async function loadBundledDataset(datasetsDir: string, spec: ModelSpec): Promise<SpecCsv> {
  const path = join(datasetsDir, spec.dataset.file);
  try {
    return readSpecCsv(await readFile(path, 'utf8'), spec);
  } catch (err) {
    if (err instanceof CsvError) throw new TrainingDataError(`${spec.dataset.file}: ${err.message}`);
    throw err;
  }
}
