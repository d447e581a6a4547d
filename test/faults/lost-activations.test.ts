/**
 * Faults: every "model activated" message lost (an API that never subscribed, or whose
 * subscription is down): the API still follows the trainer through its stat poll of the
 * active file and the history, without dropping a request. In this process: an API without
 * a subscriber and the trainer's pipeline, which announces nothing to anyone.
 */
import IORedis from 'ioredis';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ModelStore, writeJsonAtomic } from '../../packages/registry/src';
import { cleanupRedis, TEST_REDIS_URL } from '@ct/testing';
import { eventually, irisSamples, makeTempDir, removeDir, SETOSA, uniquePrefix, type IrisSample } from './harness';
import { FitThreadClient, pipelineOn, startApi, type ApiHandle } from './in-process';

const all = irisSamples();
/** 7 rows of each class: activated under any_improvement with the seeded fit. */
const GOOD_BATCH = all.filter((_, i) => i % 50 < 7);
const asLabeledSet = (s: IrisSample[]) => ({ x: s.map((r) => [r.sepal_length, r.sepal_width, r.petal_length, r.petal_width]), y: s.map((r) => r.label) });
/** A stack trace or a source path must never reach a client. */
const STACK = /\n\s+at\s|\bat\s+\S+\s+\(.*:\d+:\d+\)|\.ts:\d+|node_modules/;
const activePath = (dataDir: string) => join(dataDir, 'models', 'iris', 'model_active.json');

const prefix = uniquePrefix();
let dataDir: string;
let api: ApiHandle;
let fit: FitThreadClient;
let pipeline: ReturnType<typeof pipelineOn>;

beforeAll(async () => {
  dataDir = await makeTempDir('ct-faults-poll-');
  fit = new FitThreadClient();
  pipeline = pipelineOn(dataDir, fit);
  // Started on an empty volume: nothing to serve yet.
  api = await startApi({ dataDir, prefix, subscriber: false, pollIntervalMs: 100, predictionLog: false });
});

afterAll(async () => {
  await api?.close();
  await fit?.close();
  await cleanupRedis(prefix);
  await removeDir(dataDir);
});

it('has no subscriber on the activation channel', async () => {
  expect(api.subscriber).toBeUndefined();
  const redis = new IORedis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    const [, n] = (await redis.pubsub('NUMSUB', `${prefix}:model-activated`)) as [string, number];
    expect(Number(n)).toBe(0);
  } finally {
    redis.disconnect();
  }
});

it('before the first version exists: /health 503 starting, /predict and /model/info 503 model_not_ready', async () => {
  const health = await api.client.get('/health');
  expect(health.status).toBe(503);
  expect(health.body).toMatchObject({ status: 'starting', model_version: null });
  const predict = await api.client.post('/predict', { json: SETOSA });
  const info = await api.client.get('/model/info');
  for (const r of [predict, info]) {
    expect(r.status).toBe(503);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(r.body).toMatchObject({ status: 503, code: 'model_not_ready' });
    expect(r.text).not.toMatch(STACK);
  }
  expect(predict.headers.get('retry-after')).toBe('2');
});

it('picks up the bootstrap version, then an activated version, then a reset, without dropping a request', async () => {
  const v1 = (await pipeline.run({ kind: 'bootstrap', model: 'iris', request_id: null, body_hash: '' }, 'iris.bootstrap')).model_version;
  await eventually(async () => (await api.client.post('/predict', { json: SETOSA })).body?.model_version === v1, 10_000, 'bootstrap served via poll');
  expect((await api.client.get('/health')).body.status).toBe('ok');

  // Predictions keep flowing while the pipeline activates v2 and the poll swaps it in.
  const answers: { status: number; version: string | undefined }[] = [];
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const r = await api.client.post('/predict', { json: { records: [SETOSA, SETOSA] } });
      answers.push({ status: r.status, version: r.body?.model_version });
    }
  })();
  let v2 = '';
  try {
    const r = await pipeline.run(
      { kind: 'train', model: 'iris', request_id: null, body_hash: 'x', samples: asLabeledSet(GOOD_BATCH), retrain_from_scratch: false, policy: { name: 'any_improvement' } },
      'iris.train-1',
    );
    expect(r.status).toBe('activated');
    v2 = r.model_version;
    await eventually(() => answers.at(-1)?.version === v2, 10_000, 'v2 served via poll');
  } finally {
    stop = true;
    await loop;
  }
  expect(answers.length).toBeGreaterThan(1);
  expect(answers.filter((a) => a.status !== 200)).toEqual([]);
  const versions = answers.map((a) => a.version);
  expect(new Set(versions)).toEqual(new Set([v1, v2]));
  // Sequential requests: once v2 is served, v1 never comes back.
  expect(versions.slice(versions.indexOf(v2)).every((v) => v === v2)).toBe(true);
  // Nothing was announced anywhere but the pipeline's local record.
  expect(pipeline.published.map((p) => p.version)).toEqual([v1, v2]);

  await pipeline.run({ kind: 'reset', model: 'iris', request_id: null, body_hash: '' }, 'iris.reset-1');
  await eventually(async () => (await api.client.post('/predict', { json: SETOSA })).body?.model_version === v1, 10_000, 'reset served via poll');
  const info = (await api.client.get('/model/info')).body;
  expect(info.active_version).toBe(v1);
  expect(info.history.map((h: { source: string }) => h.source)).toEqual(['bootstrap', 'train', 'reset']);
});

it('a rewrite of the same version (new inode, same content) keeps serving it and stays ready', async () => {
  const store = new ModelStore(dataDir, 'iris');
  const current = await store.readActive();
  const loadedAt = api.cache.status('iris').loaded_at;
  await writeJsonAtomic(activePath(dataDir), current);
  // Wait until the poll has seen the new stamp (the cached stamp follows the file).
  const ino = statSync(activePath(dataDir)).ino;
  await eventually(() => api.cache.get('iris')?.stamp?.ino === ino, 10_000, 'poll saw the rewrite');
  expect(api.cache.status('iris')).toMatchObject({ state: 'ready', active_version: current?.version, loaded_at: loadedAt });
});
