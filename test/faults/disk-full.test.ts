/**
 * Faults: the disk fills up while a job writes its version. The trainer cannot be given a
 * small disk without root, so the full disk is injected at the registry's ArtifactStore
 * interface (DiskFullStore: every write past the point refused whole with ENOSPC, as the
 * atomic writes leave it) and the trainer given that store.
 *
 * First, in this process, the disk fills at each write of a job in turn, and the job is run
 * again with the same id (what BullMQ's retry does) once there is space. Then the real
 * trainer (in this process, for the store) behind a real API process: what a client of
 * `POST /train` sees while the disk is full, stays full, or gets space back.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { ModelStore } from '../../packages/registry/src';
import { acceptedProblems, eventually, FaultStack, irisSamples, makeTempDir, removeDir, SETOSA, settle, uniquePrefix, type ApiProcess, type IrisSample, type JobView } from './harness';
import { DATASETS_DIR, DiskFullStore, FitThreadClient, irisSpec, pipelineOn, silentLogger, startApi, tornFiles, Trainer } from './in-process';

const all = irisSamples();
const asSet = (rows: IrisSample[]) => ({ x: rows.map((r) => [r.sepal_length, r.sepal_width, r.petal_length, r.petal_width]), y: rows.map((r) => r.label) });
const trainJob = (rows: IrisSample[]) => ({ kind: 'train' as const, model: 'iris', request_id: null, body_hash: 'x', samples: asSet(rows), retrain_from_scratch: false, policy: { name: 'any_improvement' as const } });
/** 7 rows of each class: activated under any_improvement with the seeded fit. */
const GOOD_BATCH = all.filter((_, i) => i % 50 < 7);

/** Version folders the history does not know: a later job would take the same number. */
async function orphans(dir: string): Promise<string[]> {
  const store = new ModelStore(dir, 'iris');
  const known = new Set((await store.history.sync()).map((e) => e.version));
  return (await store.listVersions()).filter((v) => !known.has(v));
}

