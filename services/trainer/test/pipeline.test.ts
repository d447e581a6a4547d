import { ModelStore } from '@ct/registry';
import type { JobResult } from '@ct/queue';
import { readdir, writeFile } from 'node:fs/promises';
import pino from 'pino';
import { FitThreadClient } from '../src/fit-thread-client';
import { TrainPipeline, type PipelineJob } from '../src/train-pipeline';
import { DATASETS, sandbox } from './helpers';

// The pipeline without BullMQ: what a re-run after a crash does.

const logger = pino({ level: 'silent' });
const job = (id: string, data: unknown): PipelineJob => ({ id, data, updateProgress: async () => undefined });
const batch = {
  x: [
    [5.1, 3.5, 1.4, 0.2],
    [4.9, 3.0, 1.4, 0.2],
    [6.4, 3.2, 4.5, 1.5],
    [5.5, 2.3, 4.0, 1.3],
    [6.3, 3.3, 6.0, 2.5],
    [7.1, 3.0, 5.9, 2.1],
  ],
  y: [0, 0, 1, 1, 2, 2],
};
const train = { kind: 'train', model: 'iris', request_id: null, body_hash: 'h', samples: batch, retrain_from_scratch: false, policy: { name: 'any_improvement' } };

let box: Awaited<ReturnType<typeof sandbox>>;
let fit: FitThreadClient;
const published: string[] = [];
let pipeline: TrainPipeline;

beforeEach(async () => {
  box = await sandbox();
  fit = new FitThreadClient();
  published.length = 0;
  pipeline = new TrainPipeline({ dataDir: box.dataDir, datasetsDir: DATASETS, fitThread: fit, logger, publish: async (_m, v) => void published.push(v) });
});
afterEach(async () => {
  await fit.close();
  await fit.close();
  await box.cleanup();
});

test('deleting the data directory and bootstrapping again gives the same version id', async () => {
  const first = await pipeline.process(job('iris.bootstrap', { kind: 'bootstrap', model: 'iris', request_id: null, body_hash: '' }));
  const other = await sandbox();
  try {
    const again = new TrainPipeline({ dataDir: other.dataDir, datasetsDir: DATASETS, fitThread: fit, logger, publish: async () => undefined });
    const second = await again.process(job('iris.bootstrap', { kind: 'bootstrap', model: 'iris', request_id: null, body_hash: '' }));
    expect(second.model_version).toBe(first.model_version);
    expect(second.accuracy_new).toBe(first.accuracy_new);
  } finally {
    await other.cleanup();
  }
});

test('a job re-run after it committed has the same effect as one run', async () => {
  await pipeline.process(job('iris.bootstrap', { kind: 'bootstrap', model: 'iris', request_id: null, body_hash: '' }));
  const first = await pipeline.process(job('iris.j1', train));
  const store = new ModelStore(box.dataDir, 'iris');
  const historyAfterOne = await readdir(store.history.dir);
  const second: JobResult = await pipeline.process(job('iris.j1', train));
  expect(second).toEqual(first);
  expect(await readdir(store.history.dir)).toEqual(historyAfterOne);
  expect(historyAfterOne.filter((n) => n.endsWith('.json'))).toHaveLength(2);
});

test('a crash between commit and activation is repaired by the re-run', async () => {
  await pipeline.process(job('iris.bootstrap', { kind: 'bootstrap', model: 'iris', request_id: null, body_hash: '' }));
  const store = new ModelStore(box.dataDir, 'iris');
  const boot = await store.readActive();
  const result = await pipeline.process(job('iris.j2', train));
  expect(result.status).toBe('activated');
  // Simulate the crash: put the old active file and training copies back, as if the
  // process died right after writing the history entry.
  await writeFile(store.activePath, JSON.stringify(boot));
  published.length = 0;
  const rerun = await pipeline.process(job('iris.j2', train));
  expect(rerun).toEqual(result);
  expect((await store.readActive())?.version).toBe(result.model_version);
  expect(published).toEqual([result.model_version]);
});

test('reset goes back to the bootstrap version and keeps every attempt', async () => {
  const boot = await pipeline.process(job('iris.bootstrap', { kind: 'bootstrap', model: 'iris', request_id: null, body_hash: '' }));
  const trained = await pipeline.process(job('iris.j3', train));
  const reset = await pipeline.process(job('iris.r1', { kind: 'reset', model: 'iris', request_id: null, body_hash: 'r' }));
  expect(reset).toMatchObject({ status: 'activated', model_version: boot.model_version, model_updated: trained.status === 'activated' });
  const store = new ModelStore(box.dataDir, 'iris');
  expect((await store.readActive())?.version).toBe(boot.model_version);
  const h = await store.readHistory();
  expect(h.entries.map((e) => e.source)).toEqual(['bootstrap', 'train', 'reset']);
  // The next candidate continues the numbering: no version id is ever reused.
  const next = await pipeline.process(job('iris.j4', train));
  expect(next.model_version).toMatch(/^v3\.0-/);
  expect((await store.trainingRows(boot.model_version)).y).toHaveLength(120);
});

test('a training job that arrives before the bootstrap bootstraps first, then trains', async () => {
  const result = await pipeline.process(job('iris.early', train));
  expect(result.model_version).toMatch(/^v2\.0-/);
  const h = await new ModelStore(box.dataDir, 'iris').readHistory();
  expect(h.entries.map((e) => [e.source, e.job_id])).toEqual([
    ['bootstrap', 'iris.bootstrap'],
    ['train', 'iris.early'],
  ]);
});
