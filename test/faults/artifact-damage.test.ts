/**
 * Faults: the artifact files damaged on the volume, as a disk, an operator or a bad script
 * would. Every kind of file the registry keeps, each damaged every way; for each, what a user
 * sees from an API started on the damaged volume (`/predict`, `/health`, the routes that read
 * that file) and from the next job (refused at once naming the file, and nothing written; or,
 * for the served copy, repaired). Damage never rewrites the past.
 *
 * The services run in this process (see in-process.ts): a fresh API and a fresh trainer
 * pipeline per case, on a copy of one prepared volume, so 40 cases take seconds.
 */
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildArtifact, ModelStore, rebuildHistory, writeFileAtomic, type Artifact } from '../../packages/registry/src';
import { eventually, irisSamples, makeTempDir, removeDir, SETOSA, uniquePrefix, type IrisSample } from './harness';
import { FitThreadClient, pipelineOn, snapshot, startApi, type ApiHandle } from './in-process';

const all = irisSamples();
const asSet = (rows: IrisSample[]) => ({ x: rows.map((r) => [r.sepal_length, r.sepal_width, r.petal_length, r.petal_width]), y: rows.map((r) => r.label) });
const trainJob = (rows: IrisSample[]) => ({ kind: 'train' as const, model: 'iris', request_id: null, body_hash: 'x', samples: asSet(rows), retrain_from_scratch: false, policy: { name: 'any_improvement' as const } });
const BOOTSTRAP = { kind: 'bootstrap' as const, model: 'iris', request_id: null, body_hash: '' };
/** 7 rows of each class: activated under any_improvement with the seeded fit. */
const GOOD_BATCH = all.filter((_, i) => i % 50 < 7);
/** The job run on each damaged volume: another batch, so that a commit would make a new version. */
const NEXT_BATCH = all.filter((_, i) => i % 50 >= 7 && i % 50 < 14);
/** A stack trace or a source path must never reach a client. */
const STACK = /\n\s+at\s|\bat\s+\S+\s+\(.*:\d+:\d+\)|\.ts:\d+|node_modules/;

let fit: FitThreadClient;
beforeAll(() => {
  fit = new FitThreadClient();
});
afterAll(async () => {
  await fit?.close();
});

// ---------------------------------------------------------------------------------------------
// Every file kind, damaged every way

type Damage = 'truncated' | 'not JSON' | 'wrong schema' | 'edited' | 'deleted';
const DAMAGES: readonly Damage[] = ['truncated', 'not JSON', 'wrong schema', 'edited', 'deleted'];

/** Changes the contents and keeps the file valid JSON: the checksum no longer matches. */
function edit(kind: string, text: string): string {
  const o = JSON.parse(text);
  if (kind === 'artifact') o.body.training.n_samples += 1;
  else if (kind === 'segment') o.data.y = o.data.y.map((y: number) => (y + 1) % 3); // every label moved
  else o.body = { ...o.body, edited: true }; // a sealed record
  return JSON.stringify(o);
}

function damage(path: string, how: Damage, kind: string): void {
  const text = readFileSync(path, 'utf8');
  if (how === 'deleted') rmSync(path);
  else if (how === 'truncated') writeFileSync(path, text.slice(0, Math.floor(text.length / 2)));
  else if (how === 'not JSON') writeFileSync(path, 'this is not json \u0000\u0001');
  else if (how === 'wrong schema') writeFileSync(path, JSON.stringify({ hello: 'world' }));
  else writeFileSync(path, edit(kind, text));
}

/** The ArtifactError kind each damage shows as. */
const ERROR_KIND: Record<Damage, string> = { truncated: 'invalid_json', 'not JSON': 'invalid_json', 'wrong schema': 'invalid_schema', edited: 'checksum_mismatch', deleted: 'missing' };

interface Prepared {
  dir: string;
  v1: string;
  v2: string;
  /** File of each kind (relative to models/iris). */
  files: Record<string, string>;
}

