import { createRng, type LabeledSet } from '@ct/core';
import { ModelStore, writeTempSynced } from '@ct/registry';
import { existsSync } from 'node:fs';
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { QueueEvents, type Queue } from 'bullmq';
import pino from 'pino';
import { Trainer } from '../src/trainer';
import { DATASETS, eventually, producer, sandbox, TEST_REDIS, TEST_REDIS_URL, trainData, IRIS } from './helpers';

const logger = pino({ level: 'silent' });

function cleanBatch(seed: number, n = 10): LabeledSet {
  const rng = createRng(seed);
  const centres = [
    [5.0, 3.4, 1.46, 0.25],
    [5.94, 2.77, 4.26, 1.33],
    [6.59, 2.97, 5.55, 2.03],
  ];
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = centres[i % 3] as number[];
    x.push(c.map((v) => Math.max(0.1, v + rng.normal() * 0.1)));
    y.push(i % 3);
  }
  return { x, y };
}

describe('Trainer on the real Redis', () => {
  let box: Awaited<ReturnType<typeof sandbox>>;
  let trainer: Trainer;
  let queue: Queue;
  let events: QueueEvents;
  let store: ModelStore;

  beforeAll(async () => {
    box = await sandbox();
    trainer = new Trainer({ redisUrl: TEST_REDIS_URL, prefix: box.prefix, dataDir: box.dataDir, datasetsDir: DATASETS, specs: [IRIS], lockDurationMs: 1000, shutdownTimeoutMs: 5000, logger });
    queue = producer(box.prefix);
    events = new QueueEvents('train-iris', { connection: TEST_REDIS, prefix: box.prefix });
    await events.waitUntilReady();
    store = new ModelStore(box.dataDir, 'iris');
    await trainer.start();
    await eventually(() => store.readActive(), 20_000, 'bootstrap');
  });

  afterAll(async () => {
    await trainer.close();
    await trainer.close(); // idempotent
    await events.close();
    await queue.close();
    await box.cleanup();
  });

  test('bootstraps iris once: v1.0-<hash>, source bootstrap, 120 training rows, 30 evaluation rows', async () => {
    const h = await store.readHistory();
    expect(h.entries).toHaveLength(1);
    expect(h.entries[0]).toMatchObject({ source: 'bootstrap', status: 'activated', n_training_samples: 120 });
    expect(h.entries[0]?.eval_set).toEqual({ size: 30, trusted: 30, growing: 0 });
    expect(h.entries[0]?.version).toMatch(/^v1\.0-[0-9a-f]{6}$/);
  });

  test('a training job is gated against the champion on the same rows, never its own, and activated', async () => {
    const job = await queue.add('train', trainData(cleanBatch(3, 20)));
    const progress: unknown[] = [];
    events.on('progress', ({ jobId, data }) => jobId === job.id && progress.push(data));
    const result = await job.waitUntilFinished(events, 30_000);
    // The batch's slice of 4 judged nothing: both models were scored on the 30 trusted rows.
    expect(result).toMatchObject({ status: 'activated', model_updated: true, n_training_samples: 136, batch_holdout: 4, eval_set_size: 30, trusted_set_size: 30 });
    expect(result.trusted).toMatchObject({ n: 30 });
    expect(result.growing).toBeNull();
    expect(result.champion.n).toBe(result.challenger.n);
    expect(result.model_version).toMatch(/^v2\.0-/);
    expect(progress.length).toBeGreaterThan(0);
    expect((await store.readActive())?.version).toBe(result.model_version);
    expect((await store.trainingRows(result.model_version)).y).toHaveLength(136);
    // Now that the batch is activated, its slice joins the growing rows for later decisions.
    const head = await store.head();
    const rows = await store.evalRows(head!.state);
    expect(rows.trusted.y).toHaveLength(30);
    expect(rows.growing.y).toHaveLength(4);
  });

  test('a rejected batch leaves accumulated data and the evaluation set as they were', async () => {
    const active = (await store.committedActive()) as string;
    const stateBefore = (await store.head())!.state;
    const before = { training: await store.trainingRows(active), eval: await store.evalRows(stateBefore) };
    const rng = createRng(99);
    const noise: LabeledSet = { x: [], y: [] };
    for (let i = 0; i < 20; i++) {
      noise.x.push([4 + rng.next() * 4, 2 + rng.next() * 2, 1 + rng.next() * 6, 0.1 + rng.next() * 2.4]);
      noise.y.push(i % 3);
    }
    const job = await queue.add('train', trainData(noise, { retrain_from_scratch: true }));
    const result = await job.waitUntilFinished(events, 30_000);
    expect(result.status).toBe('rejected');
    expect(result.violations.map((v: { code: string }) => v.code)).toEqual(['trusted_significantly_worse', 'trusted_below_minimum_accuracy', 'accuracy_decreased']);
    expect(await store.committedActive()).toBe(active);
    const stateAfter = (await store.head())!.state;
    expect({ ...stateAfter, n_versions: 0 }).toEqual({ ...stateBefore, n_versions: 0 });
    expect({ training: await store.trainingRows(active), eval: await store.evalRows(stateAfter) }).toEqual(before);
    // The rejected candidate is kept for audit, with its batch.
    const record = await store.readVersionData(result.model_version);
    expect(await store.segments.get(record.batch as string)).toEqual(noise);
  });

  test('bad data fails at once without retries (UnrecoverableError)', async () => {
    const job = await queue.add('train', trainData({ x: [[1, 2, 3]], y: [0] }));
    await expect(job.waitUntilFinished(events, 30_000)).rejects.toThrow(/invalid job payload|features/);
    const failed = await queue.getJob(job.id as string);
    expect(failed?.attemptsMade).toBe(1);
    expect(await failed?.getState()).toBe('failed');
  });

  test('a CPU-heavy fit runs off the event loop: the lock holds and the job runs once', async () => {
    let stalled = 0;
    events.on('stalled', () => (stalled += 1));
    // The slow gradient-descent baseline on 5,000 rows fits for seconds: several 1 s locks.
    const big = cleanBatch(5, 5000);
    const job = await queue.add('train', trainData(big, { algorithm: 'ml_logistic_regression' }));
    const result = await job.waitUntilFinished(events, 120_000);
    expect(result.fit.iterations).toBe(1000);
    expect(stalled).toBe(0);
    const entries = (await store.readHistory()).entries.filter((e) => e.job_id === job.id);
    expect(entries).toHaveLength(1);
  });

  test('concurrent jobs run one at a time and every attempt is recorded', async () => {
    const before = (await store.readHistory()).entries.length;
    const jobs = await Promise.all(Array.from({ length: 6 }, (_, i) => queue.add('train', trainData(cleanBatch(100 + i)))));
    const results = await Promise.all(jobs.map((j) => j.waitUntilFinished(events, 60_000)));
    const h = await store.readHistory();
    expect(h.entries).toHaveLength(before + 6);
    // Serialized: each job's champion is the previous job's outcome.
    const mine = h.entries.slice(before);
    for (let i = 1; i < mine.length; i++) expect(mine[i]?.active_before).toBe(mine[i - 1]?.active_after);
    // Version numbers are unique and increasing.
    const numbers = results.map((r) => Number(/^v(\d+)/.exec(r.model_version)?.[1]));
    expect(new Set(numbers).size).toBe(6);
  });
});

