/**
 * Registration at run time and archiving (issue 8, section 1): `POST /models` (CSV and JSON
 * rows), the watched folder (`CT_DATA_DIR/inbox`), `DELETE /models/:name`. A real trainer and
 * two real API replicas on one volume and one Redis prefix: the second replica is never
 * restarted, and must serve what the first registers, and stop serving what it archives.
 */
import { ModelStore, registrationPath } from '@ct/registry';
import { Queue } from 'bullmq';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DATASETS_DIR,
  eventually,
  irisSpec,
  SETOSA,
  startApi,
  startStack,
  startTrainer,
  TEST_REDIS,
  type ApiHandle,
  type HttpResponse,
  type Stack,
} from './helpers/harness';
import type { Trainer } from '../../trainer/src/trainer';

const IRIS_CSV = readFileSync(join(DATASETS_DIR, 'iris.csv'), 'utf8');
/** The iris rows as JSON rows, the label under the target column by class name. */
const IRIS_ROWS = IRIS_CSV.trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [a, b, c, d, species] = line.split(',');
    return { sepal_length: Number(a), sepal_width: Number(b), petal_length: Number(c), petal_width: Number(d), species };
  });

/** The iris spec under another name and algorithm: a model the catalogue does not have. */
const specNamed = (name: string, extra: Record<string, unknown> = {}) => ({
  ...JSON.parse(JSON.stringify(irisSpec)),
  name,
  description: `iris, registered at run time as ${name}`,
  algorithm: 'gaussian_nb',
  hyperparameters: {},
  ...extra,
});

let s: Stack;
/** The second replica: started before anything is registered, never restarted. */
let other: ApiHandle;
/** A third replica that never hears an announcement: it learns from its scan of `models/*` alone. */
let scanOnly: ApiHandle;
/** A second trainer whose own scan is too slow to matter: it learns of models from the announcements. */
let trainer2: Trainer;
beforeAll(async () => {
  s = await startStack();
  // The default reload interval (2 s): the trainer's announcement is what makes it quick.
  other = await startApi({ dataDir: s.dataDir, prefix: s.prefix, predictionLog: false });
  scanOnly = await startApi({ dataDir: s.dataDir, prefix: s.prefix, predictionLog: false, subscriber: false, pollIntervalMs: 500 });
  trainer2 = await startTrainer({ dataDir: s.dataDir, prefix: s.prefix, pollIntervalMs: 60_000 });
});
afterAll(async () => {
  await trainer2?.close();
  await scanOnly?.close();
  await other?.close();
  await s?.close();
});

const wait = { prefer: 'wait=30' };
const predict = (api: ApiHandle, model: string): Promise<HttpResponse> => api.client.post(`/models/${model}/predict`, { json: SETOSA });

function expectProblem(r: HttpResponse, status: number, code: string): void {
  expect({ status: r.status, code: r.body?.code, detail: r.body?.detail }).toEqual({ status, code, detail: expect.any(String) });
}

