/**
 * Failure behaviour: (a) Redis goes down under a running API and trainer (a private
 * redis-server, never the shared one); (b) a corrupt active artifact on disk; (c) hot reload
 * through the stat poll alone, with no pub/sub at all.
 */
import { buildArtifact, ModelStore, writeFileAtomic, writeJsonAtomic, type Artifact } from '@ct/registry';
import IORedis from 'ioredis';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Trainer } from '../../trainer/src/trainer';
import {
  cleanupRedis,
  createPipeline,
  eventually,
  irisSamples,
  makeTempDir,
  removeDir,
  SETOSA,
  TEST_REDIS_URL,
  startApi,
  startPrivateRedis,
  startTrainer,
  uniquePrefix,
  type ApiHandle,
  type HttpResponse,
  type IrisSample,
  type PrivateRedis,
  irisSpec,
} from './helpers/harness';

const all = irisSamples();
/** 7 rows of each class: activated under any_improvement with the seeded fit. */
const GOOD_BATCH: IrisSample[] = all.filter((_, i) => i % 50 < 7);
const asLabeledSet = (s: IrisSample[]) => ({
  x: s.map((r) => irisSpec.features.map((f) => r[f.name as keyof IrisSample])),
  y: s.map((r) => r.label),
});
const STACK = /\n\s+at\s|\bat\s+\S+\s+\(.*:\d+:\d+\)|\.ts:\d+|node_modules/;

function expectProblem(r: HttpResponse, status: number, code: string): void {
  expect({ status: r.status, text: r.text.slice(0, 300) }).toEqual({ status, text: expect.any(String) });
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(r.body).toMatchObject({ status, code });
  expect(r.text).not.toMatch(STACK);
}

const activePath = (dataDir: string) => join(dataDir, 'models', 'iris', 'model_active.json');

describe('(a) Redis down', () => {
  const prefix = uniquePrefix();
  let redis: PrivateRedis;
  let dataDir: string;
  let trainer: Trainer;
  let api: ApiHandle;
  let finishedJobId: string;
  /** Every request here carries a client-side timeout: "answers at once" means it answers at all within it. */
  const T = { timeoutMs: 5_000 };

  beforeAll(async () => {
    redis = await startPrivateRedis();
    dataDir = await makeTempDir();
    trainer = await startTrainer({ dataDir, prefix, redisUrl: redis.url });
    await eventually(() => existsSync(activePath(dataDir)), 30_000, 'bootstrap');
    api = await startApi({ dataDir, prefix, redisUrl: redis.url, pollIntervalMs: 60_000, predictionLog: false });
  });

  afterAll(async () => {
    await api?.close();
    // The trainer's connections wait for Redis for ever; bring it back (if a test left it down) before closing.
    if (redis && (redis.child.exitCode !== null || redis.child.signalCode !== null)) redis = await startPrivateRedis(redis.port);
    await trainer?.close();
    await redis?.kill();
    await removeDir(dataDir);
  });

  it('while Redis is up: healthy, and a job runs', async () => {
    const health = await eventually(async () => {
      const r = await api.client.get('/health', T);
      return r.body?.status === 'ok' ? r : undefined;
    }, 10_000, 'healthy');
    expect(health.body.redis).toEqual({ reachable: true });
    const r = await api.client.post('/train', { json: { samples: GOOD_BATCH.slice(0, 6) }, headers: { prefer: 'wait=20' }, timeoutMs: 25_000 });
    expect(r.status).toBe(200);
    finishedJobId = r.body.job_id;
  });

  it('while Redis is frozen (SIGSTOP): /predict and /health answer, /train answers 503 within the client timeout', async () => {
    redis.child.kill('SIGSTOP');
    try {
      const health = await api.client.get('/health', T);
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({ status: 'degraded', redis: { reachable: false } });
      expect((await api.client.post('/predict', { json: SETOSA, ...T })).status).toBe(200);
      expect((await api.client.get('/model/info', T)).status).toBe(200);
      // A frozen (not closed) Redis still looks connected, so /train waits for the producer's
      // 3 s command timeout before its 503; a closed one is refused at once (above).
      // The client allows well over those 3 s: a loaded machine must not turn the 503 into an abort.
      expectProblem(await api.client.post('/train', { json: { samples: GOOD_BATCH.slice(0, 6) }, timeoutMs: 15_000 }), 503, 'queue_unavailable');
    } finally {
      redis.child.kill('SIGCONT');
    }
    await eventually(async () => (await api.client.get('/health', T)).body?.status === 'ok', 15_000, 'healthy after SIGCONT');
  });

  it('after Redis dies: /health degraded with redis unreachable, /predict and /model/info 200, /train 503 problem+json', async () => {
    const served = (await api.client.post('/predict', { json: SETOSA, ...T })).body.model_version;
    await redis.kill();

    const health = await eventually(async () => {
      const r = await api.client.get('/health', T);
      return r.body?.redis?.reachable === false ? r : undefined;
    }, 10_000, '/health notices the outage');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'degraded', model_version: served, redis: { reachable: false }, models: { iris: { state: 'ready' } } });

    const predict = await api.client.post('/predict', { json: { records: [SETOSA, SETOSA] }, ...T });
    expect(predict.status).toBe(200);
    expect(predict.body.model_version).toBe(served);
    expect(predict.body.predictions).toHaveLength(2);

    const info = await api.client.get('/model/info', T);
    expect(info.status).toBe(200);
    expect(info.body.active_version).toBe(served);
    expect(info.body.history.length).toBeGreaterThanOrEqual(2);

    const train = await api.client.post('/train', { json: { samples: GOOD_BATCH.slice(0, 6) }, ...T });
    expectProblem(train, 503, 'queue_unavailable');
    expect(train.headers.get('retry-after')).toBe('5');
    const waited = await api.client.post('/train', { json: { samples: GOOD_BATCH.slice(0, 6) }, headers: { prefer: 'wait=30', 'idempotency-key': 'down-1' }, ...T });
    expectProblem(waited, 503, 'queue_unavailable');
    expectProblem(await api.client.delete('/model/history', T), 503, 'queue_unavailable');
    expectProblem(await api.client.get(`/jobs/${encodeURIComponent(finishedJobId)}`, T), 503, 'queue_unavailable');
    // Validation does not need Redis: a bad body is still a 422, not a 503.
    expectProblem(await api.client.post('/train', { json: { samples: [] }, ...T }), 422, 'validation_failed');
  });

  it('when Redis comes back: healthy again and /train accepted and run', async () => {
    redis = await startPrivateRedis(redis.port); // empty: --save '' and no AOF
    await eventually(async () => {
      const r = await api.client.get('/health', T);
      return r.body?.status === 'ok' && r.body.redis.reachable === true;
    }, 15_000, '/health ok again');
    const r = await eventually(async () => {
      const res = await api.client.post('/train', { json: { samples: GOOD_BATCH.slice(6, 12) }, headers: { prefer: 'wait=20' }, timeoutMs: 25_000 });
      return res.status === 200 ? res : undefined;
    }, 30_000, 'a job runs after the outage');
    expect(r.body.state).toBe('completed');
    expect(['activated', 'rejected']).toContain(r.body.result.status);
  });
});