test('at start the trainer removes the temp files of writes a crash cut short, and bootstraps over a version folder its last start died writing', async () => {
  const box = await sandbox();
  const store = new ModelStore(box.dataDir, 'iris');
  const twoHoursAgo = (Date.now() - 2 * 3_600_000) / 1000;
  // A bootstrap killed while writing its candidate's first file: its folder, a temp file in it, no history.
  const stale = await writeTempSynced(join(box.dataDir, 'models', 'iris', 'versions', 'v1.0-000000', 'data.json'), '{"x":[],"y":[]}');
  await utimes(stale, twoHoursAgo, twoHoursAgo);
  // A write under way in another process (the API's accepted-job record, say): seconds old.
  const live = await writeTempSynced(join(box.dataDir, 'accepted-jobs', 'train-iris+j1.json'), '{}');
  const trainer = new Trainer({ redisUrl: TEST_REDIS_URL, prefix: box.prefix, dataDir: box.dataDir, datasetsDir: DATASETS, specs: [IRIS], lockDurationMs: 1000, shutdownTimeoutMs: 5000, logger });
  try {
    await trainer.start();
    await eventually(async () => !existsSync(stale), 10_000, 'the stale temp file removed');
    // Not taken for versions without a history (which would wait for an operator's rebuild).
    await eventually(() => store.readActive(), 20_000, 'bootstrap');
    expect((await store.readHistory()).entries.map((e) => e.source)).toEqual(['bootstrap']);
    expect(existsSync(live)).toBe(true);
  } finally {
    await trainer.close();
    await box.cleanup();
  }
});