/** What a user sees for one file kind: from a fresh API, and from the next job. */
interface Expectation {
  /** A name for the test: what it is and what the user sees. */
  title: string;
  fileKind: 'artifact' | 'segment' | 'sealed';
  file: (p: Prepared) => string;
  /** Version /predict serves (v2 is the committed active one). */
  serves: (p: Prepared, how: Damage) => string;
  /** /health's last_error, or null for ok. */
  health: (p: Prepared, how: Damage) => RegExp | null;
  /** The next job: `repaired` (it runs and rewrites the file), or the error it fails with at once. */
  job: (p: Prepared, how: Damage) => 'repaired' | RegExp;
  /** More routes a user would call, and what they answer. */
  extra?: (api: ApiHandle, p: Prepared, how: Damage) => Promise<void>;
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const refused = (file: string, how: Damage) => new RegExp(`^models/iris/${esc(file)}: ${ERROR_KIND[how]}: `);

/** GET /models/iris/versions/<v2> answers, its files_error naming the damaged file. */
async function versionNamesFile(api: ApiHandle, p: Prepared, file: string, how: Damage): Promise<void> {
  const r = await api.client.get(`/models/iris/versions/${p.v2}`);
  expect(r.status).toBe(200);
  expect(r.body.files_error).toMatch(new RegExp(`^${ERROR_KIND[how]} in models/iris/${esc(file)}`));
}

const EXPECTATIONS: Expectation[] = [
  {
    title: 'model_active.json (the served copy): the API serves the committed version from versions/ (health degraded naming the file, or ok when it is gone); a trainer start rewrites it',
    fileKind: 'artifact',
    file: () => 'model_active.json',
    serves: (p) => p.v2,
    health: (_p, how) => (how === 'deleted' ? null : new RegExp(`^${ERROR_KIND[how]} in models/iris/model_active\\.json: .*; serving the committed version v2\\.0-[0-9a-f]{6} from versions/`)),
    job: () => 'repaired',
  },
  {
    title: 'versions/<active>/model.json: /predict and /health are unaffected (the copy serves); the version page names the file; jobs fail at once naming it, nothing written',
    fileKind: 'artifact',
    file: (p) => `versions/${p.v2}/model.json`,
    serves: (p) => p.v2,
    health: () => null,
    job: (p, how) => refused(`versions/${p.v2}/model.json`, how),
    extra: (api, p, how) => versionNamesFile(api, p, `versions/${p.v2}/model.json`, how),
  },
  {
    title: 'versions/<active>/data.json: /predict and /health are unaffected; the version page names the file; jobs fail at once naming it, nothing written',
    fileKind: 'sealed',
    file: (p) => `versions/${p.v2}/data.json`,
    serves: (p) => p.v2,
    health: () => null,
    job: (p, how) => refused(`versions/${p.v2}/data.json`, how),
    extra: (api, p, how) => versionNamesFile(api, p, `versions/${p.v2}/data.json`, how),
  },
  {
    title: 'history/<newest>.json: /predict keeps serving, /health degraded naming the file (deleted: the history ends a version early, so the previous one is served, degraded); jobs fail at once, nothing written',
    fileKind: 'sealed',
    file: () => 'history/000000002.json',
    serves: (p, how) => (how === 'deleted' ? p.v1 : p.v2),
    health: (_p, how) =>
      how === 'deleted'
        ? /^model_active\.json holds v2\.0-[0-9a-f]{6}, which the history does not know; serving the committed version v1\.0-47d98c from versions\//
        : new RegExp(`^${ERROR_KIND[how]} in models/iris/history/000000002\\.json`),
    // Deleted, the newest entry leaves no gap: the active file, written only after a commit,
    // is what tells the trainer the history lost it (a commit would take its place and number).
    job: (_p, how) => (how === 'deleted' ? /^models\/iris\/model_active\.json: inconsistent: holds v2\.0-[0-9a-f]{6}, which the history does not know/ : refused('history/000000002.json', how)),
    extra: async (api, _p, how) => {
      const r = await api.client.get('/model/trusted-eval');
      expect(r.status).toBe(how === 'deleted' ? 200 : 503);
    },
  },
  {
    title: 'history/<first>.json: /predict keeps serving from the active file, /health degraded naming the file (deleted: a gap); /model/info says the history is unreadable; jobs fail at once, nothing written',
    fileKind: 'sealed',
    file: () => 'history/000000001.json',
    serves: (p) => p.v2,
    health: (_p, how) => (how === 'deleted' ? /^inconsistent in models\/iris\/history\/000000001\.json: history entry 1 is missing/ : new RegExp(`^${ERROR_KIND[how]} in models/iris/history/000000001\\.json`)),
    job: (_p, how) => (how === 'deleted' ? /^models\/iris\/history\/000000001\.json: inconsistent: history entry 1 is missing/ : refused('history/000000001.json', how)),
    extra: async (api, p) => {
      const info = await api.client.get('/model/info');
      expect(info.status).toBe(200);
      expect(info.body).toMatchObject({ active_version: p.v2, history: null });
      expect(info.body.history_error).toMatch(/^[a-z_]+: /);
      expect(info.text).not.toContain(p.dir);
    },
  },
  {
    title: 'segments/<trusted rows>.json: /predict and /health are unaffected; GET /model/trusted-eval answers a problem, not a 500; jobs fail at once naming the segment, nothing written',
    fileKind: 'segment',
    file: (p) => p.files.trusted as string,
    serves: (p) => p.v2,
    health: () => null,
    job: (p, how) => refused(p.files.trusted as string, how),
    extra: async (api) => {
      const r = await api.client.get('/model/trusted-eval');
      expect({ status: r.status, type: r.headers.get('content-type') }).toEqual({ status: 503, type: expect.stringMatching(/^application\/problem\+json/) });
      expect(r.text).not.toMatch(STACK);
    },
  },
  {
    title: 'segments/<training rows>.json: /predict and /health are unaffected; jobs fail at once naming the segment (labels edited: checksum_mismatch), never trained on, nothing written',
    fileKind: 'segment',
    file: (p) => p.files.training as string,
    serves: (p) => p.v2,
    health: () => null,
    job: (p, how) => (how === 'edited' ? new RegExp(`^models/iris/${esc(p.files.training as string)}: checksum_mismatch: the rows do not match the segment's hash$`) : refused(p.files.training as string, how)),
  },
  {
    title: 'lists/<training list>.json: /predict and /health are unaffected; the version page names the file; jobs fail at once naming it, nothing written',
    fileKind: 'sealed',
    file: (p) => p.files.list as string,
    serves: (p) => p.v2,
    health: () => null,
    job: (p, how) => refused(p.files.list as string, how),
    extra: (api, p, how) => versionNamesFile(api, p, p.files.list as string, how),
  },
];

describe('every artifact file, damaged every way', () => {
  let prepared: Prepared;

  beforeAll(async () => {
    // Bootstrap (v1), then one activated job (v2): every kind of file exists and is read by the next job.
    const dir = await makeTempDir('ct-faults-pristine-');
    const p = pipelineOn(dir, fit);
    const v1 = (await p.run(BOOTSTRAP, 'iris.bootstrap')).model_version;
    const second = await p.run(trainJob(GOOD_BATCH), 'iris.prepared');
    expect(second.status).toBe('activated');
    const store = new ModelStore(dir, 'iris');
    const head = (await store.head()) as NonNullable<Awaited<ReturnType<ModelStore['head']>>>;
    const data = await store.readVersionData(head.state.active);
    const training = (await store.lists.items(data.training))[0] as string;
    prepared = {
      dir,
      v1,
      v2: second.model_version,
      files: { trusted: `segments/${head.state.trusted}.json`, training: `segments/${training}.json`, list: `lists/${data.training.head}.json` },
    };
  }, 60_000);

  afterAll(async () => {
    await removeDir(prepared?.dir);
  });

  const cases = EXPECTATIONS.flatMap((e) => DAMAGES.map((how) => [`${how}: ${e.title}`, e, how] as const));

  test.each(cases)('%s', async (_title, e, how) => {
    const dir = await makeTempDir('ct-faults-damaged-');
    try {
      cpSync(prepared.dir, dir, { recursive: true });
      const p = { ...prepared, dir };
      const modelDir = join(dir, 'models', 'iris');
      const file = e.file(p);
      damage(join(modelDir, file), how, e.fileKind);

      // What a user sees from an API started on the damaged volume (it polls the files, as
      // the services do when no announcement comes).
      const api = await startApi({ dataDir: dir, prefix: uniquePrefix(), subscriber: false, predictionLog: false, pollIntervalMs: 100 });
      try {
        const predict = await api.client.post('/predict', { json: SETOSA });
        expect({ status: predict.status, version: predict.body?.model_version }).toEqual({ status: 200, version: e.serves(p, how) });
        const health = await api.client.get('/health');
        expect(health.status).toBe(200);
        const expected = e.health(p, how);
        if (expected === null) expect(health.body.models.iris).toMatchObject({ state: 'ready', last_error: null });
        else {
          expect(health.body).toMatchObject({ status: 'degraded', models: { iris: { state: 'degraded' } } });
          expect(health.body.models.iris.last_error).toMatch(expected);
        }
        expect(health.text).not.toContain(dir);
        await e.extra?.(api, p, how);

        // What the next job does: a trainer start's bootstrap job, then a training job.
        const before = snapshot(modelDir);
        const pipeline = pipelineOn(dir, fit);
        const outcome = e.job(p, how);
        if (outcome === 'repaired') {
          await pipeline.run(BOOTSTRAP, 'iris.bootstrap'); // what every trainer start runs
          expect((await new ModelStore(dir, 'iris').readActive())?.version).toBe(p.v2);
          // The API is ready again.
          await eventually(async () => (await api.client.get('/health')).body.status === 'ok', 10_000, 'health ok after the repair');
          const next = await pipeline.run(trainJob(NEXT_BATCH), 'iris.next');
        const history = await new ModelStore(dir, 'iris').history.sync();
          expect(history.filter((h) => h.job_id === 'iris.next')).toHaveLength(1);
          expect((await new ModelStore(dir, 'iris').readActive())?.version).toBe(next.active_version);
        } else {
          const err = await pipeline.run(trainJob(NEXT_BATCH), 'iris.next').then(
            () => new Error('the job ran'),
            (x: Error) => x,
          );
          // Unrecoverable: BullMQ does not retry it (attempts_made 1), and the client reads this message.
          expect({ type: err.name, message: err.message }).toEqual({ type: 'UnrecoverableError', message: expect.stringMatching(outcome) });
          expect(err.message).not.toContain(dir);
          // Nothing was written, nothing overwritten, nothing bootstrapped over.
          expect(snapshot(modelDir)).toEqual(before);
        }
      } finally {
        await api.close();
      }
    } finally {
      await removeDir(dir);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The whole history gone

describe('the history deleted while versions exist', () => {
  it('is never bootstrapped over: jobs fail at once naming the rebuild command, /health says why; the rebuild restores it and numbering continues', async () => {
    const dir = await makeTempDir('ct-faults-history-');
    const api = await startApi({ dataDir: dir, prefix: uniquePrefix(), subscriber: false, predictionLog: false, pollIntervalMs: 100 });
    try {
      const p = pipelineOn(dir, fit);
      await p.run(BOOTSTRAP, 'iris.bootstrap');
      const first = await p.run(trainJob(GOOD_BATCH), 'iris.first');
      expect(first.status).toBe('activated');
      const served = first.model_version;
      await eventually(async () => (await api.client.post('/predict', { json: SETOSA })).body?.model_version === served, 10_000, 'v2 served');
      const store = new ModelStore(dir, 'iris');
      rmSync(join(store.dir, 'history'), { recursive: true });
      const versionsBefore = snapshot(join(store.dir, 'versions'));

      const err = await p.run(trainJob(NEXT_BATCH), 'iris.after').then(
        () => new Error('the job ran'),
        (x: Error) => x,
      );
      expect(err.name).toBe('UnrecoverableError');
      expect(err.message).toMatch(/^models\/iris\/history: history_missing: .*versions\/ holds 2 version\(s\).*npm run cli -- rebuild-history --model iris/);
      // Nothing was bootstrapped over the versions, and the served model did not change.
      expect(snapshot(join(store.dir, 'versions'))).toEqual(versionsBefore);
      expect((await api.client.post('/predict', { json: SETOSA })).body.model_version).toBe(served);
      await eventually(async () => (await api.client.get('/health')).body.status === 'degraded', 10_000, 'health degraded');
      const health = (await api.client.get('/health')).body;
      expect(health.models.iris.last_error).toMatch(/history_missing in models\/iris\/history: .*rebuild-history/);
      expect(JSON.stringify(health)).not.toContain(dir);
      // A trainer restarting now does not bootstrap either.
      await expect(pipelineOn(dir, fit).run(BOOTSTRAP, 'iris.bootstrap')).rejects.toThrow(/history_missing/);
      expect(snapshot(join(store.dir, 'versions'))).toEqual(versionsBefore);

      const report = await rebuildHistory(new ModelStore(dir, 'iris'));
      expect(report.active).toBe(served);
      await eventually(async () => (await api.client.get('/health')).body.status === 'ok', 10_000, 'health ok again');
      const next = await pipelineOn(dir, fit).run(trainJob(NEXT_BATCH), 'iris.next');
      expect(next.model_version).toMatch(/^v3\.0-/); // numbering continues
    } finally {
      await api.close();
      await removeDir(dir);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// A running API meets a damaged active file (moved from services/api/test/resilience.test.ts)

const activePath = (dataDir: string) => join(dataDir, 'models', 'iris', 'model_active.json');

describe('a running API meets a corrupt active artifact', () => {
  let dataDir: string;
  let api: ApiHandle;
  let pipeline: ReturnType<typeof pipelineOn>;
  let v1: string;
  let goodText: string;
  let good: Artifact;

  beforeAll(async () => {
    dataDir = await makeTempDir('ct-faults-active-');
    pipeline = pipelineOn(dataDir, fit);
    v1 = (await pipeline.run(BOOTSTRAP, 'iris.bootstrap')).model_version;
    goodText = readFileSync(activePath(dataDir), 'utf8');
    good = JSON.parse(goodText) as Artifact;
    // No subscriber and a poll a minute away: reloads happen when the test calls cache.reload.
    api = await startApi({ dataDir, prefix: uniquePrefix(), subscriber: false, pollIntervalMs: 60_000, predictionLog: false });
  });

  afterAll(async () => {
    await api?.close();
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
    await writeFileAtomic(activePath(dataDir), contents()); // temp + rename: a new inode
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
    const r = await pipeline.run(trainJob(GOOD_BATCH), 'iris.over-corrupt');
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
