import { mlLogisticRegression, toMatrix } from '@ct/core';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactError, buildArtifact, loadClassifier, ModelStore, type ArtifactBody, type HistoryEntry } from '../src';

let root: string;
let store: ModelStore;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ct-store-'));
  store = new ModelStore(root, 'iris');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const trainingSet = { x: [[1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3]], y: [0, 1, 2] };
const evalSet = { x: [[1.1, 1, 1, 1]], y: [0] };

function body(): ArtifactBody {
  const hyperparameters = mlLogisticRegression.hyperparametersSchema.parse({ num_steps: 50 });
  const { model, report } = mlLogisticRegression.fit({ x: toMatrix(trainingSet.x), y: Int32Array.from(trainingSet.y), nClasses: 3, hyperparameters, seed: 1 });
  return {
    model: 'iris',
    algorithm: 'ml_logistic_regression',
    classes: ['setosa', 'versicolor', 'virginica'],
    features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
    hyperparameters,
    seed: 1,
    params: model.toParams(),
    training: { data_hash: 'a'.repeat(64), n_samples: 3, fit: report },
  };
}

function entry(version: string, activeAfter: string, source: HistoryEntry['source'] = 'train'): HistoryEntry {
  return {
    version,
    source,
    status: version === activeAfter ? 'activated' : 'rejected',
    job_id: `job-${version}`,
    request_id: null,
    created_at: new Date().toISOString(),
    active_before: null,
    active_after: activeAfter,
    algorithm: 'ml_logistic_regression',
    retrain_from_scratch: false,
    n_batch_samples: 0,
    n_training_samples: 3,
    accuracy_new: 1,
    accuracy_previous: null,
    eval_set: { size: 1, hash: 'h' },
    data_hash: 'd',
    result: {},
    duration_ms: 1,
  };
}

const data = { format_version: 1 as const, job_id: null, training_set: trainingSet, eval_set: evalSet, batch: { x: [], y: [] } };

test('the version id is a function of N and the body, not of the time', () => {
  const a = buildArtifact(1, body(), new Date(0));
  const b = buildArtifact(1, body(), new Date());
  expect(a.version).toBe(b.version);
  expect(a.version).toMatch(/^v1\.0-[0-9a-f]{6}$/);
  expect(buildArtifact(2, body()).version).toMatch(/^v2\.0-/);
});

test('nothing is active before a commit; applyActive follows the last history entry', async () => {
  expect(await store.readActive()).toBeUndefined();
  expect(await store.applyActive()).toBeUndefined();
  const a = buildArtifact(1, body());
  await store.writeCandidate(a, data);
  // Written but not committed: still nothing active.
  expect(await store.readActive()).toBeUndefined();
  await store.commit(entry(a.version, a.version, 'bootstrap'));
  expect(await store.applyActive()).toBe(a.version);
  expect((await store.readActive())?.version).toBe(a.version);
  expect(await store.readTrainingState(a.version)).toEqual({ accumulated: trainingSet, evalSet });
  expect(loadClassifier(a).nClasses).toBe(3);
});

test('after a crash between commit and apply, training state comes from the version record', async () => {
  const a = buildArtifact(1, body());
  await store.writeCandidate(a, data);
  await store.commit(entry(a.version, a.version, 'bootstrap'));
  await store.applyActive();
  const bigger = { ...data, training_set: { x: [...trainingSet.x, [4, 4, 4, 4]], y: [...trainingSet.y, 2] } };
  const b = buildArtifact(2, { ...body(), training: { ...body().training, n_samples: 4 } });
  await store.writeCandidate(b, bigger);
  await store.commit(entry(b.version, b.version));
  // Crash here: the top-level copies still belong to version 1.
  expect((await store.readTrainingState(b.version)).accumulated.y).toHaveLength(4);
  expect(await store.committedActive()).toBe(b.version);
  // The next run repairs them.
  await store.applyActive();
  expect((await store.readActive())?.version).toBe(b.version);
  const copy = JSON.parse(await readFile(join(store.dir, 'accumulated_data.json'), 'utf8'));
  expect(copy.version).toBe(b.version);
});

test('a tampered artifact is refused with a checksum error', async () => {
  const a = buildArtifact(1, body());
  await store.writeCandidate(a, data);
  await store.commit(entry(a.version, a.version, 'bootstrap'));
  await store.applyActive();
  const tampered = JSON.parse(await readFile(store.activePath, 'utf8'));
  tampered.body.seed = 2;
  await writeFile(store.activePath, JSON.stringify(tampered));
  await expect(store.readActive()).rejects.toMatchObject({ kind: 'checksum_mismatch' });
  await writeFile(store.activePath, '{"format_version":1,');
  await expect(store.readActive()).rejects.toBeInstanceOf(ArtifactError);
  await expect(store.readActive()).rejects.toMatchObject({ kind: 'invalid_json' });
  await writeFile(store.activePath, JSON.stringify({ ...tampered, format_version: 99 }));
  await expect(store.readActive()).rejects.toMatchObject({ kind: 'invalid_schema' });
});

test('commit appends to the history it is given and returns the new one; applyActive takes a known version', async () => {
  const a = buildArtifact(1, body());
  await store.writeCandidate(a, data);
  const before = await store.readHistory();
  const next = await store.commit(entry(a.version, a.version, 'bootstrap'), before);
  expect(before.entries).toHaveLength(0); // not mutated
  expect(next).toEqual(await store.readHistory());
  expect(next.entries.map((e) => e.version)).toEqual([a.version]);
  expect(await store.applyActive(a.version)).toBe(a.version);
  expect((await store.readActive())?.version).toBe(a.version);
});