describe('the disk fills at each write of a training job; the job runs again once there is space', () => {
  let fit: FitThreadClient;
  let pristine: string;
  let bootVersion: string;

  beforeAll(async () => {
    fit = new FitThreadClient();
    pristine = await makeTempDir('ct-faults-disk-');
    bootVersion = (await pipelineOn(pristine, fit).run({ kind: 'bootstrap', model: 'iris', request_id: null, body_hash: '' }, 'iris.bootstrap')).model_version;
  }, 60_000);

  afterAll(async () => {
    await fit?.close();
    await removeDir(pristine);
  });

  // In the order a job writes them; each case fills the disk at the first write of that kind.
  const BEFORE_COMMIT: [string, RegExp][] = [
    ['segments/ (the batch rows)', /\/segments\//],
    ['lists/ (the training and growing lists)', /\/lists\//],
    ['versions/<v>/data.json', /\/versions\/[^/]+\/data\.json$/],
    ['versions/<v>/model.json', /\/versions\/[^/]+\/model\.json$/],
    ['history/<N>.json (the commit)', /\/history\//],
  ];

  test.each(BEFORE_COMMIT)(
    'full at %s: the attempt fails with ENOSPC naming the file (retried: not a refusal), nothing is committed and no torn file or stray version is left; the run with space completes once',
    async (_what, at) => {
      const dir = await makeTempDir('ct-faults-disk-case-');
      try {
        cpSync(pristine, dir, { recursive: true });
        const store = new DiskFullStore(dir);
        store.fillAt(at);
        const err = await pipelineOn(dir, fit, store).run(trainJob(GOOD_BATCH), 'iris.job').then(
          (): NodeJS.ErrnoException => new Error('the job ran'),
          (x: NodeJS.ErrnoException) => x,
        );
        // A plain error, so BullMQ retries it; its message (what GET /jobs/:id shows) names the file from the data directory.
        expect({ name: err.name, code: err.code }).toEqual({ name: 'Error', code: 'ENOSPC' });
        expect(err.message).toMatch(new RegExp(`^ENOSPC: no space left on device, write 'models/iris/[^']+'$`));
        expect(store.writes.find((w) => !w.ok)?.key).toMatch(at);
        const history = await new ModelStore(dir, 'iris').history.sync();
        expect(history.map((e) => e.job_id)).toEqual(['iris.bootstrap']);
        expect(tornFiles(join(dir, 'models'))).toEqual([]);
        expect(await orphans(dir)).toEqual([]);
        expect((await new ModelStore(dir, 'iris').readActive())?.version).toBe(bootVersion);

        store.free();
        const result = await pipelineOn(dir, fit, store).run(trainJob(GOOD_BATCH), 'iris.job');
        expect(result.status).toBe('activated');
        const after = new ModelStore(dir, 'iris');
        expect((await after.history.sync()).filter((e) => e.job_id === 'iris.job')).toHaveLength(1);
        expect((await after.readActive())?.version).toBe(result.model_version);
        expect(await orphans(dir)).toEqual([]);
      } finally {
        await removeDir(dir);
      }
    },
  );

  test('full at model_active.json, after the commit: the job completes (activated) once; the API serves the new version from versions/ and /health is ok; the next run catches the copy up', async () => {
    const dir = await makeTempDir('ct-faults-disk-case-');
    try {
      cpSync(pristine, dir, { recursive: true });
      const store = new DiskFullStore(dir);
      store.fillAt(/model_active\.json$/);
      const result = await pipelineOn(dir, fit, store).run(trainJob(GOOD_BATCH), 'iris.job');
      expect(result.status).toBe('activated');
      expect(store.writes.filter((w) => !w.ok).map((w) => w.key)).toEqual(['models/iris/model_active.json']);
      const model = new ModelStore(dir, 'iris');
      expect((await model.history.sync()).filter((e) => e.job_id === 'iris.job')).toHaveLength(1);
      expect((await model.readActive())?.version).toBe(bootVersion); // the copy lags...
      const api = await startApi({ dataDir: dir, prefix: uniquePrefix(), subscriber: false, predictionLog: false, pollIntervalMs: 60_000 });
      try {
        // ...and readers follow the history.
        expect((await api.client.post('/predict', { json: SETOSA })).body.model_version).toBe(result.model_version);
        await eventually(async () => (await api.client.get('/health')).body?.status === 'ok', 10_000, 'health ok');
      } finally {
        await api.close();
      }
      store.free();
      // A re-run (a duplicate delivery, or the next trainer start's bootstrap job) brings the copy in line.
      expect(await pipelineOn(dir, fit, store).run(trainJob(GOOD_BATCH), 'iris.job')).toEqual(result);
      expect((await new ModelStore(dir, 'iris').readActive())?.version).toBe(result.model_version);
      expect((await new ModelStore(dir, 'iris').history.sync()).filter((e) => e.job_id === 'iris.job')).toHaveLength(1);
    } finally {
      await removeDir(dir);
    }
  });
});

describe('a full disk under the real trainer, seen through the API', () => {
  let stack: FaultStack;
  let api: ApiProcess;
  let store: DiskFullStore;
  let trainer: Trainer;
  const accepted = new Map<string, JobView>();

  beforeAll(async () => {
    stack = await FaultStack.create();
    store = new DiskFullStore(stack.dataDir);
    // The trainer runs here, given the store; the API is the built process, as deployed.
    trainer = new Trainer({
      redisUrl: stack.redisUrl,
      prefix: stack.prefix,
      dataDir: stack.dataDir,
      artifactStore: store,
      datasetsDir: DATASETS_DIR,
      specs: [irisSpec],
      pollIntervalMs: 500,
      lockDurationMs: 30_000,
      shutdownTimeoutMs: 5_000,
      logger: silentLogger(),
    });
    await trainer.start();
    api = await stack.startApi();
    await stack.serving(api);
  }, 60_000);

  afterAll(async () => {
    await trainer?.close();
    await stack?.close();
  });

  test('the disk stays full: the client sees the job fail after its retries, with "ENOSPC: no space left on device" naming the file (no server path); nothing is committed, the model served and /health are unchanged', async () => {
    const served = await stack.serving(api);
    // A few hundred bytes left: the first small files fit, the rest do not.
    store.fillAfterBytes(600);
    const r = await api.client.post('/train', { json: { samples: GOOD_BATCH } });
    expect(r.status).toBe(202);
    const settled = await stack.watch(settle([api.client], [r.body.job_id], 30_000));
    const job = settled.get(r.body.job_id) as JobView;
    expect({ state: job.state, attempts: job.attempts_made }).toEqual({ state: 'failed', attempts: 3 });
    expect(job.error).toMatch(/^ENOSPC: no space left on device, write 'models\/iris\/[^']+'$/);
    expect(job.error).not.toContain(stack.dataDir);
    for (const [k, v] of settled) accepted.set(k, v);
    store.free();
    expect(await orphans(stack.dataDir)).toEqual([]);
    expect((await api.client.post('/predict', { json: SETOSA })).body.model_version).toBe(served);
    expect((await api.client.get('/health')).body.status).toBe('ok');
    expect(await acceptedProblems([api], accepted)).toEqual([]);
  }, 60_000);

  test('the disk fills at model_active.json and stays full: the client sees the job completed (activated) once, and the API serves the new version', async () => {
    store.fillAt(/model_active\.json$/);
    const r = await api.client.post('/train', { json: { samples: all.filter((_, i) => i % 50 >= 7 && i % 50 < 14) }, headers: { prefer: 'wait=30' }, timeoutMs: 40_000 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ state: 'completed', attempts_made: 1 });
    accepted.set(r.body.job_id, r.body);
    expect(await acceptedProblems([api], accepted)).toEqual([]); // the API serves what the history says
    store.free();
  }, 60_000);

  test('space comes back during the retry backoff: the client sees the job queued again, then completed once', async () => {
    store.fill();
    const r = await api.client.post('/train', { json: { samples: all.filter((_, i) => i % 50 >= 14 && i % 50 < 21) } });
    expect(r.status).toBe(202);
    const id = r.body.job_id as string;
    await stack.watch(
      eventually(
        async () => {
          const v = (await api.client.get(`/jobs/${encodeURIComponent(id)}`)).body as JobView;
          return v.attempts_made >= 1 && v.state === 'queued';
        },
        20_000,
        'first attempt failed, retry waiting',
      ),
    );
    store.free();
    const settled = await stack.watch(settle([api.client], [id], 30_000));
    expect(settled.get(id)).toMatchObject({ state: 'completed', attempts_made: 2 });
    for (const [k, v] of settled) accepted.set(k, v);
    expect(await acceptedProblems([api], accepted)).toEqual([]);
  }, 60_000);
});