describe('POST /models', () => {
  it('registers from CSV: 202 + a register job; the trainer writes spec.json and bootstraps; both replicas serve it, no restart', async () => {
    const r = await s.api.client.post('/models', { json: { spec: specNamed('iris-csv'), data: { csv: IRIS_CSV } } });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ model: 'iris-csv', kind: 'register', status_url: expect.stringMatching(/^\/jobs\/iris-csv\.register-/) });
    expect(r.headers.get('location')).toBe(r.body.status_url);
    const job = await eventually(async () => {
      const j = (await s.api.client.get(r.body.status_url)).body;
      return j.state === 'completed' || j.state === 'failed' ? j : undefined;
    }, 30_000, 'registration job finished');
    expect(job).toMatchObject({ state: 'completed', result: { status: 'activated', model: 'iris-csv', model_version: expect.stringMatching(/^v1\.0-/) } });
    expect(job.result.message).toMatch(/^model iris-csv registered/);
    expect(job.result.data_report).toEqual({ rows: 150, dropped_no_label: 0, dropped_missing: 0, imputed_cells: 0, ignored_columns: [] });
    // The artifacts: spec.json (sealed), and a history whose first entry is the bootstrap of this request.
    expect(existsSync(registrationPath(s.dataDir, 'iris-csv'))).toBe(true);
    const entries = (await new ModelStore(s.dataDir, 'iris-csv').readHistory()).entries;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ source: 'bootstrap', algorithm: 'gaussian_nb', n_training_samples: 120, request_id: r.headers.get('x-request-id') });
    for (const api of [s.api, other, scanOnly]) {
      const p = await eventually(async () => {
        const x = await predict(api, 'iris-csv');
        return x.status === 200 ? x : undefined;
      }, 5_000, 'the registered model served');
      expect(p.body).toMatchObject({ model: 'iris-csv', model_version: job.result.model_version, class_name: 'setosa' });
    }
    // Both trainers run a worker of the new model's queue: one started it for its registration
    // job, the other on the announcement (its scan runs once a minute).
    const queue = new Queue('train-iris-csv', { connection: TEST_REDIS, prefix: s.prefix });
    try {
      await eventually(async () => (await queue.getWorkers()).length === 2, 5_000, 'a worker of train-iris-csv on each trainer');
    } finally {
      await queue.close();
    }
    // Listed, described, documented.
    const list = (await other.client.get('/models')).body.models;
    expect(list.find((m: { name: string }) => m.name === 'iris-csv')).toMatchObject({ origin: 'registered', archived: false, state: 'ready', algorithm: 'gaussian_nb' });
    expect((await other.client.get('/models/iris-csv')).body.spec).toMatchObject({ name: 'iris-csv', algorithm: 'gaussian_nb' });
    expect((await other.client.get('/health')).body.models['iris-csv']).toMatchObject({ state: 'ready' });
    const doc = (await other.client.get('/openapi.json')).body;
    expect(doc.paths['/models/iris-csv/predict']?.post?.operationId).toBe('predict_iris_csv');
  });

  it('registers from JSON rows (label by class name under the target column; extra keys ignored and reported); then it trains like any model', async () => {
    const rows = IRIS_ROWS.map((row, i) => ({ ...row, note: i === 0 ? 'first' : null }));
    // No `dataset`: it names a built-in model's bundled CSV; a registered model's rows come with it.
    const { dataset: _dataset, ...spec } = specNamed('iris-rows', { algorithm: 'knn', hyperparameters: { k: 5 } });
    const r = await s.api.client.post('/models', { json: { spec, data: { rows } }, headers: wait });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ state: 'completed', kind: 'register', result: { status: 'activated', data_report: { rows: 150, ignored_columns: ['note'] } } });
    const served = await eventually(async () => ((await predict(other, 'iris-rows')).status === 200 ? true : undefined), 5_000, 'served by the second replica');
    expect(served).toBe(true);
    // Training the new model: a job on its own queue, taken by the worker the registration started.
    const samples = IRIS_ROWS.filter((_, i) => i % 10 === 0).map(({ species, ...x }) => ({ ...x, label: species as string }));
    const t = await other.client.post('/models/iris-rows/train', { json: { samples }, headers: wait });
    expect(t.status).toBe(200);
    expect(t.body).toMatchObject({ kind: 'train', state: 'completed', model: 'iris-rows' });
    expect(['activated', 'rejected']).toContain(t.body.result.status);
    expect((await new ModelStore(s.dataDir, 'iris-rows').readHistory()).entries.map((e) => e.source)).toEqual(['bootstrap', 'train']);
  });

  it('409 for a name that exists: built-in (trained here or not), registered', async () => {
    for (const name of ['iris', 'penguins', 'iris-csv']) {
      const r = await s.api.client.post('/models', { json: { spec: specNamed(name), data: { csv: IRIS_CSV } } });
      expectProblem(r, 409, 'conflict');
      expect(r.body.detail).toMatch(new RegExp(`model ${name} already exists`));
    }
  });

  it('422 for a bad spec, naming the JSON path', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [specNamed('bad-type', { features: [{ name: 'a', type: 'float' }] }), 'spec.features[0].type'],
      [specNamed('bad-algo', { algorithm: 'svm' }), 'spec.algorithm'],
      [specNamed('bad-hp', { hyperparameters: { var_smoothing: -1 } }), 'spec.hyperparameters.var_smoothing'],
      [specNamed('Bad Name'), 'spec.name'],
      [{ ...specNamed('no-target'), target: undefined }, 'spec.target'],
    ];
    for (const [spec, field] of cases) {
      const r = await s.api.client.post('/models', { json: { spec, data: { csv: IRIS_CSV } } });
      expectProblem(r, 422, 'validation_failed');
      expect(r.body.errors[0]).toMatchObject({ field, code: 'invalid_spec' });
      expect(r.body.detail).toContain(field.slice('spec.'.length));
    }
    // The body's own shape: neither csv nor rows.
    const r = await s.api.client.post('/models', { json: { spec: specNamed('no-data'), data: {} } });
    expectProblem(r, 422, 'validation_failed');
  });

  it('422 for data that does not fit the spec, saying where; 413 past the body limit', async () => {
    const badClass = `${IRIS_CSV.trim()}\n5.0,3.0,1.0,0.2,daisy\n`;
    const r1 = await s.api.client.post('/models', { json: { spec: specNamed('bad-csv'), data: { csv: badClass } } });
    expectProblem(r1, 422, 'validation_failed');
    expect(r1.body.detail).toMatch(/line 152, column "species": unknown class "daisy"/);
    expect(r1.body.errors[0]).toMatchObject({ field: 'data.csv', code: 'invalid_data' });
    const outOfBounds = IRIS_ROWS.map((row, i) => (i === 7 ? { ...row, petal_width: -1 } : row));
    const r2 = await s.api.client.post('/models', { json: { spec: specNamed('bad-rows'), data: { rows: outOfBounds } } });
    expectProblem(r2, 422, 'validation_failed');
    expect(r2.body.errors[0]).toMatchObject({ field: 'data.rows[7].petal_width', pointer: '/data/rows/7/petal_width' });
    const asText = IRIS_ROWS.map((row, i) => (i === 3 ? { ...row, sepal_length: '5.1' } : row));
    expect((await s.api.client.post('/models', { json: { spec: specNamed('bad-rows'), data: { rows: asText } } })).body.errors[0].field).toBe('data.rows[3].sepal_length');
    const oneClass = await s.api.client.post('/models', { json: { spec: specNamed('one-class'), data: { rows: IRIS_ROWS.slice(0, 40) } } });
    expectProblem(oneClass, 422, 'validation_failed');
    expect(oneClass.body.errors[0]).toMatchObject({ field: 'data', code: 'insufficient_data' });
    const huge = await s.api.client.post('/models', { json: { spec: specNamed('huge'), data: { csv: IRIS_CSV.repeat(700) } } });
    expectProblem(huge, 413, 'payload_too_large');
    // None of them left anything on the volume.
    for (const name of ['bad-csv', 'bad-rows', 'one-class', 'huge']) expect(existsSync(join(s.dataDir, 'models', name))).toBe(false);
  });

  it('registration and archive routes are in the OpenAPI document, each with an operationId', async () => {
    const doc = (await s.api.client.get('/openapi.json')).body;
    expect(doc.paths['/models'].post.operationId).toBe('registerModel');
    expect(doc.paths['/models/{model}'].delete.operationId).toBe('archiveModel');
    expect(doc.paths['/models'].get.parameters.map((p: { name: string }) => p.name)).toContain('include_archived');
  });
});