describe('(b) corrupt artifact on disk', () => {
  const prefix = uniquePrefix();
  let dataDir: string;
  let api: ApiHandle;
  let pipeline: ReturnType<typeof createPipeline>;
  let v1: string;
  let goodText: string;
  let good: Artifact;

  beforeAll(async () => {
    dataDir = await makeTempDir();
    pipeline = createPipeline(dataDir);
    v1 = (await pipeline.run({ kind: 'bootstrap', model: 'iris', request_id: null, body_hash: '' }, 'iris.bootstrap')).model_version;
    goodText = readFileSync(activePath(dataDir), 'utf8');
    good = JSON.parse(goodText) as Artifact;
    // No subscriber and a poll a minute away: reloads happen when the test calls cache.reload.
    api = await startApi({ dataDir, prefix, subscriber: false, pollIntervalMs: 60_000, predictionLog: false });
  });

  afterAll(async () => {
    await api?.close();
    await pipeline?.close();
    await cleanupRedis(prefix);
    await removeDir(dataDir);
  });

  async function expectServingDegraded(version: string, errorLike: RegExp): Promise<void> {
    const predict = await api.client.post('/predict', { json: SETOSA });
    expect(predict.status).toBe(200);
    expect(predict.body.model_version).toBe(version);
    const health = await api.client.get('/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'degraded', model_version: version, models: { iris: { state: 'degraded', active_version: version } } });
    expect(health.body.models.iris.last_error).toMatch(errorLike);
    expect(health.body.models.iris.last_error).not.toContain(dataDir);
    expect(Date.parse(health.body.models.iris.last_error_at)).not.toBeNaN();
    const info = await api.client.get('/model/info');
    expect(info.status).toBe(200);
    expect(info.body.active_version).toBe(version);
  }

  async function expectServingReady(version: string): Promise<void> {
    // Right after start the API's Redis connection may still be opening (health: degraded).
    const health = await eventually(async () => {
      const h = await api.client.get('/health');
      return h.body.status === 'ok' ? h : undefined;
    }, 10_000, 'health ok');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ model_version: version, models: { iris: { state: 'ready', active_version: version, last_error: null, last_error_at: null } } });
    expect(health.body.status).toBe('ok');
    expect((await api.client.post('/predict', { json: SETOSA })).body.model_version).toBe(version);
  }

  it('starts ready on the bootstrap version', async () => {
    await expectServingReady(v1);
  });

  const tampered = (): Artifact => {
    const a = structuredClone(good);
    a.body.training.n_samples += 1; // body changed, checksum not
    return a;
  };
  const cases: [string, () => string, RegExp][] = [
    ['garbage bytes', () => 'this is not json \u0000\u0001', /^invalid_json /],
    ['a torn (truncated) file', () => goodText.slice(0, Math.floor(goodText.length / 2)), /^invalid_json /],
    ['valid JSON of the wrong shape', () => JSON.stringify({ hello: 'world' }), /^invalid_schema /],
    ['an unknown format version', () => JSON.stringify({ ...good, format_version: 99 }), /^invalid_schema .*format_version/],
    ['a checksum mismatch', () => JSON.stringify(tampered()), /checksum/i],
    ['an artifact of another model', () => JSON.stringify(buildArtifact(7, { ...good.body, model: 'penguins' })), /penguins/],
    [
      'an artifact whose features differ from the spec',
      () => JSON.stringify(buildArtifact(7, { ...good.body, features: [...good.body.features].reverse() })),
      /holds v7\.0-[0-9a-f]{6}, which the history does not know/,
    ],
  ];

  it.each(cases)('%s: keeps serving the last good version, /health degraded with the error; a valid file makes it ready again', async (_what, contents, errorLike) => {
    const before = statSync(activePath(dataDir)).ino;
    await writeFileAtomic(activePath(dataDir), contents()); // temp + rename: a new inode
    expect(statSync(activePath(dataDir)).ino).not.toBe(before);
    await api.cache.reload('iris');
    await expectServingDegraded(v1, errorLike);
    // A second reload of the same bad file changes nothing.
    await api.cache.reload('iris');
    await expectServingDegraded(v1, errorLike);

    await writeFileAtomic(activePath(dataDir), goodText);
    await api.cache.reload('iris');
    await expectServingReady(v1);
  });

  it('a new valid version written over a corrupt one is loaded and clears the error', async () => {
    await writeFileAtomic(activePath(dataDir), '{"torn":');
    await api.cache.reload('iris');
    await expectServingDegraded(v1, /^invalid_json /);
    const r = await pipeline.run({
      kind: 'train',
      model: 'iris',
      request_id: null,
      body_hash: 'x',
      samples: asLabeledSet(GOOD_BATCH),
      retrain_from_scratch: false,
      policy: { name: 'any_improvement' },
    });
    expect(r.status).toBe('activated'); // the pipeline rewrites model_active.json (it was not the committed version)
    await api.cache.reload('iris');
    await expectServingReady(r.model_version);
  });

  it('a corrupt history entry: /predict still answers; /model/info and /health say the history is unreadable', async () => {
    const historyPath = join(dataDir, 'models', 'iris', 'history', '000000001.json');
    const saved = readFileSync(historyPath, 'utf8');
    try {
      await writeFileAtomic(historyPath, '{"format_version": 2, "entries": [');
      // A new process reads the log from its files (this one cached the entry).
      const fresh = await startApi({ dataDir, prefix: uniquePrefix(), subscriber: false, predictionLog: false });
      try {
        expect((await fresh.client.post('/predict', { json: SETOSA })).status).toBe(200);
        const info = await fresh.client.get('/model/info');
        expect(info.status).toBe(200);
        expect(info.body.active_version).toMatch(/^v\d+\.0-/);
        expect(info.body.history).toBeNull();
        expect(info.body.history_error).toMatch(/^invalid_json: /);
        expect(info.text).not.toContain(dataDir);
        const health = await fresh.client.get('/health');
        expect(health.body.status).toBe('degraded');
        expect(health.body.models.iris.last_error).toMatch(/^invalid_json in models\/iris\/history\/000000001\.json/);
      } finally {
        await fresh.close();
      }
    } finally {
      await writeFileAtomic(historyPath, saved);
    }
    expect((await api.client.get('/model/info')).status).toBe(200);
  });
});

describe('(c) hot reload through the stat poll alone (no pub/sub)', () => {
  const prefix = uniquePrefix();
  let dataDir: string;
  let api: ApiHandle;
  let pipeline: ReturnType<typeof createPipeline>;

  beforeAll(async () => {
    dataDir = await makeTempDir();
    pipeline = createPipeline(dataDir);
    // Started on an empty volume: nothing to serve yet.
    api = await startApi({ dataDir, prefix, subscriber: false, pollIntervalMs: 100, predictionLog: false });
  });

  afterAll(async () => {
    await api?.close();
    await pipeline?.close();
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
    expectProblem(predict, 503, 'model_not_ready');
    expect(predict.headers.get('retry-after')).toBe('2');
    expectProblem(await api.client.get('/model/info'), 503, 'model_not_ready');
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
      const r = await pipeline.run({
        kind: 'train',
        model: 'iris',
        request_id: null,
        body_hash: 'x',
        samples: asLabeledSet(GOOD_BATCH),
        retrain_from_scratch: false,
        policy: { name: 'any_improvement' },
      });
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

    await pipeline.run({ kind: 'reset', model: 'iris', request_id: null, body_hash: '' });
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
});
