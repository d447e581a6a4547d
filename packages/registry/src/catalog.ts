import { getAlgorithm, modelSpecSchema, type ModelSpec } from '@ct/core';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { z } from 'zod';

/**
 * A spec that cannot be used: names the file, the place in the JSON and what is wrong, so
 * that a service refusing to start says exactly what to fix.
 */
export class SpecError extends Error {
  override readonly name = 'SpecError';
  constructor(
    readonly source: string,
    /** JSON path of the problem (`features[2].levels`), empty for the whole file. */
    readonly jsonPath: string,
    readonly problem: string,
  ) {
    super(`${source}${jsonPath ? ` at ${jsonPath}` : ''}: ${problem}`);
  }
}

const dotted = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), '');

/**
 * Validates a spec given as parsed JSON: the schema, then what the schema cannot know (the
 * algorithm exists and accepts the hyperparameters, numeric bounds are consistent). `source`
 * names where it came from in errors.
 */
export function parseModelSpec(json: unknown, source: string): ModelSpec {
  const parsed = modelSpecSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    throw new SpecError(source, dotted(issue.path), issue.message);
  }
  const spec = parsed.data;
  const algorithm = getAlgorithm(spec.algorithm);
  if (!algorithm) throw new SpecError(source, 'algorithm', `unknown algorithm ${spec.algorithm}`);
  const hp = algorithm.hyperparametersSchema.safeParse(spec.hyperparameters);
  if (!hp.success) {
    const issue = hp.error.issues[0] as z.core.$ZodIssue;
    throw new SpecError(source, dotted(['hyperparameters', ...issue.path]), issue.message);
  }
  spec.features.forEach((f, i) => {
    if (f.type === 'categorical') return;
    const low = f.minimum ?? f.exclusive_minimum;
    const high = f.maximum ?? f.exclusive_maximum;
    if (low !== undefined && high !== undefined && !(low < high)) throw new SpecError(source, `features[${i}]`, `the lower bound ${low} is not below the upper bound ${high}`);
  });
  return spec;
}

/**
 * Loads every `*.json` spec of a catalogue folder, in name order. Each file is named after
 * its model (`iris.json` holds model `iris`). Throws SpecError on the first bad file.
 */
export async function loadCatalog(dir: string): Promise<ModelSpec[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (err) {
    throw new SpecError(dir, '', `cannot read the catalogue folder (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const specs: ModelSpec[] = [];
  for (const name of names) {
    const file = join(dir, name);
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      throw new SpecError(file, '', `not valid JSON: ${(err as Error).message}`);
    }
    const spec = parseModelSpec(json, file);
    if (`${spec.name}.json` !== basename(file)) throw new SpecError(file, 'name', `the file of model ${spec.name} must be named ${spec.name}.json`);
    specs.push(spec);
  }
  return specs;
}
