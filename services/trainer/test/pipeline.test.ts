import { ModelStore } from '@ct/registry';
import type { JobResult } from '@ct/queue';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { FitThreadClient } from '../src/fit-thread-client';
import { TrainPipeline, type PipelineJob } from '../src/train-pipeline';
import { DATASETS, sandbox, IRIS } from './helpers';

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
  pipeline = new TrainPipeline({ specs: [IRIS], dataDir: box.dataDir, datasetsDir: DATASETS, fitThread: fit, logger, publish: async (_m, v) => void published.push(v) });
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
    const again = new TrainPipeline({ specs: [IRIS], dataDir: other.dataDir, datasetsDir: DATASETS, fitThread: fit, logger, publish: async () => undefined });
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

test("every entry records when its job started: after the previous job's end, before its own artifact", async () => {
  await pipeline.process(job('iris.bootstrap', { kind: 'bootstrap', model: 'iris', request_id: null, body_hash: '' }));
  await pipeline.process(job('iris.t1', train));
  await pipeline.process(job('iris.t2', { ...train, body_hash: 'h2', retrain_from_scratch: true }));
  await pipeline.process(job('iris.r1', { kind: 'reset', model: 'iris', request_id: null, body_hash: 'r' }));
  const entries = (await new ModelStore(box.dataDir, 'iris').readHistory()).entries;
  expect(entries.map((e) => e.source)).toEqual(['bootstrap', 'train', 'train', 'reset']);
  let previousEnd = 0;
  for (const e of entries) {
    const started = Date.parse(e.started_at as string);
    expect(started).toBeGreaterThanOrEqual(previousEnd);
    expect(Date.parse(e.created_at)).toBeGreaterThanOrEqual(started);
    // A candidate's created_at is its artifact's: stamped during the job. (A reset's is stamped
    // at its commit, after the duration it records was taken: not checked.)
    if (e.source !== 'reset') expect(Date.parse(e.created_at)).toBeLessThanOrEqual(started + e.duration_ms);
    previousEnd = started + e.duration_ms;
  }
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

test('two pipelines committing at once on one volume (no queue to serialize them): every job is recorded once, each gated against the champion before it', async () => {
  await pipeline.process(job('iris.bootstrap', { kind: 'bootstrap', model: 'iris', request_id: null, body_hash: '' }));
  const otherFit = new FitThreadClient();
  try {
    const other = new TrainPipeline({ specs: [IRIS], dataDir: box.dataDir, datasetsDir: DATASETS, fitThread: otherFit, logger, publish: async () => undefined });
    // Different batches, so that candidates differ; each pipeline runs its own jobs one by one,
    // as two trainers would with the queue's concurrency setting lost.
    const batchOf = (k: number) => ({ ...train, samples: { x: batch.x.map((r) => r.map((v) => v + k * 0.01)), y: batch.y } });
    const run = async (p: TrainPipeline, name: string) => {
      const out: JobResult[] = [];
      for (let i = 0; i < 8; i++) out.push(await p.process(job(`iris.${name}-${i}`, batchOf(name === 'a' ? i : 10 + i))));
      return out;
    };
    const [a, b] = await Promise.all([run(pipeline, 'a'), run(other, 'b')]);
    const entries = (await new ModelStore(box.dataDir, 'iris').readHistory()).entries;
    expect(entries).toHaveLength(17);
    const ids = entries.map((e) => e.job_id);
    for (const r of [...a, ...b]) expect(ids.filter((id) => id === entries.find((e) => e.version === r.model_version)?.job_id)).toHaveLength(1);
    expect(new Set(entries.map((e) => e.version)).size).toBe(17);
    expect(new Set(entries.map((e) => e.seq))).toEqual(new Set(Array.from({ length: 17 }, (_, i) => i + 1)));
    // Each attempt was gated against the version live just before it: no commit was lost or stale.
    for (let i = 1; i < entries.length; i++) expect(entries[i]?.active_before).toBe(entries[i - 1]?.active_after);
    // No folder outlives a lost race.
    expect((await readdir(join(box.dataDir, 'models/iris/versions'))).sort()).toEqual(entries.map((e) => e.version).sort());
  } finally {
    await otherFit.close();
  }
});