describe('the watched folder (CT_DATA_DIR/inbox)', () => {
  const inbox = (): string => join(s.dataDir, 'inbox');
  /** Writes a file dated a few seconds back, as if copied in earlier: the trainer takes only settled files. */
  async function drop(name: string, text: string): Promise<void> {
    await mkdir(inbox(), { recursive: true });
    await writeFile(join(inbox(), name), text);
    const past = new Date(Date.now() - 5_000);
    await utimes(join(inbox(), name), past, past);
  }

  it('a good spec and its CSV are registered the same way, served on both replicas, and moved to inbox/done/', async () => {
    await drop('iris-inbox.csv', IRIS_CSV);
    await drop('iris-inbox.json', JSON.stringify(specNamed('iris-inbox')));
    for (const api of [s.api, other]) await eventually(async () => (await predict(api, 'iris-inbox')).status === 200, 20_000, 'the inbox model served');
    await eventually(() => existsSync(join(inbox(), 'done', 'iris-inbox.json')) && existsSync(join(inbox(), 'done', 'iris-inbox.csv')), 10_000, 'files moved to done/');
    expect(existsSync(join(inbox(), 'iris-inbox.json'))).toBe(false);
    const entry = (await new ModelStore(s.dataDir, 'iris-inbox').readHistory()).entries[0];
    expect(entry).toMatchObject({ source: 'bootstrap', status: 'activated', request_id: null });
    expect((await s.api.client.get('/models')).body.models.find((m: { name: string }) => m.name === 'iris-inbox')).toMatchObject({ origin: 'registered' });
  });

  it('a bad spec is moved to inbox/rejected/ with an .error.txt naming the file, the JSON path and the problem', async () => {
    await drop('bad-inbox.csv', IRIS_CSV);
    await drop('bad-inbox.json', JSON.stringify(specNamed('bad-inbox', { eval_fraction: 0.9 })));
    const error = await eventually(() => readFile(join(inbox(), 'rejected', 'bad-inbox.error.txt'), 'utf8'), 20_000, 'rejection written');
    expect(error).toMatch(/^inbox\/bad-inbox\.json at eval_fraction: /);
    expect(error).toContain('file: inbox/bad-inbox.json');
    expect(error).toContain('path: eval_fraction');
    await eventually(() => existsSync(join(inbox(), 'rejected', 'bad-inbox.json')) && existsSync(join(inbox(), 'rejected', 'bad-inbox.csv')), 10_000, 'files moved to rejected/');
    expect(existsSync(join(s.dataDir, 'models', 'bad-inbox'))).toBe(false);
  });

  it('a CSV that does not fit, a taken name, and invalid JSON are rejected too, each saying why', async () => {
    await drop('bad-csv-inbox.csv', `${IRIS_CSV.trim()}\n5.0,abc,1.0,0.2,setosa\n`);
    await drop('bad-csv-inbox.json', JSON.stringify(specNamed('bad-csv-inbox')));
    await drop('penguins.json', JSON.stringify(specNamed('penguins')));
    await drop('penguins.csv', IRIS_CSV);
    await drop('garbage.json', '{"name": "garbage",');
    const read = (stem: string) => eventually(() => readFile(join(inbox(), 'rejected', `${stem}.error.txt`), 'utf8'), 20_000, `${stem} rejected`);
    expect(await read('bad-csv-inbox')).toMatch(/file: inbox\/bad-csv-inbox\.csv[\s\S]*problem: line 152, column "sepal_width": "abc" is not a number/);
    expect(await read('penguins')).toMatch(/path: name[\s\S]*model penguins already exists \(built-in/);
    expect(await read('garbage')).toMatch(/problem: not valid JSON/);
  });
});

describe('DELETE /models/:name (archiving)', () => {
  it('archives: both replicas stop serving it (404 saying archived), GET /models leaves it out, its history stays; it cannot be registered again', async () => {
    const before = (await new ModelStore(s.dataDir, 'iris-rows').readHistory()).entries;
    const r = await s.api.client.delete('/models/iris-rows?reason=superseded%20by%20iris-csv', { headers: wait });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ kind: 'archive', state: 'completed', result: { status: 'archived', model: 'iris-rows', already_archived: false, reason: 'superseded by iris-csv' } });
    for (const api of [s.api, other, scanOnly]) {
      const p = await eventually(async () => {
        const x = await predict(api, 'iris-rows');
        return x.status === 404 ? x : undefined;
      }, 5_000, 'archived model no longer served');
      expect(p.body.detail).toMatch(/model iris-rows is archived \(since .*, request .*: superseded by iris-csv\)/);
      expectProblem(await api.client.post('/models/iris-rows/train', { json: { samples: [] } }), 404, 'not_found');
      expectProblem(await api.client.get('/models/iris-rows'), 404, 'not_found');
    }
    const names = (await other.client.get('/models')).body.models.map((m: { name: string }) => m.name);
    expect(names).not.toContain('iris-rows');
    expect(names).toContain('iris-csv');
    expect(Object.keys((await other.client.get('/health')).body.models)).not.toContain('iris-rows');
    const all = (await other.client.get('/models?include_archived=true')).body.models;
    expect(all.find((m: { name: string }) => m.name === 'iris-rows')).toMatchObject({
      archived: true,
      state: 'archived',
      active_version: before.at(-1)?.state.active,
      archive: { reason: 'superseded by iris-csv', request_id: r.headers.get('x-request-id') },
    });
    expect((await new ModelStore(s.dataDir, 'iris-rows').readHistory()).entries).toEqual(before);
    expectProblem(await s.api.client.post('/models', { json: { spec: specNamed('iris-rows'), data: { csv: IRIS_CSV } } }), 409, 'conflict');
    expectProblem(await s.api.client.delete('/models/iris-rows'), 404, 'not_found');
    expectProblem(await s.api.client.get('/models?include_archived=maybe'), 422, 'validation_failed');
  });

  it('the default model cannot be archived; an unknown model is a 404', async () => {
    const r = await s.api.client.delete('/models/iris');
    expectProblem(r, 409, 'conflict');
    expect(r.body.detail).toMatch(/default model iris cannot be archived/);
    expect((await predict(s.api, 'iris')).status).toBe(200);
    expectProblem(await s.api.client.delete('/models/no-such-model'), 404, 'not_found');
  });

  it('an archived built-in model stays archived across restarts of the API and the trainer', async () => {
    const r = await s.api.client.delete('/models/penguins-knn', { headers: wait });
    expect(r.body).toMatchObject({ state: 'completed', result: { status: 'archived' } });
    await eventually(async () => (await predict(other, 'penguins-knn')).status === 404, 5_000, 'archived on the second replica');
    // A fresh API replica (a restart) never serves it.
    const restarted = await startApi({ dataDir: s.dataDir, prefix: s.prefix, predictionLog: false });
    try {
      expect(Object.keys((await restarted.client.get('/health')).body.models)).not.toContain('penguins-knn');
      expect((await predict(restarted, 'penguins-knn')).body.detail).toMatch(/is archived/);
      // A registered model is served after a restart too: learned from its spec.json.
      await eventually(async () => (await predict(restarted, 'iris-csv')).status === 200, 10_000, 'registered model after a restart');
    } finally {
      await restarted.close();
    }
    // A trainer (re)started with penguins-knn in its catalogue neither bootstraps nor trains it.
    const trainer = await startTrainer({ dataDir: s.dataDir, prefix: s.prefix, models: ['iris', 'penguins-knn'] });
    const queue = new Queue('train-penguins-knn', { connection: TEST_REDIS, prefix: s.prefix });
    try {
      expect(await queue.getJob('penguins-knn.bootstrap')).toBeUndefined();
      expect(existsSync(join(s.dataDir, 'models', 'penguins-knn', 'history'))).toBe(false);
    } finally {
      await queue.close();
      await trainer.close();
    }
  });
});
