import { createRng, type LabeledSet, type ModelSpec } from '@ct/core';
import { parseModelSpec } from '@ct/registry';
import { readFileSync } from 'node:fs';
import { cleanupRedis, makeTempDir, removeDir, TEST_REDIS, uniquePrefix } from '@ct/testing';
import { Queue } from 'bullmq';
import { resolve } from 'node:path';

export { eventually, TEST_REDIS, TEST_REDIS_URL } from '@ct/testing';
export const DATASETS = resolve(__dirname, '../../../datasets');

/** The iris spec of the repository's catalogue. */
export const IRIS: ModelSpec = parseModelSpec(JSON.parse(readFileSync(resolve(__dirname, '../../../catalog/iris.json'), 'utf8')), 'catalog/iris.json');

/** A unique key prefix and a temp data dir; `cleanup` removes both. */
export async function sandbox(): Promise<{ prefix: string; dataDir: string; cleanup: () => Promise<void> }> {
  const prefix = uniquePrefix();
  const dataDir = await makeTempDir('ct-trainer-');
  return {
    prefix,
    dataDir,
    cleanup: async () => {
      await cleanupRedis(prefix);
      await removeDir(dataDir);
    },
  };
}

/** A producer queue on the test prefix (closed by the caller). */
export function producer(prefix: string, model = 'iris'): Queue {
  return new Queue(`train-${model}`, { connection: TEST_REDIS, prefix });
}

// Class means of the iris species, in the model's class order (setosa, versicolor, virginica).
const MEANS: readonly (readonly number[])[] = [
  [5.006, 3.428, 1.462, 0.246],
  [5.936, 2.77, 4.26, 1.326],
  [6.588, 2.974, 5.552, 2.026],
];

/**
 * Iris-like rows: row i is drawn around class i % 3 with a little jitter, rounded to 0.1 like
 * the real measurements (and at least 0.1, a length is positive). With `shift` every label is
 * moved to the next class: the rows are right, their labels are all wrong.
 */
export function irisRows(seed: number, n: number, shift = false): LabeledSet {
  const rng = createRng(seed);
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    x.push((MEANS[c] as readonly number[]).map((m) => Math.max(0.1, Math.round((m + 0.1 * rng.normal()) * 10) / 10)));
    y.push(shift ? (c + 1) % 3 : c);
  }
  return { x, y };
}

/** A train job's payload for iris, incremental under any_improvement unless `extra` says otherwise. */
export const trainData = (samples: LabeledSet, extra: Record<string, unknown> = {}) => ({
  kind: 'train',
  model: 'iris',
  request_id: null,
  body_hash: 'h',
  samples,
  retrain_from_scratch: false,
  policy: { name: 'any_improvement' },
  ...extra,
});
